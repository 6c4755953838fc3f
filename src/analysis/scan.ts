// The scan pipeline: sources → one inventory → token verdicts → RBAC → audit evidence → rules → result.
// Everything after the inventory is pure and identical for manifests and live clusters.
import type { Readable } from 'node:stream';
import type { Inventory, Workload } from '../inventory/types.ts';
import type { Finding, ScanResult, ScanSummary, Severity, WorkloadReport } from './types.ts';
import { SEVERITIES, severityRank } from './types.ts';
import { InventoryBuilder } from '../inventory/build.ts';
import { loadPodTemplateTable, type PodTemplateTable } from '../inventory/pod-templates.ts';
import { lookupServiceAccount, resolveWorkloadToken, type ResolveOptions } from '../admission/index.ts';
import { analyzeRbac, type RbacAnalysisOptions } from '../rbac/index.ts';
import { RULES } from '../rules/index.ts';
import { collectGarbageBetweenPhases } from './memory.ts';
import { readManifests } from '../sources/manifests/index.ts';
// The live-cluster source and the audit-log evidence are loaded when used: a manifest scan (most CI runs,
// and 10 % of a 10,000-pod scan's time was start-up) does not pay for their modules.
import type { ClusterOptions, ClusterReadResult } from '../sources/cluster/index.ts';
import type { CliIO } from '../cli/io.ts';
import { resolve } from 'node:path';
import { peekSnapshotInfo, type SnapshotInfo } from '../sources/cluster/snapshot.ts';
import { VERSION } from '../version.ts';

export interface AnalyzeOptions extends ResolveOptions {
  /** Audit log files/directories (`-` = stdin); when given, audit evidence refines `token.needed`. */
  auditLogs?: string[];
  minWindowDays?: number;
  /** How many API servers the audit logs should cover (verdicts become unknown when fewer appear). */
  expectedApiServers?: number;
  stdin?: Readable;
  now?: Date;
  rbac?: RbacAnalysisOptions;
  /** Phase timings (`KSA_TIMINGS=1`): each phase's wall time and the heap/RSS after it. */
  timings?: PhaseTimer;
}

/** One measured phase of a scan. */
export interface PhaseTiming {
  phase: string;
  ms: number;
  heapMB: number;
  rssMB: number;
  /** The process's peak RSS so far: the phase's own peak when it is higher than every earlier one. */
  peakMB: number;
}

/** Records phase boundaries: `mark(name)` closes the phase that ran since the previous mark. */
export class PhaseTimer {
  readonly phases: PhaseTiming[] = [];
  // performance.now() counts from process start: the first phase is module loading up to the command.
  private readonly start = 0;
  private last = 0;

  constructor() {
    this.mark('start-up');
  }

  mark(phase: string): void {
    const now = performance.now();
    const mem = process.memoryUsage();
    this.phases.push({ phase, ms: now - this.last, heapMB: mem.heapUsed / 2 ** 20, rssMB: mem.rss / 2 ** 20, peakMB: process.resourceUsage().maxRSS / 1024 });
    this.last = now;
  }

  /** Lines for stderr: one per phase, then the total (kept out of stdout, which carries the report). */
  format(): string {
    const total = this.last - this.start;
    const rows = this.phases.map(
      (p) => `ksa-timing ${p.phase.padEnd(16)} ${p.ms.toFixed(0).padStart(8)} ms ${((100 * p.ms) / (total || 1)).toFixed(1).padStart(5)} %  heap ${p.heapMB.toFixed(0).padStart(5)} MB  rss ${p.rssMB.toFixed(0).padStart(5)} MB  peak ${p.peakMB.toFixed(0).padStart(5)} MB`,
    );
    // The Node flags the run had (the launcher adds memory settings for very large inputs: bin/kube-sa-audit.js).
    if (process.execArgv.length) rows.unshift(`ksa-timing node-flags ${process.execArgv.join(' ')}`);
    if (process.env.MALLOC_ARENA_MAX) rows.unshift(`ksa-timing env MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}`);
    const peak = process.resourceUsage().maxRSS / 1024;
    rows.push(`ksa-timing ${'total'.padEnd(16)} ${total.toFixed(0).padStart(8)} ms  peak rss ${peak.toFixed(0)} MB`);
    return rows.join('\n') + '\n';
  }
}

/** One workload's token verdict, before RBAC and evidence are added. */
export function reportWorkload(w: Workload, inv: Inventory, opts: ResolveOptions = {}): WorkloadReport {
  const lookup = lookupServiceAccount(w, inv);
  return {
    kind: w.kind,
    apiVersion: w.apiVersion,
    namespace: w.namespace,
    name: w.name,
    serviceAccount: lookup.name,
    serviceAccountStatus: lookup.status,
    location: w.location,
    pods: w.pods.count,
    token: resolveWorkloadToken(w, inv, opts),
  };
}

