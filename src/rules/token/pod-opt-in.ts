// shouldAutomount (semantics §1.4): the pod's value wins over the ServiceAccount's. A template that says
// `true` while its ServiceAccount says `false` is an explicit opt-in; reported for review, not as a problem.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { at, nameOf, resourceOf } from './util.ts';

export const podOptIn: Rule = workloadRule({
  id: 'token-pod-opt-in',
  severity: 'info',
  title: 'Pod template turns the token back on',
  explanation:
    'The ServiceAccount sets automountServiceAccountToken: false, but the pod template sets it to true, and the pod value wins ' +
    '(ServiceAccount admission `shouldAutomount`, semantics §1.4). This is how well-run projects give one workload a token while ' +
    'keeping the ServiceAccount default off; it is listed so the opt-in is a visible, reviewed decision.',
  remediation: 'Nothing to do if the workload calls the API. Otherwise remove the pod-level `automountServiceAccountToken: true`.',
  checkWorkload: (_ctx, r) => {
    const a = r.token.automount;
    if (a.decidedBy !== 'pod' || a.podValue !== true || a.serviceAccountValue !== false) return undefined;
    return {
      rule: 'token-pod-opt-in',
      severity: ('info' as const),
      resource: resourceOf(r),
      message: `${nameOf(r)} sets automountServiceAccountToken: true (${at(a.podLocation)}) while ServiceAccount ${r.namespace}/${r.serviceAccount} sets false (${at(a.serviceAccountLocation)}); the pod value wins`,
      location: a.podLocation ?? r.location,
      details: { podLocation: a.podLocation, serviceAccountLocation: a.serviceAccountLocation },
    };
  },
});
