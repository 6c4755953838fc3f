// What the pure analyses produce: per-workload token verdicts, permissions, need, and findings.
// Reports (src/report/) and remedies (src/remedy/) read only these types.

import type { SourceLocation, Workload, Inventory, CoverageGap } from '../inventory/types.ts';

/** A three-valued answer: never a silent pass when the input cannot decide. */
export type Tri = true | false | 'unknown';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** How a token reaches containers. */
export type TokenSourceKind = 'automount' | 'projected' | 'legacy-secret' | 'env';

export interface TokenSource {
  kind: TokenSourceKind;
  /** Volume name (automount: the kube-api-access-* volume; projected: the user's volume). */
  volume?: string;
  /** Legacy token Secret name (legacy-secret, env). */
  secret?: string;
  /** Requested audiences; [] = the API server's own audiences. */
  audiences?: string[];
  expirationSeconds?: number;
  /**
   * `namespace/name` of the ServiceAccount the token authenticates as. Set for legacy Secrets (the Secret's
   * `kubernetes.io/service-account.name`, which need not be the pod's SA); otherwise the pod's own SA.
   */
  serviceAccount?: string;
  /** Whether the API server accepts this token (audience includes the API audience, or none given). */
  apiAudience: Tri;
  /** Containers that receive it (mount or env). */
  containers: string[];
  /** One sentence: what this source is and why it counts. */
  detail: string;
}

/** Where the effective automount value came from (ServiceAccount admission `shouldAutomount`). */
export interface AutomountDecision {
  effective: Tri;
  decidedBy: 'pod' | 'serviceaccount' | 'default' | 'unknown';
  podValue?: boolean;
  serviceAccountValue?: boolean;
  podLocation?: SourceLocation;
  serviceAccountLocation?: SourceLocation;
}

export type NeedVerdict = 'yes' | 'no' | 'unknown';

export interface TokenVerdict {
  /** Whether any service-account token (automount, projected, legacy) is mounted or injected. */
  mounted: Tri;
  /** Whether a token the API server would accept reaches a container. */
  apiAccess: Tri;
  containers: string[];
  sources: TokenSource[];
  automount: AutomountDecision;
  /** The reason in words, e.g. "automount on by default: neither the pod nor ServiceAccount x sets it". */
  reason: string;
  /** Whether the pod needs an API token (RBAC issue: `no`/`unknown`; evidence issue adds `yes`). */
  needed: NeedVerdict;
  neededReason: string;
}

/** One grant that reaches a subject, for "through which binding". */
export interface GrantPath {
  binding: { kind: 'RoleBinding' | 'ClusterRoleBinding'; namespace: string; name: string };
  role: { kind: 'Role' | 'ClusterRole'; name: string };
  /** How the subject matched: `ServiceAccount x/y`, `Group system:serviceaccounts`, `User system:serviceaccount:…`. */
  via: string;
  /** Namespace where the grant applies ('' = cluster-wide). */
  scope: string;
  builtin: boolean;
}

export interface PermissionSummary {
  /** True when the token grants nothing beyond what every authenticated identity gets by default. */
  onlyDefaults: boolean;
  /** Short lines: `get,list pods in ns/foo (RoleBinding foo/x → Role y)`. */
  lines: string[];
  grants: GrantPath[];
  /** Ids of dangerous permissions held (catalogue in src/rbac/dangerous.ts). */
  dangerous: { id: string; severity: Severity; why: string; scope: string; via: string }[];
  equivalentToClusterAdmin: boolean;
  /**
   * Set when part of the RBAC objects could not be read (live scan without list on roles/bindings): the
   * summary is a lower bound, `onlyDefaults` is false and `needed` is `unknown`. Says what was missing.
   */
  incomplete?: string;
}

export interface WorkloadEvidence {
  firstSeen?: string;
  lastSeen?: string;
  calls: number;
  allowed: number;
  denied: number;
  /** `verb resource[/sub] [ns]` lines. */
  used: string[];
  window: { from?: string; to?: string; days: number };
  attribution: 'pod' | 'service-account';
  /** Denied requests, same format as `used` (audit-log evidence). */
  deniedOps?: string[];
}

