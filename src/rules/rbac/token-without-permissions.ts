// A token mounted into a workload whose ServiceAccount can do nothing beyond the defaults every authenticated
// identity has: turning the token off cannot break an API call that would have succeeded. The common advice
// "it probably doesn't need it", made precise by the RBAC engine.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { rbacAnalysisOf } from '../../rbac/index.ts';

export const RULE_ID = 'rbac-token-without-permissions';

export const tokenWithoutPermissions: Rule = workloadRule({
  id: RULE_ID,
  severity: 'low',
  title: 'Token mounted but its ServiceAccount has no permissions: safe to turn off',
  explanation:
    'The workload mounts a service-account token, but RBAC gives its ServiceAccount nothing beyond the built-in defaults every ' +
    'authenticated identity gets (self access reviews, discovery, health and version endpoints). Removing the token cannot make an API call ' +
    'fail that would have succeeded, and it takes a credential away from anything that compromises the pod.',
  remediation: 'Set automountServiceAccountToken: false on the pod template (or on the ServiceAccount if no pod using it needs a token).',
  checkWorkload(ctx, r, w) {
    const rbac = rbacAnalysisOf(ctx);
    if (!rbac) return undefined;
    if (r.token.mounted !== true || r.token.apiAccess === false || !r.permissions?.onlyDefaults) return undefined;
    // Audit evidence outranks the permission reading: a pod seen making allowed calls (discovery, whoami,
    // which need an authenticated identity) would break without its token, defaults or not.
    if (r.token.needed === 'yes') return undefined;
    return {
      rule: RULE_ID,
      severity: 'low',
      resource: { kind: r.kind, namespace: r.namespace, name: r.name },
      message: `${r.kind} ${r.namespace}/${r.name} mounts a token of ServiceAccount ${r.namespace}/${r.serviceAccount}, which has no permissions beyond the defaults (${rbac.defaultBindings.join(', ')}): safe to turn off`,
      location: w.location,
      details: { serviceAccount: r.serviceAccount, pods: r.pods, defaults: rbac.defaultBindings },
    };
  },
});
