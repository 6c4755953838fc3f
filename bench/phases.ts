// Phase breakdown of one scan, in process: read + inventory, analysis, and RBAC resolution alone.
// `node bench/phases.ts dump.json` → bench/out/phases.json. Used by bench/run.ts for the
// "RBAC resolution < 20 % of the T4 total" target; the pipeline modules are imported, not re-implemented.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { InventoryBuilder } from '../src/inventory/build.ts';
import { readManifests } from '../src/sources/manifests/index.ts';
import { analyzeRbac } from '../src/rbac/index.ts';
import type { Inventory } from '../src/inventory/types.ts';
import type { WorkloadReport } from '../src/analysis/types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Analyze = (inv: Inventory, ...rest: unknown[]) => unknown;

/** The analysis entry point, wherever the scan-core helper put it. */
async function findAnalyze(): Promise<{ fn: Analyze; name: string } | undefined> {
  const candidates: [string, string[]][] = [
    ['../src/analysis/index.ts', ['analyzeInventory', 'analyze', 'runAnalysis']],
    ['../src/analysis/analyze.ts', ['analyzeInventory', 'analyze']],
    ['../src/analysis/scan.ts', ['analyzeInventory', 'scanInventory', 'analyze']],
  ];
  for (const [mod, names] of candidates) {
    let m: Record<string, unknown>;
    try { m = await import(mod) as Record<string, unknown>; } catch { continue; }
    for (const n of names) if (typeof m[n] === 'function') return { fn: m[n] as Analyze, name: `${mod.replace('../', '')}:${n}` };
  }
  return undefined;
}

function reportsOf(result: unknown): WorkloadReport[] {
  const r = result as { workloads?: WorkloadReport[]; reports?: WorkloadReport[] } | undefined;
  return r?.workloads ?? r?.reports ?? [];
}

async function main(file: string): Promise<void> {
  const phases: Record<string, number> = {};
  const mem: Record<string, number> = {};
  const t0 = performance.now();
  const builder = new InventoryBuilder({ origin: 'manifests', keepPodRecords: false, keepPodIdentities: false }); // as the CLI for -o json without audit logs
  await readManifests([file], builder);
  const t1 = performance.now();
  const inv = builder.finish();
  const t2 = performance.now();
  phases.readMs = t1 - t0;
  phases.inventoryFinishMs = t2 - t1;
  mem.rssAfterInventoryMB = process.memoryUsage().rss / 2 ** 20;
  mem.heapAfterInventoryMB = process.memoryUsage().heapUsed / 2 ** 20;
  const analyze = await findAnalyze();
  let reports: WorkloadReport[] = [];
  let result: unknown;
  if (analyze) {
    const t3 = performance.now();
    result = await analyze.fn(inv);
    phases.analysisMs = performance.now() - t3;
    reports = reportsOf(result);
    mem.rssAfterAnalysisMB = process.memoryUsage().rss / 2 ** 20;
  }
  // Sub-phases of the analysis, re-run alone on the same inventory: per-workload token reports, and
  // RBAC resolution (the analysis above includes one pass of each).
  try {
    const { reportWorkload } = await import('../src/analysis/scan.ts') as { reportWorkload?: (w: unknown, inv: Inventory) => unknown };
    if (reportWorkload) {
      const t = performance.now();
      for (const w of inv.workloads) reportWorkload(w, inv);
      phases.tokenReportsMs = performance.now() - t;
    }
  } catch { /* not exported: skip */ }
  const t4 = performance.now();
  analyzeRbac(inv, reports);
  phases.rbacMs = performance.now() - t4;
  if (result !== undefined) {
    try {
      // The CLI's streamed writer, into a byte counter (the one-string renderJson held the whole report).
      const { writeJson } = await import('../src/report/json.ts');
      const { Writable } = await import('node:stream');
      let bytes = 0;
      const sinkOut = new Writable({ write(chunk: Buffer | string, _enc, cb) { bytes += Buffer.byteLength(chunk); cb(); } });
      const t5 = performance.now();
      await writeJson(result as Parameters<typeof writeJson>[0], sinkOut);
      phases.renderJsonMs = performance.now() - t5;
      mem.jsonOutputMB = bytes / 1e6;
      mem.rssAfterRenderMB = process.memoryUsage().rss / 2 ** 20;
    } catch { /* no JSON renderer yet */ }
  }
  phases.totalMs = phases.readMs + phases.inventoryFinishMs + (phases.analysisMs ?? phases.rbacMs) + (phases.renderJsonMs ?? 0);
  mem.rssEndMB = process.memoryUsage().rss / 2 ** 20;
  const out = {
    file, analysis: analyze?.name ?? 'none found (RBAC only)', phases, memory: mem,
    counts: { workloads: inv.workloads.length, serviceAccounts: inv.serviceAccounts.size, roles: inv.roles.length, roleBindings: inv.roleBindings.length,
      clusterRoles: inv.clusterRoles.length, clusterRoleBindings: inv.clusterRoleBindings.length, podRecords: inv.podRecords?.length ?? 0 },
  };
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'phases.json'), JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(JSON.stringify(out) + '\n');
}

const file = process.argv[2];
if (!file) { process.stderr.write('usage: node bench/phases.ts DUMP.json\n'); process.exit(2); }
main(file).catch((e: unknown) => { process.stderr.write(`phases: ${(e as Error).message}\n`); process.exitCode = 1; });
