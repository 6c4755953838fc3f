// Bindings to the groups every service account (or every identity) is in: system:serviceaccounts (all SAs of
// the cluster), system:serviceaccounts:<ns> (all SAs of a namespace), system:authenticated, system:unauthenticated.
// Every pod token in scope holds the grant, whatever its own ServiceAccount says. Built-in default grants
// (system:basic-user, system:discovery, …) are not reported: they are what "default" means.
import type { Finding, Rule } from '../../analysis/types.ts';
import { rbacAnalysisOf } from '../../rbac/index.ts';
import { loadBuiltinPolicy } from '../../rbac/builtin.ts';
import { bindingName, grantOfBinding, judgeGrant, maxSeverity, shiftSeverity } from './util.ts';

export const RULE_ID = 'rbac-broad-group-binding';

function audience(group: string): string | undefined {
  if (group === 'system:serviceaccounts') return 'every service account in the cluster';
  if (group.startsWith('system:serviceaccounts:')) return `every service account in namespace ${group.slice('system:serviceaccounts:'.length)}`;
  if (group === 'system:authenticated') return 'every authenticated identity (all users and service accounts)';
  if (group === 'system:unauthenticated') return 'anonymous requests';
  return undefined;
}

export const broadGroupBinding: Rule = {
  id: RULE_ID,
  severity: 'high',
  title: 'Role bound to all service accounts or all authenticated users',
  explanation:
    'Every service-account token carries the groups system:serviceaccounts, system:serviceaccounts:<namespace> and system:authenticated. ' +
    'A binding to one of them gives its role to every pod token in scope, so no per-workload least privilege is possible. ' +
    'Grants equal to the built-in defaults (system:basic-user, system:discovery, …) are not reported.',
  remediation: 'Bind the role to the specific ServiceAccounts that need it instead of the group.',
  check(ctx) {
    const rbac = rbacAnalysisOf(ctx);
    if (!rbac) return [];
    let builtinKeys = new Set<string>();
    try {
      const p = loadBuiltinPolicy(rbac.kubernetesVersion);
      builtinKeys = new Set([...p.clusterRoleBindings, ...p.roleBindings].flatMap((b) => b.subjects.map((s) => `${b.kind}/${b.namespace}/${b.name}/${b.roleRef.name}/${s.kind}/${s.name}`)));
    } catch {
      // No built-in data for this release: judge every binding.
    }
    const out: Finding[] = [];
    for (const b of [...rbac.engine.clusterRoleBindings, ...rbac.engine.roleBindings]) {
      if (b.builtin) continue;
      for (const s of b.subjects) {
        if (s.kind !== 'Group') continue;
        const who = audience(s.name);
        if (!who) continue;
        if (builtinKeys.has(`${b.kind}/${b.namespace}/${b.name}/${b.roleRef.name}/${s.kind}/${s.name}`)) continue;
        const g = grantOfBinding(rbac, b, s);
        if (!g) continue;
        const judged = judgeGrant(rbac, g);
        if (judged.onlyDefaults) continue;
        let severity = maxSeverity([judged.severity, 'medium']);
        // Dangerous grants to everyone (not one namespace's service accounts) are a step worse.
        if (judged.dangerous.length > 0 && (s.name === 'system:unauthenticated' || s.name === 'system:authenticated' || s.name === 'system:serviceaccounts')) severity = shiftSeverity(severity, +1);
        const grants = judged.dangerous.length > 0 ? `dangerous permissions: ${judged.dangerous.map((d) => d.id).join(', ')}` : judged.lines.slice(0, 3).join('; ');
        out.push({
          rule: RULE_ID,
          severity,
          resource: { kind: b.kind, ...(b.kind === 'RoleBinding' ? { namespace: b.namespace } : {}), name: b.name },
          message: `${bindingName(b)} gives ${b.roleRef.kind} ${b.roleRef.name} to Group ${s.name}, i.e. ${who}${b.kind === 'RoleBinding' ? ` (in namespace ${b.namespace})` : ''}: ${grants}`,
          location: b.location,
          details: { group: s.name, role: b.roleRef, dangerous: judged.dangerous.map((d) => d.id), scope: g.scope || 'cluster' },
        });
      }
    }
    return out;
  },
};
