// Audit-log evidence: did each workload's pods actually call the API, what did they use, and what is the
// least privilege that allows exactly that. Reads the logs once (streamed), attributes every service-account
// request to a pod and its workload, sets `report.evidence` and `report.token.needed`, and returns the
// `evidence` section of the ScanResult (which carries `leastPrivilege`).
//
// Decisions (README "Audit-log evidence" should say the same):
// - A request counts for a workload only when it was made with a Pod-bound token of one of its pods
//   (user.extra pod-name/pod-uid). Requests by someone impersonating the service account are listed under the
//   service account, never as the pod's use of its token.
// - Requests with the SA's token but no pod identity come from a legacy Secret token or a TokenRequest token
//   (`kubectl create token`, CI). Automounted and projected tokens are always Pod-bound (1.22+), so these count
//   only for workloads that can hold such a token (a legacy Secret by volume or env), and only as
//   `attribution: 'service-account'`.
// - need `yes`: at least one allowed request. Requests that every authenticated identity may make (discovery,
//   /version, self-reviews) still mean the pod uses its token: `yes`, with "no role needed" and no generated role.
// - need `no`: no allowed request over a window at least --min-window long (after removing hours in which no
//   event of any identity was logged), or (from the RBAC analysis) nothing beyond the defaults is granted.
//   Denied-only workloads are `no`: removing the token breaks no request that succeeds today.
// - need `unknown`: the window is too short, an input could not be read, fewer API servers' logs than
//   --api-servers were given (seen from their identity-lease renewals), or pod-bound requests of the SA could
//   belong to this workload but could not be matched to any workload.
import type { Readable } from 'node:stream';
import type { Inventory, KubeObject, PolicyRule, Workload } from '../inventory/types.ts';
import type { WorkloadEvidence, WorkloadReport, NeedVerdict } from '../analysis/types.ts';
import type { AuditLogStats } from '../sources/audit-log/types.ts';
import { readAuditLogs } from '../sources/audit-log/read.ts';
import { EvidenceAggregator, describeOps, mergeOps, type OpStats, type PrincipalStats } from './aggregate.ts';
import { WorkloadIndex, hasKnownPodNaming, type AttributionTarget } from './attribution.ts';
import { manifestsOf, rolesAndBindings, rulesFromOps, toYaml, type GeneratedBinding, type GeneratedRole } from './least-privilege.ts';
import { defaultOpPredicate, unusedGrants, type UnusedGrant } from './grants.ts';
import { formatDays, parseWindowDays } from './duration.ts';

export { parseWindowDays, formatDays } from './duration.ts';
export { podNameMatchesWorkload, WorkloadIndex } from './attribution.ts';
export { rulesFromOps } from './least-privilege.ts';
export { writeLeastPrivilegeFiles } from './write.ts';
export type { OpStats, PrincipalStats } from './aggregate.ts';
export type { UnusedGrant } from './grants.ts';

export const DEFAULT_MIN_WINDOW_DAYS = 7;
export const LEGACY_TOKEN_LAST_USED_LABEL = 'kubernetes.io/legacy-token-last-used';
/** Set by the legacy token cleaner before deletion; an invalidated token no longer authenticates. */
export const LEGACY_TOKEN_INVALID_SINCE_LABEL = 'kubernetes.io/legacy-token-invalid-since';

export interface AuditEvidenceOptions {
  /** Files, directories, `.gz`, or `-` for stdin. */
  paths: string[];
  stdin?: Readable;
  /** Minimum covered window for a `no` verdict, in days (default 7; fractions allowed: 10 minutes = 10/1440). */
  minWindowDays?: number;
  now?: Date;
  /** How many API servers the cluster runs; fewer servers' logs given → `unknown` instead of `no`. */
  expectedApiServers?: number;
  /**
   * Parse only events of service accounts the inventory's workloads use (default true). False keeps every
   * service account in the section (slower on big logs).
   */
  onlyInventoryServiceAccounts?: boolean;
}

