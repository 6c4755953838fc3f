// Admission looks the ServiceAccount up and rejects the pod if it does not exist (semantics §1.2 step 3).
// Offline, a name the input does not contain (other than `default`, which the ServiceAccount controller keeps in
// every namespace) cannot be judged: the verdict is `unknown`, never a silent pass.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { nameOf, resourceOf } from './util.ts';

export const serviceAccountMissing: Rule = workloadRule({
  id: 'token-service-account-missing',
  severity: 'medium',
  title: 'ServiceAccount referenced but not found',
  explanation:
    'The pod names a ServiceAccount that is not in the input. If it is missing in the cluster too, the API server rejects the pod ' +
    '("error looking up service account"); if it exists there, its automountServiceAccountToken decides whether a token is mounted, ' +
    'so the token verdict is unknown until the ServiceAccount is scanned as well.',
  remediation: 'Add the ServiceAccount to the scanned manifests (or scan the live cluster), or fix the name in the pod template.',
  checkWorkload: (ctx, r, w) => {
    if (r.serviceAccountStatus !== 'missing') return undefined;
    const complete = ctx.inventory.completeServiceAccounts;
    // A pod read back from a dump already went through admission; without the full SA list nothing is unknown.
    if (w.alreadyAdmitted && !complete) return undefined;
    if (w.alreadyAdmitted) {
      return {
        rule: 'token-service-account-missing',
        severity: 'medium' as const,
        resource: resourceOf(r),
        message: `${nameOf(r)} runs as ServiceAccount ${r.namespace}/${r.serviceAccount}, which no longer exists: its token is rejected and the pod cannot be re-created`,
        location: r.location,
        details: { serviceAccount: r.serviceAccount, complete },
      };
    }
    return {
      rule: 'token-service-account-missing',
      severity: ('medium' as const),
      resource: resourceOf(r),
      message: complete
        ? `${nameOf(r)} uses ServiceAccount ${r.namespace}/${r.serviceAccount}, which does not exist: the API server rejects its pods`
        : `${nameOf(r)} uses ServiceAccount ${r.namespace}/${r.serviceAccount}, which is not in the input: token verdict ${r.token.mounted === 'unknown' ? 'unknown' : 'decided by the pod alone'}`,
      location: r.location,
      details: { serviceAccount: r.serviceAccount, complete },
    };
  },
});
