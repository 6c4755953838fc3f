// What the audit-log reader hands to the evidence layer: one compact record per completed request made
// with a service-account identity, plus statistics about everything it read.
import type { InputProblem } from '../../inventory/types.ts';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The part of `audit.k8s.io/v1` Event.objectRef the evidence uses; absent for non-resource URLs. */
export interface CallObjectRef {
  apiGroup: string;
  resource: string;
  subresource?: string;
  /** Absent for cluster-scoped resources and for list/watch across all namespaces. */
  namespace?: string;
  /** Absent for create, list/watch without a `metadata.name` field selector, deletecollection. */
  name?: string;
}

/** Who a service-account request impersonated (the caller's token was the service account's). */
export interface ImpersonationTarget {
  username: string;
  groups: string[];
  extra: Record<string, string[]>;
  uid?: string;
}

/** One request made with a service-account identity, counted once (its ResponseComplete or Panic stage). */
export interface ServiceAccountCall {
  auditID: string;
  stage: string;
  /** RBAC verb; for non-resource URLs the lower-case HTTP method. */
  verb: string;
  serviceAccount: ServiceAccountRef;
  /**
   * How the service-account identity appears: `token` = the request authenticated with the SA's token
   * (`user` is the SA); `impersonated` = another identity impersonated the SA (`impersonatedUser` is the SA).
   */
  identity: 'token' | 'impersonated';
  /** The impersonator's username when identity is `impersonated`. */
  impersonatedBy?: string;
  /** The identity the SA's token impersonated (identity `token` only). */
  impersonating?: ImpersonationTarget;
  /** From user.extra of a Pod-bound token. */
  podName?: string;
  podUid?: string;
  nodeName?: string;
  credentialId?: string;
  /** The audit annotation `authentication.k8s.io/legacy-token` (a Secret-based token without audience). */
  legacyToken: boolean;
  objectRef?: CallObjectRef;
  /** Path without the query string, for non-resource requests. */
  path?: string;
  /** `authorization.k8s.io/decision` annotation; `undefined` when the event carries none. */
  decision?: 'allow' | 'forbid';
  /** HTTP status of the response when known. */
  code?: number;
  requestReceivedTimestamp: string;
  userAgent?: string;
  file: string;
  line: number;
}

export interface AuditLogStats {
  /** Inputs read, as given or expanded from directories (`-` = stdin). */
  files: string[];
  /** Physical lines read (including empty ones). */
  lines: number;
  /** Lines recognised as audit events (carrying requestReceivedTimestamp). */
  events: number;
  /** Events whose user or impersonatedUser is a service account, any stage. */
  serviceAccountEvents: number;
  /** Service-account requests counted (one per auditID). */
  serviceAccountCalls: number;
  /** Lines that are neither empty nor audit events (invalid JSON, truncated, foreign). */
  malformed: number;
  /** The first malformed lines, `file:line: message` (capped). */
  problems: InputProblem[];
  /** min/max requestReceivedTimestamp over every event read, not only service-account ones. */
  window: { from?: string; to?: string };
  /**
   * Hours (ms since epoch / 3 600 000, floored) that contain at least one event of any identity. A live API
   * server renews leases every few seconds, so an hour without any event inside the window is a gap in the logs.
   */
  hours: Set<number>;
  /**
   * Identity leases (`kube-system/apiserver-…`) renewed by `system:apiserver` in the logs: one per API server
   * whose log was read. Empty when the audit policy drops those events.
   */
  apiServerLeases: Set<string>;
  /**
   * TokenRequests by identities other than nodes, by the credential ID they issued (audit annotation
   * `authentication.kubernetes.io/issued-credential-id`, KEP-4193): joins a later request's
   * user.extra credential-id back to who asked for the token (`kubectl create token`, CI). Kubelet-issued
   * tokens are Pod-bound and identified by their pod, so they are not kept. Capped.
   */
  issuedCredentials: Map<string, { issuer: string; namespace: string; serviceAccount: string; at: string }>;
  /** Per input file: its own window, to tell consecutive rotations from parallel servers. */
  perFile: { file: string; from?: string; to?: string; events: number }[];
}
