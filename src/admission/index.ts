// Public entry of the admission model: what token each workload's pods really get (semantics §1–2).
export {
  resolveWorkloadToken,
  effectiveServiceAccount,
  lookupServiceAccount,
  automountDecision,
  SA_TOKEN_MOUNT_PATH,
  MIRROR_POD_ANNOTATION,
  KUBE_API_ACCESS_PREFIX,
  AUTOMOUNT_EXPIRATION_SECONDS,
  PROJECTED_DEFAULT_EXPIRATION_SECONDS,
  LEGACY_TOKEN_INVALID_SINCE_LABEL,
  GENERATED_VOLUME_NAME,
} from './resolve.ts';
export type { ResolveOptions, EffectiveServiceAccount, ServiceAccountLookup } from './resolve.ts';
export { isApiAudience } from './audience.ts';
export type { AudienceOptions } from './audience.ts';
