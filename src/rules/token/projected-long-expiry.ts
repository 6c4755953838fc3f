// A hand-made projected token's lifetime is what the pod asks for (up to --service-account-max-token-expiration).
// The kubelet refreshes a projected token at 80 % of its TTL or after 24 hours, whichever comes first
// (core/v1 ServiceAccountTokenProjection.expirationSeconds; semantics §2.3). So an application re-reading the file
// never benefits from more than 24 h, while a stolen copy stays valid for the whole requested lifetime.
// Threshold: more than 24 h (86,400 s).
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { nameOf, resourceOf } from './util.ts';

export const LONG_EXPIRY_SECONDS = 86_400;

export const projectedLongExpiry: Rule = workloadRule({
  id: 'token-projected-long-expiry',
  severity: 'medium',
  title: 'Hand-made token volume with a long expiry',
  explanation:
    'A projected serviceAccountToken volume asks for a token valid for more than 24 hours. The kubelet refreshes projected tokens after ' +
    '80 % of their lifetime or 24 hours at the latest, so a longer lifetime gives the application nothing and only keeps a leaked ' +
    'token usable longer (semantics §2.3). Severity is low when the audience is not the API server (the token is then a credential ' +
    'for that other service only).',
  remediation: 'Lower `expirationSeconds` to 3600 (the default) or at most 86400, and make sure the application re-reads the token file.',
  checkWorkload: (_ctx, r) =>
    r.token.sources
      .filter((s) => s.kind === 'projected' && (s.expirationSeconds ?? 0) > LONG_EXPIRY_SECONDS)
      .map((s) => ({
        rule: 'token-projected-long-expiry',
        severity: s.apiAudience === true ? ('medium' as const) : ('low' as const),
        resource: resourceOf(r),
        message: `${nameOf(r)} projects a token in volume ${s.volume} valid for ${s.expirationSeconds}s (${((s.expirationSeconds ?? 0) / 3600).toFixed(0)} h) for ${s.audiences?.length ? 'audience ' + s.audiences.join(',') : 'the API server'}, into ${s.containers.join(', ')}`,
        location: r.location,
        details: { volume: s.volume, expirationSeconds: s.expirationSeconds, audiences: s.audiences, apiAudience: s.apiAudience },
      })),
});
