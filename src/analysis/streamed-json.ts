// The JSON report of a very large scan, written while the analysis visits each workload once.
//
// analyzeInventory() keeps every workload's report, every ServiceAccount's permission summary and every finding
// until the report is written: at 150,000 pods that is ~200 MB on top of the inventory, and it made the scan's
// peak memory. The report does not need it all at once:
// - `workloads` comes first and is in input order: each entry is written as soon as its verdict, permissions and
//   need are known, and the report is dropped;
// - `serviceAccounts` is in order of first use: each entry is written to a spill file when a workload first uses
//   its ServiceAccount, and the summary kept for the rules is cut to what they read;
// - `findings` is sorted across the whole scan: each finding is written to a second spill file as it is made,
//   and only its sort key stays in memory. Ties keep the order analyzeInventory gives them (rule, then the order
//   the rule emitted them), so the sort is the same stable sort;
// - the rules that look at bindings read per-ServiceAccount counts gathered during the visit (ctx.usageOf).
// The bytes are those of writeJson(analyzeInventory(…)) — test/analysis/streamed-json.test.ts compares them — and
// the spill files (in the OS temp directory) are removed when the scan ends, with a report or an error (a killed
// process leaves its kube-sa-audit-* directory behind).
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Inventory } from '../inventory/types.ts';
import type { Finding, RuleContext, ScanSummary, Severity } from './types.ts';
import type { AnalyzeOptions } from './scan.ts';
import { cmpFinding, inputsOf, reportWorkload, SummaryCounter } from './scan.ts';
import { startRbacAnalysis } from '../rbac/index.ts';
import { stopInterning } from '../inventory/intern.ts';
import { RULES } from '../rules/index.ts';
import { ServiceAccountUsageCounter } from '../rules/rbac/util.ts';
import { ARRAY_END, arrayElement, elementPrefix, FdWriter, JsonOut, keyPrefix, putEntry } from '../report/json.ts';
import { VERSION } from '../version.ts';
import { collectGarbageBetweenPhases } from './memory.ts';

/** What the caller needs once the report is written (exit code, the closing line on stderr). */
export interface StreamedScanOutcome {
  summary: ScanSummary;
  findings: number;
}

/** The spill files could not be made; nothing has been written yet, so the caller can use analyzeInventory. */
export class SpillUnavailable extends Error {}

/** A temporary file written through FdWriter (report/json.ts) and read back by ranges. */
class SpillFile extends FdWriter {
  constructor(path: string) {
    super(openSync(path, 'w+', 0o600), 1 << 20);
  }

