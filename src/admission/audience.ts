// Which token audiences the API server accepts (semantics §2.2).
//
// kube-apiserver intersects a token's `aud` with `--api-audiences`, which defaults to the issuer
// (`--service-account-issuer`). A projected token without an audience gets the API server's own audiences.
// Any other audience (`vault`, `sts.amazonaws.com`) is rejected unless the cluster adds it to --api-audiences,
// so such a token is a credential for something else, not for the Kubernetes API.

/** Issuer URLs used as the default API audience by common distributions. */
const DEFAULT_API_AUDIENCES = new Set([
  'https://kubernetes.default.svc.cluster.local', // kubeadm, kind, k3s default issuer
  'https://kubernetes.default.svc',
  'kubernetes.default.svc',
  'https://kubernetes.default.svc.cluster.local/', // trailing-slash spelling seen in some clusters
]);

/** Managed-cluster issuers (EKS, GKE, AKS): the cluster's own issuer is its default API audience. */
const MANAGED_ISSUER_PATTERNS: readonly RegExp[] = [
  /^https:\/\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Za-z0-9]+$/,
  /^https:\/\/container\.googleapis\.com\/v1\/projects\/[^/]+\/(locations|zones)\/[^/]+\/clusters\/[^/]+$/,
  /^https:\/\/[a-z0-9-]+\.oic\.prod-aks\.azure\.com\/.+$/,
];

export interface AudienceOptions {
  /** Extra audiences the cluster's --api-audiences accepts. */
  apiAudiences?: readonly string[];
}

/** Whether a projected token with this audience is accepted by the API server (undefined/'' = API audiences). */
export function isApiAudience(audience: string | undefined, opts: AudienceOptions = {}): boolean {
  if (audience === undefined || audience === '') return true;
  if (DEFAULT_API_AUDIENCES.has(audience) || opts.apiAudiences?.includes(audience)) return true;
  return MANAGED_ISSUER_PATTERNS.some((re) => re.test(audience));
}