// One collator for the sort: the same order as String#localeCompare (same default locale and options), which
// builds a collator on every call (~50 ms for 40,000 findings).
const collate = new Intl.Collator().compare;
/** The report's order of findings: severity (highest first), then namespace, kind, name and rule. */
export const cmpFinding = (a: Pick<Finding, 'severity' | 'resource' | 'rule'>, b: Pick<Finding, 'severity' | 'resource' | 'rule'>): number =>
  severityRank(b.severity) - severityRank(a.severity) ||
  collate(a.resource.namespace ?? '', b.resource.namespace ?? '') ||
  collate(a.resource.kind, b.resource.kind) ||
  collate(a.resource.name, b.resource.name) ||
  collate(a.rule, b.rule);

/** The report's summary, counted one workload and one finding at a time (analyzeInventory and the streamed scan). */
export class SummaryCounter {
  readonly summary: ScanSummary = {
    workloads: 0,
    pods: 0,
    withToken: 0,
    withApiToken: 0,
    tokenNotNeeded: 0,
    findingsBySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
  };

  /** After the RBAC analysis has set `token.needed`. */
  addWorkload(r: WorkloadReport): void {
    const s = this.summary;
    s.workloads++;
    s.pods += r.pods;
    if (r.token.mounted === true) s.withToken++;
    if (r.token.apiAccess === true) {
      s.withApiToken++;
      if (r.token.needed === 'no') s.tokenNotNeeded++;
    }
  }

  addFinding(severity: Severity): void {
    this.summary.findingsBySeverity[severity]++;
  }
}

export function summarise(reports: WorkloadReport[], findings: Finding[]): ScanSummary {
  const c = new SummaryCounter();
  for (const r of reports) c.addWorkload(r);
  for (const f of findings) c.addFinding(f.severity);
  return c.summary;
}

/** The report's `inputs` section: what was read, skipped, and found wrong. */
export const inputsOf = (inv: Inventory): ScanResult['inputs'] => ({
  documents: inv.documents ?? 0,
  skipped: inv.skipped.count,
  skippedByReason: inv.skipped.byReason,
  problems: inv.problems.map((p) => ({ file: p.file, line: p.line, message: p.message, level: p.level })),
});

