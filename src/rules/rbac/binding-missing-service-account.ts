// A binding whose ServiceAccount subject does not exist: the grant is dormant, and whoever can create a
// ServiceAccount of that name in that namespace (anyone with `create serviceaccounts` there) picks it up.
// Reported only where the input is known to hold the namespace's ServiceAccounts.
import type { Finding, Rule } from '../../analysis/types.ts';
import { rbacAnalysisOf } from '../../rbac/index.ts';
import { serviceAccountKey } from '../../inventory/types.ts';
import { bindingName, grantOfBinding, judgeGrant, subjectServiceAccount } from './util.ts';

export const RULE_ID = 'rbac-binding-missing-service-account';

export const bindingMissingServiceAccount: Rule = {
  id: RULE_ID,
  severity: 'medium',
  title: 'Binding to a ServiceAccount that does not exist',
  explanation:
    'RBAC matches service accounts by name, not by UID, so a binding to a missing ServiceAccount is a standing grant: creating a ' +
    'ServiceAccount with that name later (by anyone allowed to) hands it the role. Often a typo or a leftover from an uninstall. ' +
    'Checked only for namespaces whose ServiceAccounts the input holds (a live scan, or manifests that declare ServiceAccounts there).',
  remediation: 'Remove the subject (or the binding), or create the intended ServiceAccount and fix the subject name.',
  check(ctx) {
    const rbac = rbacAnalysisOf(ctx);
    if (!rbac) return [];
    const inv = ctx.inventory;
    const nsWithSAs = new Set([...inv.serviceAccounts.values()].map((s) => s.namespace));
    const known = (ns: string) => inv.completeServiceAccounts || nsWithSAs.has(ns);
    const out: Finding[] = [];
    for (const b of [...rbac.engine.clusterRoleBindings, ...rbac.engine.roleBindings]) {
      if (b.builtin) continue;
      for (const s of b.subjects) {
        const sa = subjectServiceAccount(s, b);
        // `default` always exists (the ServiceAccount controller creates it).
        if (!sa || sa.name === 'default' || !known(sa.namespace)) continue;
        if (inv.serviceAccounts.has(serviceAccountKey(sa.namespace, sa.name))) continue;
        const g = grantOfBinding(rbac, b, s);
        const judged = g ? judgeGrant(rbac, g) : undefined;
        const severity = judged && judged.dangerous.length > 0 ? 'high' : 'medium';
        out.push({
          rule: RULE_ID,
          severity,
          resource: { kind: b.kind, ...(b.kind === 'RoleBinding' ? { namespace: b.namespace } : {}), name: b.name },
          message: `${bindingName(b)} names ServiceAccount ${sa.namespace}/${sa.name}, which is not in the input${judged?.dangerous.length ? ` (the role grants ${judged.dangerous.map((d) => d.id).join(', ')})` : ''}; creating it would inherit ${b.roleRef.kind} ${b.roleRef.name}`,
          location: b.location,
          details: { serviceAccount: `${sa.namespace}/${sa.name}`, role: b.roleRef, dangerous: judged?.dangerous.map((d) => d.id) ?? [] },
        });
      }
    }
    return out;
  },
};