/** An operation as reported: the aggregated counts, with the names as a sorted list instead of a set. */
export interface OpSummary extends Omit<OpStats, 'names' | 'unnamed'> {
  /** Names the allowed calls targeted; omitted when some were unnamed, `manyNames` when past the cap. */
  names?: string[];
  manyNames?: boolean;
}

export interface WorkloadEvidenceEntry {
  kind: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  needed: NeedVerdict;
  reason: string;
  /** What decided the verdict. */
  basis: 'calls' | 'service-account-calls' | 'legacy-token-label' | 'no-calls-in-window' | 'rbac' | 'insufficient-evidence';
  attribution: 'pod' | 'service-account';
  pods: { name?: string; uid?: string; matchedBy: string; calls: number; allowed: number; denied: number; firstSeen?: string; lastSeen?: string }[];
  calls: number;
  allowed: number;
  denied: number;
  firstSeen?: string;
  lastSeen?: string;
  ops: OpSummary[];
}

export interface ServiceAccountEvidenceEntry {
  namespace: string;
  name: string;
  /** Requests with this SA's token that carry no pod identity (legacy or TokenRequest tokens). */
  withoutPod: {
    calls: number; allowed: number; denied: number; legacyTokenCalls: number; firstSeen?: string; lastSeen?: string; ops: OpSummary[]; userAgents: string[];
    /** Who requested those tokens (TokenRequest events joined on credential ID), e.g. `alice` for `kubectl create token`. */
    issuedBy: { issuer: string; credentials: number }[];
    /** Distinct credential IDs whose TokenRequest is not in the logs (issued before the window, or not a TokenRequest token). */
    credentialsWithoutIssuer: number;
  };
  /** Requests made by other identities impersonating this SA. */
  impersonated: { calls: number; by: string[]; ops: OpSummary[] };
  /** Pod-bound requests whose pod matches no workload of the input (deleted workloads, partial input). */
  unmatchedPods: { name?: string; uid?: string; calls: number; allowed: number; reason: string; firstSeen?: string; lastSeen?: string }[];
}

export interface LeastPrivilegeEntry {
  workload: { kind: string; namespace: string; name: string };
  serviceAccount: { namespace: string; name: string };
  /** Whom the generated bindings name: the current SA, or a dedicated new one when the SA is shared with different needs. */
  subject: { namespace: string; name: string; dedicated: boolean };
  /** True when everything used is allowed to every authenticated identity: no role needed. */
  noRoleNeeded: boolean;
  roles: GeneratedRole[];
  bindings: GeneratedBinding[];
  /** The requests the roles allow, `verbs resource in ns` lines. */
  allows: string[];
  /** Denied requests seen (not granted). */
  denied: string[];
  /** What the SA holds now that no request of any of its users needed. */
  unusedGrants: UnusedGrant[];
  manifests: KubeObject[];
  yaml: string;
}

export interface SharedServiceAccountEntry {
  namespace: string;
  name: string;
  workloads: { kind: string; name: string; needed: NeedVerdict; allows: string[] }[];
  divergent: boolean;
  /** The split the evidence suggests: one SA per distinct set of needs; `automount: false` for the rest. */
  split: { serviceAccount: string; workloads: string[]; allows: string[] }[];
  noTokenNeeded: string[];
}

export interface EvidenceSection {
  inputs: { files: string[]; lines: number; events: number; serviceAccountEvents: number; serviceAccountCalls: number; malformed: number; problems: { file: string; line: number; message: string; level: string }[] };
  window: { from?: string; to?: string; days: number; coveredDays: number; gaps: { from: string; to: string }[]; minWindowDays: number; sufficient: boolean; problems: string[] };
  apiServers: { identityLeases: string[]; expected?: number };
  workloads: WorkloadEvidenceEntry[];
  serviceAccounts: ServiceAccountEvidenceEntry[];
  legacyTokenSecrets: { namespace: string; name: string; serviceAccount?: string; lastUsed?: string; invalidSince?: string }[];
  sharedServiceAccounts: SharedServiceAccountEntry[];
  leastPrivilege: LeastPrivilegeEntry[];
  assumptions: string[];
}

const DAY_MS = 86_400_000;