  /** `length` bytes from `offset` (after flush()), into `into` when it is large enough. */
  read(offset: number, length: number, into: Buffer): Buffer {
    const b = length <= into.length ? into : Buffer.allocUnsafe(length);
    for (let got = 0; got < length; ) {
      const n = readSync(this.fd, b, got, length - got, offset + got);
      if (n === 0) throw new Error('spill file ended early');
      got += n;
    }
    return b.subarray(0, length);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Where a spilled finding is, and what it sorts by. */
interface FindingKey {
  severity: Severity;
  resource: Finding['resource'];
  rule: string;
  /** Position in analyzeInventory's list before sorting: rule index, then the order the rule emitted it. */
  ruleIndex: number;
  seq: number;
  offset: number;
  length: number;
}

/**
 * Analyses `inv` (token verdicts, RBAC, rules; no audit evidence) and writes the JSON report to `out`, byte for
 * byte what `writeJson(await analyzeInventory(inv, opts))` writes (plus `cluster` when given, as scan() adds it).
 * Throws SpillUnavailable, having written nothing, when its temporary files cannot be made.
 */
export interface StreamedJsonOptions {
  /** A live scan's context and namespace: the report's `cluster` key, as scan() adds it. */
  cluster?: { context: string; namespace?: string };
  /** Called once the spill files exist, before the first byte of the report (e.g. to print input problems). */
  onStart?: () => void;
}

export async function writeStreamedJson(inv: Inventory, out: Writable, opts: AnalyzeOptions = {}, extra: StreamedJsonOptions = {}): Promise<StreamedScanOutcome> {
  if (opts.auditLogs?.length) throw new Error('writeStreamedJson: audit evidence needs every report at once; use analyzeInventory');
  let dir: string;
  let accounts: SpillFile | undefined;
  let findings: SpillFile | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'kube-sa-audit-'));
  } catch (e) {
    throw new SpillUnavailable(`cannot create a temporary directory in ${tmpdir()}: ${(e as Error).message}`);
  }
  try {
    try {
      accounts = new SpillFile(join(dir, 'service-accounts.json'));
      findings = new SpillFile(join(dir, 'findings.json'));
    } catch (e) {
      throw new SpillUnavailable(`cannot create a temporary file in ${dir}: ${(e as Error).message}`);
    }
    extra.onStart?.();
    return await write(inv, out, opts, accounts, findings, extra.cluster);
  } finally {
    accounts?.close();
    findings?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function write(inv: Inventory, stdout: Writable, opts: AnalyzeOptions, accounts: SpillFile, spilled: SpillFile, cluster: { context: string; namespace?: string } | undefined): Promise<StreamedScanOutcome> {
  const t = opts.timings;
  const out = new JsonOut(stdout);
  // Verdicts are written and dropped one by one: nothing to share them with (inventory/intern.ts).
  stopInterning(inv);
  const run = startRbacAnalysis(inv, opts.rbac ?? {}, { slimAfterFirstUse: true });
  const usage = new ServiceAccountUsageCounter();
  const counts = new SummaryCounter();
  const ctx: RuleContext = { inventory: inv, workloads: [], workloadObjects: [], rbac: run.analysis, evidence: undefined, usageOf: (ns, name) => usage.usageOf(ns, name) };
  const keys: FindingKey[] = [];
  const seqOf = RULES.map(() => 0);
  const keep = (f: Finding, ruleIndex: number): void => {
    const length = spilled.put(arrayElement(f));
    keys.push({ severity: f.severity, resource: f.resource, rule: f.rule, ruleIndex, seq: seqOf[ruleIndex]!++, offset: spilled.size - length, length });
    counts.addFinding(f.severity);
  };

  await putEntry(out, 'tool', { name: 'kube-sa-audit', version: VERSION }, true);
  await putEntry(out, 'origin', inv.origin, false);
  await out.put(keyPrefix('workloads', false));
  let accountsWritten = 0;
  const workloads = inv.workloads;
  await out.put(workloads.length ? '[' : '[]');
  for (let i = 0; i < workloads.length; i++) {
    const w = workloads[i]!;
    const r = reportWorkload(w, inv, opts);
    const entry = run.add(r);
    // Each entry with the separator before it: the file is copied out as the array's body.
    if (entry) accounts.put(elementPrefix(accountsWritten++) + arrayElement(entry));
    usage.add(r);
    for (let k = 0; k < RULES.length; k++) {
      const f = RULES[k]!.checkWorkload?.(ctx, r, w);
      if (f === undefined) continue;
      if (Array.isArray(f)) for (const x of f) keep(x, k);
      else keep(f, k);
    }
    counts.addWorkload(r);
    await out.put(elementPrefix(i) + arrayElement(r));
  }
  if (workloads.length) await out.put(ARRAY_END);
  run.done();
  // What the visit left behind (each workload's verdict and text), before the binding rules add theirs.
  collectGarbageBetweenPhases(workloads.length);
  t?.mark('workloads');

  // The rules that look at bindings or ServiceAccounts, and the rest of the per-workload ones.
  for (let k = 0; k < RULES.length; k++) {
    const rule = RULES[k]!;
    const found = rule.checkWorkload ? (rule.checkRest?.(ctx) ?? []) : rule.check(ctx);
    for (const f of found) keep(f, k);
  }
  accounts.flush();
  spilled.flush();

  await out.put(keyPrefix('serviceAccounts', false));
  if (accountsWritten === 0) await out.put('[]');
  else {
    await out.put('[');
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; at < accounts.size; at += chunk.length) await out.putBytes(accounts.read(at, Math.min(chunk.length, accounts.size - at), chunk));
    await out.put(ARRAY_END);
  }

  keys.sort((a, b) => cmpFinding(a, b) || a.ruleIndex - b.ruleIndex || a.seq - b.seq);
  await out.put(keyPrefix('findings', false));
  if (keys.length === 0) await out.put('[]');
  else {
    await out.put('[');
    const scratch = Buffer.allocUnsafe(64 << 10);
    for (let j = 0; j < keys.length; j++) {
      const key = keys[j]!;
      await out.put(elementPrefix(j));
      await out.putBytes(spilled.read(key.offset, key.length, scratch));
    }
    await out.put(ARRAY_END);
  }
  t?.mark('rules');

  // The rest in analyzeInventory's order (serverVersion, rbac and evidence are added after its literal).
  await putEntry(out, 'summary', counts.summary, false);
  await putEntry(out, 'inputs', inputsOf(inv), false);
  await putEntry(out, 'gaps', inv.gaps, false);
  if (inv.serverVersion) await putEntry(out, 'serverVersion', inv.serverVersion, false);
  await putEntry(out, 'rbac', { builtinPolicyVersion: run.analysis.kubernetesVersion }, false);
  if (cluster) await putEntry(out, 'cluster', cluster, false);
  await out.put('\n}\n');
  await out.end();
  return { summary: counts.summary, findings: keys.length };
}