export interface WorkloadReport {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  /** `true` in the input; `builtin-default` = `default` SA the cluster creates; `missing` = not in input (unknown). */
  serviceAccountStatus: 'present' | 'builtin-default' | 'missing';
  location: SourceLocation;
  pods: number;
  token: TokenVerdict;
  /**
   * What the workload's ServiceAccount can do. In memory only (not enumerable, so not in `-o json`/`-o yaml`):
   * the report lists each ServiceAccount's permissions once, in `ScanResult.serviceAccounts`.
   */
  permissions?: PermissionSummary;
  evidence?: WorkloadEvidence;
}

/** A ServiceAccount some workload runs as, and what its token can do (one entry per ServiceAccount). */
export interface ServiceAccountReport {
  namespace: string;
  name: string;
  permissions: PermissionSummary;
}

export interface FindingResource {
  kind: string;
  namespace?: string;
  name: string;
}

export interface Finding {
  rule: string;
  severity: Severity;
  resource: FindingResource;
  message: string;
  location?: SourceLocation;
  /** Rule-specific structured facts (blast radius counts, binding names…). */
  details?: Record<string, unknown>;
}

/** How many workloads and pods use a ServiceAccount and carry its token: the blast radius of a grant to it. */
export interface ServiceAccountUsage {
  workloads: number;
  pods: number;
  workloadsWithToken: number;
  podsWithToken: number;
  /** `Kind/name` of the first 20 workloads that carry the token, in report order. */
  names: string[];
}

/** Inputs and analyses handed to every rule. Rules are pure: they only read this. */
export interface RuleContext {
  inventory: Inventory;
  workloads: WorkloadReport[];
  /** The workload objects, index-aligned with `workloads`. */
  workloadObjects: Workload[];
  /** RBAC analysis, when computed (src/rbac/). Typed loosely here to keep the layers apart. */
  rbac?: unknown;
  evidence?: unknown;
  /**
   * Per-ServiceAccount usage counted while the workloads were visited, from an analysis that keeps no list of
   * reports (analysis/streamed-json.ts); without it rules count `workloads`.
   */
  usageOf?(namespace: string, name: string): ServiceAccountUsage;
}

/** A rule module: metadata beside its logic, as ESLint rules and kube-linter templates are. */
export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  /** Why it matters, in one or two sentences, with the Kubernetes behaviour it follows. */
  explanation: string;
  /** What to do about it. */
  remediation: string;
  check(ctx: RuleContext): Finding[];
  /**
   * Present on rules whose findings come from one workload at a time (its report and object, read with the
   * inventory and the RBAC analysis): their `check(ctx)` is `checkWorkload` over `ctx.workloads` in order, then
   * `checkRest` (rules/workload-rule.ts builds it so). A streamed scan calls it as it visits each workload,
   * without holding every report (analysis/streamed-json.ts).
   */
  checkWorkload?(ctx: RuleContext, report: WorkloadReport, workload: Workload): Finding | Finding[] | undefined;
  /** The findings of such a rule that come from no single workload (a ServiceAccount's own spelling, say). */
  checkRest?(ctx: RuleContext): Finding[];
}

export interface ScanSummary {
  workloads: number;
  pods: number;
  withToken: number;
  withApiToken: number;
  tokenNotNeeded: number;
  findingsBySeverity: Record<Severity, number>;
}

export interface ScanResult {
  tool: { name: 'kube-sa-audit'; version: string };
  origin: Inventory['origin'];
  serverVersion?: string;
  workloads: WorkloadReport[];
  /** Each ServiceAccount the workloads run as, with its permissions, in order of first use (RBAC analysis). */
  serviceAccounts?: ServiceAccountReport[];
  findings: Finding[];
  summary: ScanSummary;
  inputs: { documents: number; skipped: number; skippedByReason: Record<string, number>; problems: { file: string; line: number; message: string; level: string }[] };
  /** Parts of a live cluster that could not be read; non-empty means the scan is incomplete. */
  gaps: CoverageGap[];
  /** Extra sections added by later stages (rbac, evidence, leastPrivilege…). */
  [section: string]: unknown;
}
