// Least privilege, measured: the service account holds rules that no request of any of its users needed during
// the audit window. The generated role (section leastPrivilege) allows exactly what was used.
import type { Finding, Rule } from '../../analysis/types.ts';
import { evidenceSectionOf } from '../../evidence/section.ts';

export const grantedNeverUsed: Rule = {
  id: 'evidence-permissions-granted-never-used',
  severity: 'low',
  title: 'Permissions granted but never used in the audit logs',
  explanation:
    'The workload calls the API, but its service account is granted rules (or parts of rules) that no request of any workload ' +
    'using it needed during the audit window. Unused grants widen what a stolen token can do.',
  remediation:
    'Replace the bindings with the generated least-privilege Role/ClusterRole (`scan --audit-log … -o json`, section leastPrivilege), ' +
    'after checking that rare tasks (upgrades, failover) fall inside the audit window.',
  check(ctx) {
    const section = evidenceSectionOf(ctx);
    if (!section || !section.window.sufficient) return [];
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const lp of section.leastPrivilege) {
      if (!lp.unusedGrants.length) continue;
      const key = `${lp.serviceAccount.namespace}/${lp.serviceAccount.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const lines = lp.unusedGrants.map((u) => `${u.wholeRule ? u.text : u.unusedParts.join(', ')} ${u.scope ? `in ${u.scope}` : 'cluster-wide'} (${u.grant})`);
      const w = lp.workload;
      const report = ctx.workloads.find((r) => r.kind === w.kind && r.namespace === w.namespace && r.name === w.name);
      out.push({
        rule: 'evidence-permissions-granted-never-used',
        severity: 'low',
        resource: { kind: 'ServiceAccount', namespace: lp.serviceAccount.namespace, name: lp.serviceAccount.name },
        message: `ServiceAccount ${key} holds ${lines.length} grant(s) its workloads never used: ${lines.slice(0, 5).join('; ')}${lines.length > 5 ? '; …' : ''}`,
        ...(report ? { location: report.location } : {}),
        details: { unused: lp.unusedGrants.map((u) => ({ grant: u.grant, scope: u.scope, rule: u.rule, wholeRule: u.wholeRule, unusedParts: u.unusedParts })), generatedRoles: lp.roles.map((r) => `${r.kind} ${r.namespace ? r.namespace + '/' : ''}${r.name}`) },
      });
    }
    return out;
  },
};
