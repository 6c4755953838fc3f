// A binding to a namespace's `default` ServiceAccount: every pod that names no ServiceAccount runs as `default`
// (ServiceAccount admission), so the grant silently reaches every such pod of the namespace, now and later.
import type { Finding, Rule } from '../../analysis/types.ts';
import { rbacAnalysisOf } from '../../rbac/index.ts';
import { bindingName, blastRadius, grantOfBinding, judgeGrant, shiftSeverity, subjectServiceAccount } from './util.ts';

export const RULE_ID = 'rbac-default-service-account-binding';

export const defaultServiceAccountBinding: Rule = {
  id: RULE_ID,
  severity: 'medium',
  title: 'Role bound to a default ServiceAccount',
  explanation:
    'Pods that do not set serviceAccountName run as their namespace\'s `default` ServiceAccount, so a role bound to it is held by every such ' +
    'pod, including ones added later by people who never saw the binding. Severity follows what the role grants and rises with the number ' +
    'of workloads and pods that mount the token (the blast radius, in details).',
  remediation:
    'Bind the role to a dedicated ServiceAccount used only by the workload that needs it, remove the subject from this binding, and keep ' +
    'automountServiceAccountToken: false on `default`.',
  check(ctx) {
    const rbac = rbacAnalysisOf(ctx);
    if (!rbac) return [];
    const out: Finding[] = [];
    for (const b of [...rbac.engine.clusterRoleBindings, ...rbac.engine.roleBindings]) {
      if (b.builtin) continue;
      for (const s of b.subjects) {
        const sa = subjectServiceAccount(s, b);
        if (!sa || sa.name !== 'default') continue;
        const g = grantOfBinding(rbac, b, s);
        const judged = g ? judgeGrant(rbac, g) : undefined;
        if (judged?.onlyDefaults) continue;
        const radius = blastRadius(ctx, sa.namespace, 'default');
        let severity = judged ? judged.severity : 'low';
        if (judged && radius.workloadsWithToken === 0) severity = shiftSeverity(severity, -1);
        if (radius.podsWithToken >= 10) severity = shiftSeverity(severity, +1);
        const grants = !g ? `role ${b.roleRef.kind} ${b.roleRef.name}, which does not exist (yet)` : judged!.dangerous.length > 0 ? judged!.dangerous.map((d) => d.id).join(', ') : judged!.lines.slice(0, 3).join('; ');
        out.push({
          rule: RULE_ID,
          severity,
          resource: { kind: b.kind, ...(b.kind === 'RoleBinding' ? { namespace: b.namespace } : {}), name: b.name },
          message: `${bindingName(b)} grants ServiceAccount ${sa.namespace}/default ${grants}; ${radius.workloadsWithToken} workload(s) / ${radius.podsWithToken} pod(s) mount that token (${radius.workloads} workload(s) use the ServiceAccount)`,
          location: b.location,
          details: { serviceAccount: `${sa.namespace}/default`, role: b.roleRef, dangerous: judged?.dangerous.map((d) => d.id) ?? [], ...radius },
        });
      }
    }
    return out;
  },
};
