// Legacy `kubernetes.io/service-account-token` Secrets hold a JWT with no expiry and no audience (semantics §2.4):
// valid for the API until the Secret is deleted. Manual ones are never cleaned up by the control plane.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { nameOf, resourceOf } from './util.ts';

export const legacySecretToken: Rule = workloadRule({
  id: 'token-legacy-secret',
  severity: 'high',
  title: 'Legacy token Secret in use',
  explanation:
    'The pod reads a `kubernetes.io/service-account-token` Secret (volume, projected secret, env or envFrom). Such tokens never expire, ' +
    'are not bound to the pod, and are accepted by the API server until the Secret is deleted; manually created ones are never cleaned ' +
    'up (KEP-2799, semantics §2.4). The token authenticates as the Secret\'s ServiceAccount, which need not be the pod\'s.',
  remediation:
    'Use the automounted token or a projected serviceAccountToken volume (short-lived, pod-bound) instead, then delete the Secret. ' +
    'If something outside the cluster needs a token, issue it with `kubectl create token` (TokenRequest) with an expiry.',
  checkWorkload: (_ctx, r) =>
    r.token.sources
      .filter((s) => s.kind === 'legacy-secret' || s.kind === 'env')
      .map((s) => ({
        rule: 'token-legacy-secret',
        severity: s.apiAudience === true ? ('high' as const) : ('low' as const),
        resource: resourceOf(r),
        message: `${nameOf(r)} uses legacy token Secret ${r.namespace}/${s.secret} of ServiceAccount ${s.serviceAccount} ${s.kind === 'env' ? 'as an environment variable' : `through volume ${s.volume}`} in ${s.containers.join(', ')}${s.apiAudience === true ? ' (never expires)' : ' (invalidated; the API server rejects it)'}`,
        location: r.location,
        details: { secret: s.secret, via: s.kind, serviceAccount: s.serviceAccount, containers: s.containers },
      })),
});