/** Pure analysis of an inventory (plus audit logs when given). */
export async function analyzeInventory(inv: Inventory, opts: AnalyzeOptions = {}): Promise<ScanResult> {
  const t = opts.timings;
  const reports = inv.workloads.map((w) => reportWorkload(w, inv, opts));
  t?.mark('token reports');
  const rbac = analyzeRbac(inv, reports, opts.rbac ?? {});
  // No forced collection here: the RBAC phase's garbage is collected with the inventory once the rules have run
  // (see analysis/memory.ts for what that trades).
  t?.mark('rbac');
  let evidence: unknown;
  if (opts.auditLogs?.length) {
    const { applyAuditEvidence } = await import('../evidence/index.ts');
    evidence = await applyAuditEvidence(inv, reports, {
      paths: opts.auditLogs,
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      ...(opts.minWindowDays !== undefined ? { minWindowDays: opts.minWindowDays } : {}),
      ...(opts.expectedApiServers !== undefined ? { expectedApiServers: opts.expectedApiServers } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
  }
  t?.mark('evidence');
  const ctx = { inventory: inv, workloads: reports, workloadObjects: inv.workloads, rbac, evidence };
  const findings = RULES.flatMap((rule) => rule.check(ctx)).sort(cmpFinding);
  const result: ScanResult = {
    tool: { name: 'kube-sa-audit', version: VERSION },
    origin: inv.origin,
    workloads: reports,
    serviceAccounts: rbac.serviceAccounts,
    findings,
    summary: summarise(reports, findings),
    inputs: inputsOf(inv),
    gaps: inv.gaps,
  };
  t?.mark('rules');
  if (inv.serverVersion) result.serverVersion = inv.serverVersion;
  result.rbac = { builtinPolicyVersion: rbac.kubernetesVersion };
  if (evidence !== undefined) result.evidence = evidence;
  // Kept out of JSON (non-enumerable): reports such as jq-audit need the inventory, not a copy of it.
  Object.defineProperty(result, 'inventory', { value: inv, enumerable: false, configurable: true });
  return result;
}

/** The inventory a ScanResult was computed from (not serialised). */
export const inventoryOf = (r: ScanResult): Inventory | undefined => (r as { inventory?: Inventory }).inventory;

/**
 * Lets the inventory go once nothing will read it again (only jq-audit does): at 150,000 pods it is ~200 MB
 * the report no longer needs, and the memory a streamed report churns through can reuse it.
 */
export function releaseInventory(r: ScanResult): void {
  Object.defineProperty(r, 'inventory', { value: undefined, enumerable: false, configurable: true });
}

export interface ScanOptions extends AnalyzeOptions {
  /** Manifest paths (`-` = stdin). None → live cluster. */
  paths?: string[];
  /** `--pod-templates FILE`, or an already-loaded table. */
  podTemplates?: string | PodTemplateTable;
  cluster?: ClusterOptions;
  /** Threads reading big manifest inputs (sources/manifests/parallel.ts); default 1. */
  readThreads?: number;
  /** Keep every Pod's record for `--format jq-audit` (default true; see InventoryBuilderOptions). */
  keepPodRecords?: boolean;
  /** Keep the names/uids of pods folded into owners (default: only when audit logs are given; evidence reads them). */
  keepPodIdentities?: boolean;
}

const keepPodIdentities = (opts: ScanOptions): boolean => opts.keepPodIdentities ?? (opts.auditLogs?.length ?? 0) > 0;

/** Reads the input (manifests, or the live cluster when no path is given) into an inventory. */
export async function readInventory(opts: ScanOptions, io: CliIO): Promise<{ inventory: Inventory; cluster?: ClusterReadResult }> {
  const table = typeof opts.podTemplates === 'object' ? opts.podTemplates : loadPodTemplateTable(opts.podTemplates);
  if (opts.paths && opts.paths.length > 0) {
    const builder = new InventoryBuilder({ origin: 'manifests', podTemplates: table, keepPodRecords: opts.keepPodRecords ?? true, keepPodIdentities: keepPodIdentities(opts) });
    await readManifests(opts.paths, builder, { stdin: opts.stdin ?? io.stdin, cwd: io.cwd, ...(opts.readThreads !== undefined ? { workers: opts.readThreads } : {}) });
    opts.timings?.mark('read');
    // What reading left behind, before finish() builds its owner tables on top of it.
    collectGarbageBetweenPhases(builder.workloadsRead);
    const inventory = builder.finish();
    collectGarbageBetweenPhases(inventory.workloads.length); // the Pods folded into their owners
    opts.timings?.mark('inventory finish');
    applySnapshotFacts(inventory, opts.paths, io.cwd);
    return { inventory };
  }
  const builder = new InventoryBuilder({ origin: 'cluster', podTemplates: table, keepPodRecords: opts.keepPodRecords ?? true, keepPodIdentities: keepPodIdentities(opts) });
  const { readCluster } = await import('../sources/cluster/index.ts');
  const cluster = await readCluster(opts.cluster ?? {}, builder, io);
  opts.timings?.mark('read');
  const inventory = builder.finish();
  opts.timings?.mark('inventory finish');
  inventory.serverVersion = cluster.serverVersion;
  inventory.gaps = cluster.gaps;
  // A live scan lists every ServiceAccount of the namespaces it reads, unless listing them was refused.
  inventory.completeServiceAccounts = !cluster.gaps.some((g) => g.resource === 'serviceaccounts');
  return { inventory, cluster };
}

/**
 * A snapshot (`kube-sa-audit snapshot`) carries what the live read knew beyond its objects: the server
 * version, the parts it could not read, and whether it holds every ServiceAccount. Scanning it offline must
 * give the live answer, so those facts are restored; a snapshot taken with gaps stays incomplete.
 */
function applySnapshotFacts(inventory: Inventory, paths: string[], cwd: string): void {
  const infos = paths.map((p) => (p === '-' ? undefined : peekSnapshotInfo(resolve(cwd, p))));
  const snapshots = infos.filter((i): i is SnapshotInfo => i !== undefined);
  if (!snapshots.length) return;
  inventory.serverVersion ??= snapshots.find((i) => i.serverVersion)?.serverVersion;
  inventory.gaps.push(...snapshots.flatMap((i) => i.gaps));
  // Manifests mixed in could name ServiceAccounts the snapshot's cluster lacks: only a pure snapshot is complete.
  inventory.completeServiceAccounts = infos.every((i) => i?.completeServiceAccounts === true);
}

/** The report's `cluster` key for a live scan: the context, and the namespace when one was chosen. */
export const clusterKeyOf = (cluster: ClusterReadResult): { context: string; namespace?: string } => ({ context: cluster.context, ...(cluster.namespace ? { namespace: cluster.namespace } : {}) });

/** Builds the inventory from manifests or the live cluster, then analyses it. */
export async function scan(opts: ScanOptions, io: CliIO): Promise<ScanResult> {
  const { inventory, cluster } = await readInventory(opts, io);
  const result = await analyzeInventory(inventory, opts);
  if (cluster) result.cluster = clusterKeyOf(cluster);
  return result;
}
