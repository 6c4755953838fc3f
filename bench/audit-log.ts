// Audit-log ingestion benchmark (not a test): kube-sa-audit's reader + evidence aggregation against a jq filter
// that selects the same service-account events, on the same generated log, one after the other under
// `/usr/bin/time -v` (wall, CPU, peak RSS). A smaller log of the same mix shows whether memory stays flat.
//
//   node bench/audit-log.ts [--file /tmp/ksa-audit-1g.log] [--bytes 1000000000] [--small-bytes 100000000] [--skip-jq] [--gz]
//
// --gz adds the small log gzipped (as rotated logs are kept): ours reading the .gz vs `zcat | jq`.
//
// Target (issue 8): ingestion wall ≤ 0.3 × jq's wall on 1 GB, flat memory.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateAuditLog } from './gen-audit.ts';
import { measure, machine, type Measurement } from './run.ts';
import { readAuditLogs } from '../src/sources/audit-log/read.ts';
import { EvidenceAggregator } from '../src/evidence/aggregate.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const JQ_FILTER = 'select(.user.username | startswith("system:serviceaccount:"))';

/** The measured process: read every line, parse the service-account ones, aggregate per pod and operation. */
async function ingest(file: string, out: string): Promise<void> {
  const agg = new EvidenceAggregator();
  const stats = await readAuditLogs({ paths: [file], onCall: (c) => agg.add(c) });
  let ops = 0;
  for (const p of agg.principals.values()) ops += p.ops.size;
  writeFileSync(out, JSON.stringify({
    lines: stats.lines, events: stats.events, serviceAccountEvents: stats.serviceAccountEvents, serviceAccountCalls: stats.serviceAccountCalls,
    malformed: stats.malformed, principals: agg.principals.size, ops, window: stats.window,
  }));
}

function ensureLog(file: string, bytes: number): { bytes: number; serviceAccountLines?: number } {
  const meta = `${file}.meta.json`;
  if (!existsSync(file) || !existsSync(meta) || Math.abs(statSync(file).size - bytes) > bytes * 0.01) {
    process.stderr.write(`generating ${file} (${(bytes / 1e6).toFixed(0)} MB) …\n`);
    const r = generateAuditLog({ out: file, bytes, seed: 1, days: 7 });
    writeFileSync(meta, JSON.stringify(r));
  }
  return JSON.parse(readFileSync(meta, 'utf8'));
}

const ratio = (a: number | null, b: number | null): string => (a !== null && b ? (a / b).toFixed(3) : 'n/a');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    file: { type: 'string', default: '/tmp/ksa-audit-1g.log' },
    bytes: { type: 'string', default: '1000000000' },
    'small-bytes': { type: 'string', default: '100000000' },
    'skip-jq': { type: 'boolean', default: false },
    gz: { type: 'boolean', default: false },
    ingest: { type: 'string' },
    'ingest-out': { type: 'string' },
  } });
  if (values.ingest) return ingest(values.ingest, values['ingest-out']!);

  const outDir = join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const big = values.file;
  const small = big.replace(/(\.log)?$/, '-small.log');
  const bigMeta = ensureLog(big, Number(values.bytes));
  const smallMeta = ensureLog(small, Number(values['small-bytes']));
  const self = fileURLToPath(import.meta.url);
  const rows: { m: Measurement; counts?: Record<string, unknown> }[] = [];
  const ours = (label: string, file: string) => {
    const countFile = join(outDir, `audit-ingest-${label}.json`);
    const m = measure(label, file, process.execPath, [self, '--ingest', file, '--ingest-out', countFile]);
    rows.push({ m, counts: JSON.parse(readFileSync(countFile, 'utf8')) });
    return m;
  };
  const oursSmall = ours('kube-sa-audit (small)', small);
  const oursBig = ours('kube-sa-audit', big);
  let jq: Measurement | undefined;
  let jqCount: number | undefined;
  if (!values['skip-jq']) {
    const countFile = join(outDir, 'audit-jq-count.txt');
    jq = measure('jq filter', big, 'sh', ['-c', `jq -c '${JQ_FILTER}' "$1" | wc -l > "$2"`, 'sh', big, countFile]);
    jqCount = Number(readFileSync(countFile, 'utf8').trim());
    rows.push({ m: jq, counts: { serviceAccountEvents: jqCount } });
  }

  if (values.gz) {
    const gz = `${small}.gz`;
    if (!existsSync(gz)) await pipeline(createReadStream(small), createGzip(), createWriteStream(gz));
    ours('kube-sa-audit (small .gz)', gz);
    if (!values['skip-jq']) {
      const countFile = join(outDir, 'audit-jq-gz-count.txt');
      const m = measure('zcat + jq filter (small .gz)', gz, 'sh', ['-c', `zcat "$1" | jq -c '${JQ_FILTER}' | wc -l > "$2"`, 'sh', gz, countFile]);
      rows.push({ m, counts: { serviceAccountEvents: Number(readFileSync(countFile, 'utf8').trim()) } });
    }
  }

  const ourCount = rows.find((r) => r.m === oursBig)!.counts!.serviceAccountEvents as number;
  const lines = [
    `audit-log ingestion, ${(statSync(big).size / 1e9).toFixed(2)} GB (${bigMeta.serviceAccountLines ?? '?'} service-account lines of the generator)`,
    '',
    '| contender | input | wall s | user s | sys s | peak RSS MB | service-account events |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map(({ m, counts }) => `| ${m.label} | ${m.input} | ${m.wallS ?? 'n/a'} | ${m.userS ?? 'n/a'} | ${m.sysS ?? 'n/a'} | ${m.rssMB !== null ? m.rssMB.toFixed(1) : 'n/a'} | ${counts?.serviceAccountEvents ?? ''} |${m.note ? ` ${m.note}` : ''}`),
    '',
    `ours / jq wall: ${ratio(oursBig.wallS, jq?.wallS ?? null)} (target ≤ 0.3); CPU: ${ratio(oursBig.userS !== null ? oursBig.userS + (oursBig.sysS ?? 0) : null, jq?.userS != null ? jq.userS + (jq.sysS ?? 0) : null)}`,
    `peak RSS ${oursSmall.rssMB?.toFixed(1)} MB on ${(statSync(small).size / 1e6).toFixed(0)} MB vs ${oursBig.rssMB?.toFixed(1)} MB on ${(statSync(big).size / 1e6).toFixed(0)} MB (flat memory: ratio ${ratio(oursBig.rssMB, oursSmall.rssMB)} for ${(statSync(big).size / statSync(small).size).toFixed(0)}× the input)`,
    jqCount !== undefined ? `same selection: ours ${ourCount}, jq ${jqCount} → ${ourCount === jqCount ? 'equal' : 'DIFFERENT'}` : `selection: ours ${ourCount}, generator ${smallMeta.serviceAccountLines ?? '?'} (small) / ${bigMeta.serviceAccountLines ?? '?'} (big)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeFileSync(join(outDir, 'audit-log.json'), JSON.stringify({ machine: machine(), rows, ourCount, jqCount }, null, 2));
}

if (import.meta.main) await main();
