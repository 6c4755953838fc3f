// The one normalised inventory every analysis reads.
//
// Sources (manifests, a live cluster, a snapshot) produce `SourcedObject`s; `buildInventory`
// (src/inventory/build.ts) folds them into an `Inventory`. Analyses never look at raw input again,
// so offline and live scans of the same objects give the same answers by construction.

/** Where an object came from, for reports and fix edits. `line` is 1-based; 0 when unknown (live objects). */
export interface SourceLocation {
  /** File path as the user gave it, `-` for stdin, or `cluster:<context>` for live objects. */
  file: string;
  line: number;
  column?: number;
  /** 0-based index of the YAML/JSON document inside the file. */
  document?: number;
  /** JSON-pointer-like path of the object inside its document when it came from a List (`items/3`). */
  itemPath?: string;
}

export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

/** Any Kubernetes object as read (after YAML 1.1 scalar resolution); fields are checked before use. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface SourcedObject {
  object: KubeObject;
  location: SourceLocation;
  /**
   * Line (1-based) of a field inside this object, e.g. ['spec','template','spec','automountServiceAccountToken'],
   * when the reader kept positions (YAML manifests). Undefined for streamed dumps and live objects.
   */
  lineOf?: (path: readonly (string | number)[]) => number | undefined;
  /**
   * The source text of a scalar field exactly as written (e.g. `no`, `"false"`, `False`, `true`), when the
   * reader kept it (YAML manifests). Used to flag non-canonical booleans such as `automountServiceAccountToken: no`
   * that Kubernetes (YAML 1.1) reads as a boolean. Undefined when unknown (JSON, live objects).
   */
  sourceText?: (path: readonly (string | number)[]) => string | undefined;
  /**
   * Where the object's bytes can be read again (a List item of a regular file). Set by the JSON reader for Pods,
   * and only when the file lists other kinds after them: the builder may then keep an owned Pod as a compact
   * record and build it in full only if its owner turns out to be absent (see inventory/deferred-pods.ts).
   */
  reread?: { by: ObjectRereader; start: number; end: number };
}

/** Reads the bytes of an object again from its file (an offset range, as the reader recorded it). */
export interface ObjectRereader {
  /** The file as the user gave it. */
  readonly file: string;
  /** The bytes at [start, end); throws when they cannot be read (the file shrank or went away). */
  read(start: number, end: number): Buffer;
  /** Releases the file (called once the inventory is finished). */
  close(): void;
}

/** A problem with one input that did not stop the others. Rendered as one line: `file:line: message`. */
export interface InputProblem {
  file: string;
  line: number;
  message: string;
  /** `error` makes the exit code 3 (unreadable input); `warning` is reported only. */
  level: 'error' | 'warning';
}

// ---- Pod spec subset the analyses read (field names exactly as in core/v1) ----

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key?: string; optional?: boolean };
    [k: string]: unknown;
  };
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  configMapRef?: { name?: string; optional?: boolean };
}