function opSummary(op: OpStats): OpSummary {
  const s: OpSummary = { verb: op.verb, calls: op.calls, allowed: op.allowed, denied: op.denied };
  if (op.path !== undefined) s.path = op.path;
  else {
    s.apiGroup = op.apiGroup ?? '';
    s.resource = op.resource!;
    if (op.subresource) s.subresource = op.subresource;
    if (op.namespace) s.namespace = op.namespace;
  }
  if (op.names === null) s.manyNames = true;
  else if (op.names.size && op.unnamed === 0) s.names = [...op.names].sort();
  if (op.forImpersonation) s.forImpersonation = true;
  return s;
}

const sortOps = (ops: Iterable<OpStats>): OpSummary[] =>
  [...ops].map(opSummary).sort((a, b) => `${a.namespace ?? ''} ${a.apiGroup ?? ''} ${a.resource ?? a.path} ${a.verb}`.localeCompare(`${b.namespace ?? ''} ${b.apiGroup ?? ''} ${b.resource ?? b.path} ${b.verb}`));

interface Totals { calls: number; allowed: number; denied: number; firstSeen?: string; lastSeen?: string; ops: Map<string, OpStats> }

function totalsOf(ps: readonly PrincipalStats[]): Totals {
  const t: Totals = { calls: 0, allowed: 0, denied: 0, ops: new Map() };
  for (const p of ps) {
    t.calls += p.calls; t.allowed += p.allowed; t.denied += p.denied;
    if (p.firstSeen && (!t.firstSeen || p.firstSeen < t.firstSeen)) t.firstSeen = p.firstSeen;
    if (p.lastSeen && (!t.lastSeen || p.lastSeen > t.lastSeen)) t.lastSeen = p.lastSeen;
    mergeOps(t.ops, p.ops);
  }
  return t;
}

function windowOf(stats: AuditLogStats, minWindowDays: number, opts: AuditEvidenceOptions): EvidenceSection['window'] {
  const { from, to } = stats.window;
  const problems: string[] = [];
  const gaps: { from: string; to: string }[] = [];
  let days = 0;
  let coveredDays = 0;
  if (!from || !to) problems.push('the audit logs hold no events');
  else {
    const a = Date.parse(from);
    const b = Date.parse(to);
    days = Math.max(0, (b - a) / DAY_MS);
    // Whole clock hours strictly inside the window with no event at all: the logs are missing there.
    const firstHour = Math.floor(a / 3_600_000);
    const lastHour = Math.floor(b / 3_600_000);
    let gapHours = 0;
    let runStart = -1;
    for (let h = firstHour + 1; h < lastHour; h++) {
      const missing = !stats.hours.has(h);
      if (missing) { gapHours++; if (runStart < 0) runStart = h; }
      if ((!missing || h === lastHour - 1) && runStart >= 0) {
        const end = missing ? h + 1 : h;
        gaps.push({ from: new Date(runStart * 3_600_000).toISOString(), to: new Date(end * 3_600_000).toISOString() });
        runStart = -1;
      }
    }
    coveredDays = Math.max(0, days - gapHours / 24);
    if (coveredDays < minWindowDays) {
      const gapNote = gapHours ? ` after removing ${gapHours} hour(s) without any event` : '';
      problems.push(`the audit logs cover ${formatDays(coveredDays)} (${from} to ${to})${gapNote}, less than the minimum window of ${formatDays(minWindowDays)}`);
    }
  }
  for (const p of stats.problems) if (p.level === 'error') problems.push(`audit log ${p.file} could not be read completely: ${p.message}`);
  const expected = opts.expectedApiServers;
  if (expected !== undefined && stats.apiServerLeases.size < expected) {
    problems.push(`identity leases of ${stats.apiServerLeases.size} API server(s) appear in the logs but the cluster runs ${expected}: requests served by the others are missing`);
  }
  return { from, to, days, coveredDays, gaps, minWindowDays, sufficient: problems.length === 0, problems };
}

