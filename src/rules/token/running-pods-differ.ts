// Admission runs once, when a pod is created (semantics §1.1: "only mutate pods during create requests").
// Changing automountServiceAccountToken on a ServiceAccount or template does not touch running pods: they keep
// (or keep lacking) the token until they are re-created. Seen only when the input holds the running pods.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { nameOf, resourceOf } from './util.ts';

export const runningPodsDiffer: Rule = workloadRule({
  id: 'token-running-pods-differ',
  severity: 'medium',
  title: 'Running pods do not match the template',
  explanation:
    'Admission decides the token once, when the pod is created (semantics §1.1). The workload\'s template (with its ServiceAccount as it is ' +
    'now) would give its pods no automounted token, but pods of it that are running now were admitted earlier and still carry one ' +
    '(or the other way round). A fix to automountServiceAccountToken only takes effect when the pods are re-created.',
  remediation: 'Re-create the pods (e.g. `kubectl rollout restart deployment/<name>`) so they are admitted with the current settings.',
  checkWorkload: (_ctx, r, w) => {
    const ap = w.admittedPods;
    if (!ap || ap.count === 0) return undefined;
    const templateGives = r.token.sources.some((s) => s.kind === 'automount' && s.containers.length > 0);
    const templateDecided = r.token.automount.effective !== 'unknown' && !(w.typeErrors ?? []).length;
    if (!templateDecided) return undefined;
    if (!templateGives && ap.withInjectedToken > 0) {
      return {
        rule: 'token-running-pods-differ',
        severity: 'medium' as const,
        resource: resourceOf(r),
        message: `${nameOf(r)} would get no automounted token now, but ${ap.withInjectedToken} of its ${ap.count} running pods still carry one (admitted before the change): re-create them`,
        location: r.location,
        details: { runningPods: ap.count, withInjectedToken: ap.withInjectedToken },
      };
    }
    if (templateGives && ap.withInjectedToken < ap.count) {
      return {
        rule: 'token-running-pods-differ',
        severity: 'info' as const,
        resource: resourceOf(r),
        message: `${nameOf(r)} would get an automounted token now, but ${ap.count - ap.withInjectedToken} of its ${ap.count} running pods have none (admitted under other settings)`,
        location: r.location,
        details: { runningPods: ap.count, withInjectedToken: ap.withInjectedToken },
      };
    }
    return undefined;
  },
});