export interface Container {
  name: string;
  image?: string;
  volumeMounts?: VolumeMount[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  /** `Always` on an init container makes it a sidecar. */
  restartPolicy?: string;
  [k: string]: unknown;
}

export interface ServiceAccountTokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

export interface VolumeProjection {
  serviceAccountToken?: ServiceAccountTokenProjection;
  secret?: { name?: string; items?: { key: string; path: string }[]; optional?: boolean };
  configMap?: { name?: string; items?: { key: string; path: string }[] };
  downwardAPI?: unknown;
  [k: string]: unknown;
}

export interface Volume {
  name: string;
  projected?: { sources?: VolumeProjection[]; defaultMode?: number };
  secret?: { secretName?: string; optional?: boolean };
  [k: string]: unknown;
}

export interface PodSpec {
  serviceAccountName?: string;
  /** Deprecated alias of serviceAccountName (core/v1 DeprecatedServiceAccount). */
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Volume[];
  imagePullSecrets?: { name?: string }[];
  [k: string]: unknown;
}

export interface PodTemplate {
  metadata: ObjectMeta;
  spec: PodSpec;
}

/** The kinds the analysis treats as pod-producing workloads. Custom resources use their own kind string. */
export type WorkloadKind =
  | 'Pod'
  | 'Deployment'
  | 'ReplicaSet'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob'
  | 'ReplicationController'
  | (string & {});

/**
 * A workload: a Pod, or an object holding a pod template. Pods owned (directly or through a
 * ReplicaSet/Job) by another workload of the same input are folded into it: `pods` counts them.
 */
export interface Workload {
  kind: WorkloadKind;
  apiVersion: string;
  namespace: string;
  name: string;
  uid?: string;
  location: SourceLocation;
  /**
   * The pod template (for a Pod: its own spec, and of its metadata only the mirror-pod annotation), pruned to
   * what decides a token verdict (see `prune` in build.ts). Read-only: pods read back from a cluster that differ
   * only in names share one spec object, their `kube-api-access-<random>` volume renamed `kube-api-access-*`.
   */
  template: PodTemplate;
  /** Path from the object root to the template object, e.g. ['spec','jobTemplate','spec','template']; [] for a Pod. */
  templatePath: string[];
  /**
   * Pods of the input reported under this workload (for a Pod not owned by anything: 1 = itself). `names` and
   * `uids` of folded pods stay empty when the builder does not keep them (InventoryBuilderOptions.keepPodIdentities).
   */
  pods: { count: number; names: string[]; uids: string[] };
  /** Direct owner as declared, when it is not in the input (e.g. a Pod owned by an absent ReplicaSet). */
  ownerReferences?: OwnerReference[];
  /**
   * A Pod read back from a cluster (live scan, or a dump: it has a uid, creationTimestamp or status). Admission
   * already ran on it, so its volumes (an injected `kube-api-access-*` volume or none) are the truth and are not
   * simulated again. Always false for templates and for Pod manifests that are yet to be created.
   */
  alreadyAdmitted: boolean;
  /**
   * Template fields that had the wrong type (each also reported as an input problem), as dotted paths
   * (`spec.template.spec.automountServiceAccountToken`). Verdicts that depend on them are `unknown`.
   */
  typeErrors?: string[];
  /**
   * Pods read back from a cluster that were folded into this workload, and how many of them carry the injected
   * token now (they were admitted with the ServiceAccount settings of their creation time, which may differ).
   */
  admittedPods?: { count: number; withInjectedToken: number };
  /** Source line of the template's `automountServiceAccountToken`, and how it was spelled (non-canonical-boolean rule). */
  automountLine?: number;
  automountSpelling?: string;
  /** metadata.resourceVersion as read from a live cluster (fix --apply patches with it: optimistic concurrency). */
  resourceVersion?: string;
}

/** One Pod object of the input, in input order, as the well-known jq audit sees it (`--format jq-audit`). */
export interface PodRecord {
  /** Raw `metadata.namespace` / `metadata.name` / `spec.serviceAccountName` values (may be absent or odd types). */
  namespace: unknown;
  name: unknown;
  serviceAccountName: unknown;
  /** Whether `spec.automountServiceAccountToken` is exactly boolean false. */
  automountFalse: boolean;
}

export interface ServiceAccount {
  namespace: string;
  name: string;
  uid?: string;
  /** undefined = not set. */
  automountServiceAccountToken?: boolean;
  /** How the input spelled automount (for the non-canonical-boolean rule), e.g. `no`, `"false"`, `False`. */
  automountSpelling?: string;
  secrets: string[];
  imagePullSecrets: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  location: SourceLocation;
  /** Fields that had the wrong type (reported as input problems); `automountServiceAccountToken` here makes it unknown. */
  typeErrors?: string[];
  /** metadata.resourceVersion as read from a live cluster (fix --apply patches with it). */
  resourceVersion?: string;
}

/** Metadata of a `kubernetes.io/service-account-token` Secret. The values are never read. */
export interface TokenSecret {
  namespace: string;
  name: string;
  serviceAccountName?: string;
  serviceAccountUid?: string;
  labels: Record<string, string>;
  location: SourceLocation;
}

// ---- RBAC objects, normalised with the v1 defaults (pkg/apis/rbac/v1/defaults.go) ----

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface RbacRole {
  kind: 'Role' | 'ClusterRole';
  /** '' for ClusterRoles. */
  namespace: string;
  name: string;
  rules: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  location: SourceLocation;
  /** True for the built-in policy of the pinned release (data/), false for input objects. */
  builtin: boolean;
}

export interface RbacSubject {
  kind: 'ServiceAccount' | 'User' | 'Group' | (string & {});
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RbacBinding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  namespace: string;
  name: string;
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: RbacSubject[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  location: SourceLocation;
  builtin: boolean;
}

/** A part of the cluster a live scan could not read (403, or skipped), and which verdicts it weakens. */
export interface CoverageGap {
  resource: string;
  namespace?: string;
  reason: string;
  /** Human-readable list of verdicts that became `unknown` because of this gap. */
  weakens: string[];
}

export interface Inventory {
  /** Namespaces declared (Namespace objects) or used by any object. */
  namespaces: Set<string>;
  /** Namespaces declared by Namespace objects, with labels (Pod Security labels etc.). */
  namespaceObjects: Map<string, { labels: Record<string, string>; location: SourceLocation }>;
  /** Keyed by `namespace/name`. */
  serviceAccounts: Map<string, ServiceAccount>;
  workloads: Workload[];
  /** Keyed by `namespace/name`. */
  tokenSecrets: Map<string, TokenSecret>;
  roles: RbacRole[];
  clusterRoles: RbacRole[];
  roleBindings: RbacBinding[];
  clusterRoleBindings: RbacBinding[];
  /** Documents that are not Kubernetes objects, or kinds the analysis ignores, counted by reason. */
  skipped: { count: number; byReason: Record<string, number> };
  problems: InputProblem[];
  /** Where the objects came from: manifests (offline) or a live cluster. */
  origin: 'manifests' | 'cluster';
  /** Server version for live scans (`v1.36.3`); used to pick the built-in RBAC policy. */
  serverVersion?: string;
  /** Parts of a live cluster that could not be read. Empty offline. */
  gaps: CoverageGap[];
  /** Whether the input is known to hold every ServiceAccount of its namespaces (live scans, snapshots). */
  completeServiceAccounts: boolean;
  /** Every Pod object of the input in input order (also those folded into owners), for `--format jq-audit`. */
  podRecords?: PodRecord[];
  /** Secrets seen in the input that are NOT service-account tokens, keyed `namespace/name` (type only, never data). */
  otherSecrets?: Map<string, { type: string }>;
  /** Number of documents read (sink.document calls). */
  documents?: number;
}

export const serviceAccountKey = (namespace: string, name: string): string => `${namespace}/${name}`;