/** The Workload object behind a report (reports are produced from inventory.workloads). */
function workloadLookup(inventory: Inventory): (r: WorkloadReport) => Workload | undefined {
  const m = new Map<string, Workload>();
  for (const w of inventory.workloads) m.set(`${w.kind}\u0000${w.namespace}\u0000${w.name}`, w);
  return (r) => m.get(`${r.kind}\u0000${r.namespace}\u0000${r.name}`);
}

/** Reads the audit logs and updates `evidence` and `token.needed` of each report; returns the section for ScanResult. */
export async function applyAuditEvidence(inventory: Inventory, reports: WorkloadReport[], opts: AuditEvidenceOptions): Promise<EvidenceSection> {
  const minWindowDays = opts.minWindowDays ?? DEFAULT_MIN_WINDOW_DAYS;
  const now = opts.now ?? new Date();
  const lookup = workloadLookup(inventory);
  const targets: AttributionTarget[] = reports.map((r) => {
    const w = lookup(r);
    return { kind: r.kind, namespace: r.namespace, name: r.name, serviceAccount: r.serviceAccount, pods: { names: w?.pods.names ?? [], uids: w?.pods.uids ?? [] } };
  });
  const index = new WorkloadIndex(targets);

  const wanted = new Set<string>();
  for (const r of reports) wanted.add(`${r.namespace}:${r.serviceAccount}`);
  for (const s of inventory.tokenSecrets.values()) if (s.serviceAccountName) wanted.add(`${s.namespace}:${s.serviceAccountName}`);
  const aggregator = new EvidenceAggregator();
  const stats = await readAuditLogs({
    paths: opts.paths,
    stdin: opts.stdin,
    onCall: (c) => aggregator.add(c),
    ...(opts.onlyInventoryServiceAccounts === false ? {} : { wantServiceAccount: (s: string) => wanted.has(s) }),
  });
  const window = windowOf(stats, minWindowDays, opts);
  // The audit logs are an input like the manifests: their problems go where the scan reports input problems
  // (printed as file:line, exit code 3 for an unreadable file).
  for (const p of stats.problems) inventory.problems.push(p);
  const shown = stats.problems.filter((p) => p.level === 'warning').length;
  if (stats.malformed > shown) {
    inventory.problems.push({ file: stats.files.join(', '), line: 0, message: `${stats.malformed} malformed audit-log lines in total (the first ${shown} are listed)`, level: 'warning' });
  }

  // ---- attribution ----
  const byWorkload: PrincipalStats[][] = reports.map(() => []);
  const matchedBy: string[][] = reports.map(() => []);
  const saEntries = new Map<string, { withoutPod: PrincipalStats[]; impersonated: PrincipalStats[]; unmatched: { p: PrincipalStats; reason: string; candidates: number[] }[] }>();
  const saEntry = (ns: string, name: string) => {
    const k = `${ns}/${name}`;
    return saEntries.get(k) ?? saEntries.set(k, { withoutPod: [], impersonated: [], unmatched: [] }).get(k)!;
  };
  for (const p of aggregator.principals.values()) {
    const e = saEntry(p.namespace, p.serviceAccount);
    if (p.kind === 'impersonated') { e.impersonated.push(p); continue; }
    if (p.kind === 'service-account') { e.withoutPod.push(p); continue; }
    const m = index.match(p.namespace, p.serviceAccount, p.podName, p.podUid);
    if (m.workload !== undefined) {
      byWorkload[m.workload]!.push(p);
      matchedBy[m.workload]!.push(m.how);
    } else if (m.how === 'ambiguous') {
      e.unmatched.push({ p, reason: `name fits ${m.candidates.map((i) => `${targets[i]!.kind} ${targets[i]!.name}`).join(' and ')}`, candidates: m.candidates });
    } else {
      e.unmatched.push({ p, reason: 'no workload of the input using this service account owns a pod of this name', candidates: [] });
    }
  }

  // ---- legacy token Secrets ----
  const legacyTokenSecrets: EvidenceSection['legacyTokenSecrets'] = [];
  const lastUsedBySecret = new Map<string, string>();
  for (const s of inventory.tokenSecrets.values()) {
    const lastUsed = s.labels[LEGACY_TOKEN_LAST_USED_LABEL];
    const invalidSince = s.labels[LEGACY_TOKEN_INVALID_SINCE_LABEL];
    legacyTokenSecrets.push({ namespace: s.namespace, name: s.name, ...(s.serviceAccountName ? { serviceAccount: s.serviceAccountName } : {}), ...(lastUsed ? { lastUsed } : {}), ...(invalidSince ? { invalidSince } : {}) });
    if (lastUsed) lastUsedBySecret.set(`${s.namespace}/${s.name}`, lastUsed);
  }
  const legacySecretsOf = (r: WorkloadReport): string[] =>
    [...new Set(r.token.sources.filter((s) => (s.kind === 'legacy-secret' || s.kind === 'env') && s.secret).map((s) => s.secret!))];
  const canHoldUnboundToken = (r: WorkloadReport): boolean => r.token.sources.some((s) => s.kind === 'legacy-secret' || s.kind === 'env');
  // Window start as a date, for the day-granular last-used label; without logs, --min-window before now.
  const recentSince = (window.from ?? new Date(now.getTime() - minWindowDays * DAY_MS).toISOString()).slice(0, 10);

  /** `; tokens requested by alice (TokenRequest)` when the requests' credential IDs join to TokenRequest events. */
  const issuerNote = (ps: readonly PrincipalStats[]): string => {
    const issuers = new Set<string>();
    for (const p of ps) for (const cred of p.credentialIds) { const i = stats.issuedCredentials.get(cred); if (i) issuers.add(i.issuer); }
    return issuers.size ? `; the tokens were requested by ${[...issuers].sort().join(', ')} (TokenRequest)` : '';
  };

  // ---- verdicts ----
  const isDefaultOp = defaultOpPredicate(inventory);
  const entries: WorkloadEvidenceEntry[] = [];
  const workloadTotals: Totals[] = [];
  reports.forEach((r, i) => {
    const own = totalsOf(byWorkload[i]!);
    const sa = saEntries.get(`${r.namespace}/${r.serviceAccount}`);
    const unbound = totalsOf(sa?.withoutPod ?? []);
    const holdsUnbound = canHoldUnboundToken(r);
    const unboundCandidates = index.usersOf(r.namespace, r.serviceAccount).filter((j) => canHoldUnboundToken(reports[j]!));
    let attribution: 'pod' | 'service-account' = 'pod';
    let totals = own;
    let needed: NeedVerdict;
    let reason: string;
    let basis: WorkloadEvidenceEntry['basis'];
    const span = own.firstSeen ? `between ${own.firstSeen} and ${own.lastSeen}` : '';
    const allowedOps = [...own.ops.values()].filter((o) => o.allowed > 0);
    if (own.allowed > 0) {
      needed = 'yes';
      basis = 'calls';
      const onlyDefault = allowedOps.every(isDefaultOp);
      reason = `its pods made ${own.allowed} allowed API request(s) ${span} with their Pod-bound token`
        + (onlyDefault ? '; all of them are requests every authenticated identity may make (discovery, version, self-reviews): it needs the token but no role' : '');
    } else if (holdsUnbound && unbound.allowed > 0) {
      attribution = 'service-account';
      totals = unbound;
      if (unboundCandidates.length === 1) {
        needed = 'yes';
        basis = 'service-account-calls';
        reason = `${unbound.allowed} allowed request(s) used service account ${r.serviceAccount}'s token without pod identity (legacy Secret or TokenRequest token) between ${unbound.firstSeen} and ${unbound.lastSeen}; this is the only workload holding such a token of it, though the token may also be used outside the cluster`
          + issuerNote(sa?.withoutPod ?? []);
      } else {
        needed = 'unknown';
        basis = 'insufficient-evidence';
        reason = `${unbound.allowed} allowed request(s) used service account ${r.serviceAccount}'s token without pod identity, and ${unboundCandidates.length} workloads can hold such a token: which one made them is not recorded`;
      }
    } else {
      const recentlyUsedSecret = legacySecretsOf(r).find((s) => (lastUsedBySecret.get(`${r.namespace}/${s}`) ?? '') >= recentSince);
      const unmatchedHere = (sa?.unmatched ?? []).filter((u) => u.p.allowed > 0 && (u.candidates.includes(i) || (u.candidates.length === 0 && !hasKnownPodNaming(r.kind))));
      if (recentlyUsedSecret) {
        attribution = 'service-account';
        const date = lastUsedBySecret.get(`${r.namespace}/${recentlyUsedSecret}`)!;
        const sharers = reports.filter((o) => o.namespace === r.namespace && legacySecretsOf(o).includes(recentlyUsedSecret)).length;
        needed = sharers === 1 ? 'yes' : 'unknown';
        basis = sharers === 1 ? 'legacy-token-label' : 'insufficient-evidence';
        reason = `legacy token Secret ${recentlyUsedSecret} it mounts was last used on ${date} (label ${LEGACY_TOKEN_LAST_USED_LABEL})`
          + (sharers === 1 ? '' : `, and ${sharers} workloads mount it`);
      } else if (r.token.needed === 'no') {
        needed = 'no';
        basis = 'rbac';
        reason = r.token.neededReason + (stats.events ? '; the audit logs show no allowed request by its pods either' : '');
      } else if (unmatchedHere.length) {
        needed = 'unknown';
        basis = 'insufficient-evidence';
        reason = `no request matched to its pods, but pods ${unmatchedHere.slice(0, 3).map((u) => u.p.podName ?? u.p.podUid).join(', ')} of service account ${r.serviceAccount} made allowed requests and may be its (${unmatchedHere[0]!.reason})`;
      } else if (!window.sufficient) {
        needed = 'unknown';
        basis = 'insufficient-evidence';
        reason = `no allowed API request by its pods seen, but ${window.problems.join('; ')}`;
      } else {
        needed = 'no';
        basis = 'no-calls-in-window';
        reason = `no allowed API request by its pods in ${formatDays(window.coveredDays)} of audit logs (${window.from} to ${window.to})`
          + (own.denied ? `; ${own.denied} denied request(s) only, which removing the token cannot break` : '');
        const ageDays = window.to ? (now.getTime() - Date.parse(window.to)) / DAY_MS : 0;
        if (ageDays > 1) reason += `; the logs end ${formatDays(ageDays)} before now`;
      }
    }
    workloadTotals.push(totals);
    r.token.needed = needed;
    r.token.neededReason = reason;
    const ev: WorkloadEvidence = {
      calls: totals.calls, allowed: totals.allowed, denied: totals.denied,
      used: describeOps(totals.ops.values(), 'allowed'),
      window: { ...(window.from ? { from: window.from } : {}), ...(window.to ? { to: window.to } : {}), days: window.coveredDays },
      attribution,
    };
    if (totals.firstSeen) ev.firstSeen = totals.firstSeen;
    if (totals.lastSeen) ev.lastSeen = totals.lastSeen;
    const denied = describeOps(totals.ops.values(), 'denied');
    if (denied.length) ev.deniedOps = denied;
    r.evidence = ev;
    entries.push({
      kind: r.kind, namespace: r.namespace, name: r.name, serviceAccount: r.serviceAccount, needed, reason, basis, attribution,
      pods: byWorkload[i]!.map((p, j) => ({ ...(p.podName ? { name: p.podName } : {}), ...(p.podUid ? { uid: p.podUid } : {}), matchedBy: matchedBy[i]![j]!, calls: p.calls, allowed: p.allowed, denied: p.denied, ...(p.firstSeen ? { firstSeen: p.firstSeen, lastSeen: p.lastSeen } : {}) })),
      calls: totals.calls, allowed: totals.allowed, denied: totals.denied,
      ...(totals.firstSeen ? { firstSeen: totals.firstSeen, lastSeen: totals.lastSeen } : {}),
      ops: sortOps(totals.ops.values()),
    });
  });

  // ---- shared service accounts and least privilege ----
  const rulesOf = workloadTotals.map((t) => rulesFromOps(t.ops.values(), isDefaultOp));
  const canonical = (m: Map<string, PolicyRule[]>): string => JSON.stringify([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // Names of suggested service accounts must not clash with existing ones or with each other.
  const takenSas = new Set(inventory.serviceAccounts.keys());
  const sharedServiceAccounts: SharedServiceAccountEntry[] = [];
  const dedicatedSubject = new Map<number, string>();
  const bySa = new Map<string, number[]>();
  reports.forEach((r, i) => { const k = `${r.namespace}/${r.serviceAccount}`; (bySa.get(k) ?? bySa.set(k, []).get(k)!).push(i); });
  for (const [k, idxs] of bySa) {
    if (idxs.length < 2) continue;
    const [ns, name] = [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)];
    const needs = new Map<string, number[]>();
    const noToken: number[] = [];
    for (const i of idxs) {
      if (entries[i]!.needed === 'no') { noToken.push(i); continue; }
      if (entries[i]!.needed !== 'yes') continue;
      const c = canonical(rulesOf[i]!);
      (needs.get(c) ?? needs.set(c, []).get(c)!).push(i);
    }
    const decided = noToken.length + [...needs.values()].reduce((n, v) => n + v.length, 0);
    const divergent = decided >= 2 && (needs.size > 1 || (needs.size === 1 && noToken.length > 0));
    const split: SharedServiceAccountEntry['split'] = [];
    if (divergent) {
      for (const group of needs.values()) {
        // The largest group could keep the current SA, but a fresh SA per need makes every grant explicit.
        const base = reports[group[0]!]!.name;
        let saName = base === name ? `${base}-dedicated` : base;
        while (takenSas.has(`${ns}/${saName}`)) saName += '-sa';
        takenSas.add(`${ns}/${saName}`);
        for (const i of group) dedicatedSubject.set(i, saName);
        split.push({ serviceAccount: saName, workloads: group.map((i) => `${reports[i]!.kind}/${reports[i]!.name}`), allows: describeOps(workloadTotals[group[0]!]!.ops.values(), 'allowed') });
      }
    }
    sharedServiceAccounts.push({
      namespace: ns, name,
      workloads: idxs.map((i) => ({ kind: reports[i]!.kind, name: reports[i]!.name, needed: entries[i]!.needed, allows: entries[i]!.needed === 'yes' ? describeOps(workloadTotals[i]!.ops.values(), 'allowed') : [] })),
      divergent, split, noTokenNeeded: noToken.map((i) => `${reports[i]!.kind}/${reports[i]!.name}`),
    });
  }

  const usedBySa = new Map<string, OpStats[]>();
  for (const [k, e] of saEntries) {
    const list: OpStats[] = [];
    for (const p of e.withoutPod) list.push(...p.ops.values());
    for (const u of e.unmatched) list.push(...u.p.ops.values());
    usedBySa.set(k, list);
  }
  reports.forEach((r, i) => { const k = `${r.namespace}/${r.serviceAccount}`; const l = usedBySa.get(k) ?? usedBySa.set(k, []).get(k)!; for (const p of byWorkload[i]!) l.push(...p.ops.values()); });

  const leastPrivilege: LeastPrivilegeEntry[] = [];
  const unusedCache = new Map<string, UnusedGrant[]>();
  reports.forEach((r, i) => {
    if (entries[i]!.needed !== 'yes') return;
    const dedicated = dedicatedSubject.get(i);
    const subject = { namespace: r.namespace, name: dedicated ?? r.serviceAccount, dedicated: dedicated !== undefined };
    const target = { workload: { kind: r.kind, namespace: r.namespace, name: r.name }, subject, window: { from: window.from, to: window.to } };
    const { roles, bindings } = rolesAndBindings(target, rulesOf[i]!);
    const saKey = `${r.namespace}/${r.serviceAccount}`;
    let unused = unusedCache.get(saKey);
    if (!unused) { unused = unusedGrants(inventory, r.namespace, r.serviceAccount, usedBySa.get(saKey) ?? []); unusedCache.set(saKey, unused); }
    const manifests = manifestsOf(target, roles, bindings, subject.dedicated);
    const allows = describeOps([...workloadTotals[i]!.ops.values()].filter((o) => !isDefaultOp(o)), 'allowed');
    const header = [
      `Least privilege for ${r.kind} ${r.namespace}/${r.name}, from the API requests its pods made${window.from ? ` between ${window.from} and ${window.to}` : ''}.`,
      ...(subject.dedicated ? [`Service account ${r.serviceAccount} is shared with workloads that need something else: run this workload as ${subject.name}.`] : []),
      ...(roles.length ? [] : ['It only makes requests every authenticated identity may make: no role is needed.']),
    ];
    leastPrivilege.push({
      workload: target.workload, serviceAccount: { namespace: r.namespace, name: r.serviceAccount }, subject,
      noRoleNeeded: roles.length === 0, roles, bindings, allows, denied: describeOps(workloadTotals[i]!.ops.values(), 'denied'),
      unusedGrants: unused, manifests, yaml: toYaml(manifests, header),
    });
  });

  const serviceAccounts: ServiceAccountEvidenceEntry[] = [...saEntries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, e]) => {
    const wp = totalsOf(e.withoutPod);
    const im = totalsOf(e.impersonated);
    const ua = new Set<string>();
    for (const p of e.withoutPod) for (const u of p.userAgents) ua.add(u);
    const issuers = new Map<string, number>();
    let withoutIssuer = 0;
    for (const p of e.withoutPod) for (const cred of p.credentialIds) {
      const issued = stats.issuedCredentials.get(cred);
      if (issued) issuers.set(issued.issuer, (issuers.get(issued.issuer) ?? 0) + 1);
      else withoutIssuer++;
    }
    return {
      namespace: k.slice(0, k.indexOf('/')), name: k.slice(k.indexOf('/') + 1),
      withoutPod: { calls: wp.calls, allowed: wp.allowed, denied: wp.denied, legacyTokenCalls: e.withoutPod.reduce((n, p) => n + p.legacyTokenCalls, 0), ...(wp.firstSeen ? { firstSeen: wp.firstSeen, lastSeen: wp.lastSeen } : {}), ops: sortOps(wp.ops.values()), userAgents: [...ua], issuedBy: [...issuers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([issuer, credentials]) => ({ issuer, credentials })), credentialsWithoutIssuer: withoutIssuer },
      impersonated: { calls: im.calls, by: [...new Set(e.impersonated.flatMap((p) => [...p.impersonatedBy]))].sort(), ops: sortOps(im.ops.values()) },
      unmatchedPods: e.unmatched.map((u) => ({ ...(u.p.podName ? { name: u.p.podName } : {}), ...(u.p.podUid ? { uid: u.p.podUid } : {}), calls: u.p.calls, allowed: u.p.allowed, reason: u.reason, ...(u.p.firstSeen ? { firstSeen: u.p.firstSeen, lastSeen: u.p.lastSeen } : {}) })),
    };
  });

  const assumptions = [
    'Automounted and projected tokens are Pod-bound (Kubernetes 1.22+), so requests without pod identity come from legacy Secret or TokenRequest tokens.',
    'A workload created after the window began was observed for less than the window; a job that runs less often than the window may look unused.',
  ];
  if (opts.expectedApiServers === undefined) assumptions.push(`The logs are assumed to cover every API server of the cluster (identity leases seen: ${stats.apiServerLeases.size || 'none'}); pass --api-servers N to check.`);
  if (opts.onlyInventoryServiceAccounts !== false) assumptions.push('Only service accounts used by the scanned workloads (or owning their legacy token Secrets) were read from the logs.');

  return {
    inputs: { files: stats.files, lines: stats.lines, events: stats.events, serviceAccountEvents: stats.serviceAccountEvents, serviceAccountCalls: stats.serviceAccountCalls, malformed: stats.malformed, problems: stats.problems.map((p) => ({ ...p })) },
    window,
    apiServers: { identityLeases: [...stats.apiServerLeases].sort(), ...(opts.expectedApiServers !== undefined ? { expected: opts.expectedApiServers } : {}) },
    workloads: entries,
    serviceAccounts,
    legacyTokenSecrets,
    sharedServiceAccounts,
    leastPrivilege,
    assumptions,
  };
}

export { evidenceSectionOf } from './section.ts';
