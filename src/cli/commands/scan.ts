// `scan`: which workloads carry a service-account token, what it can do, and whether they need it.
import { parseArgs } from 'node:util';
import type { CliIO } from '../io.ts';
import { EXIT, UserError } from '../exit-codes.ts';
import { analyzeInventory, clusterKeyOf, PhaseTimer, readInventory, releaseInventory, type ScanOptions } from '../../analysis/scan.ts';
import { collectGarbageBetweenPhases, LARGE_SCAN_WORKLOADS } from '../../analysis/memory.ts';
import { SpillUnavailable, writeStreamedJson, type StreamedScanOutcome } from '../../analysis/streamed-json.ts';
import type { Inventory } from '../../inventory/types.ts';
import { SEVERITIES, severityRank, type ScanResult, type Severity } from '../../analysis/types.ts';
import { FORMATS, isFormat, writeReport } from '../../report/index.ts';
import type { ClusterOptions } from '../../sources/cluster/index.ts';
import { CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, clusterOptionsFromFlags } from '../../sources/cluster/flags.ts';
import { parseWindowDays } from '../../evidence/duration.ts';
import type { EvidenceSection } from '../../evidence/index.ts';
import { resolve } from 'node:path';

export function help(invokedAs: string): string {
  return `Usage: ${invokedAs} scan [-f PATH]... [PATH...] [flags]

Reports, for every workload, whether its pods carry a service-account token the API server accepts
(exactly as the ServiceAccount admission plugin decides), how (automount, projected volume, legacy
Secret, env), what the token can do (RBAC) and whether the pod needs it. With no path it scans the
live cluster of the current kubeconfig context, read-only.

Input:
  -f, --filename PATH       manifest file or directory (recursive; YAML, JSON, kubectl List output);
                            '-' reads stdin (helm template ... | ${invokedAs} scan -f -). Repeatable.
      --pod-templates FILE  extra/overriding pod-template paths for custom resources (see README)
      --audit-log PATH      audit.k8s.io/v1 JSON-lines log (file, directory, .gz, '-'); repeatable.
                            Audit evidence turns "needed: unknown" into yes/no.
      --min-window DUR      shortest audit window that may conclude "not needed": 7d, 12h, 30m or days (default 7d)
      --api-servers N       the cluster has N API servers: verdicts stay unknown when the logs show fewer
      --least-privilege-out DIR
                            write, per workload that calls the API, the minimal Role/ClusterRole and binding
                            that allow exactly what the audit logs show it doing
      --api-audience AUD    an extra audience the cluster's --api-audiences accepts; repeatable
      --read-threads N      read a big kubectl JSON dump (48 MiB+) or a directory of 400+ files on N
                            threads (default 1: on the 2-vCPU machines measured it did not pay, see
                            docs/benchmarks.md); the result is the same for any N

Live cluster (when no path is given):
${CLUSTER_FLAGS_HELP.split('\n').slice(1).join('\n')}
Output:
  -o, --output FORMAT       ${FORMATS.join('|')} (default table); --format is an alias.
                            jq-audit prints exactly what the well-known jq one-liner prints.
      --fail-on SEVERITY    exit 1 when a finding is at or above: ${[...SEVERITIES].reverse().join('|')}|none (default high)
  -h, --help                this help

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above --fail-on, 2 usage error,
3 some input could not be read (the rest was scanned), 4 incomplete live scan, 5 cluster unavailable.
`;
}

export interface ParsedScanArgs {
  scan: ScanOptions;
  format: (typeof FORMATS)[number];
  failOn: Severity | 'none';
  quiet: boolean;
  /** Directory for the least-privilege Role/Binding YAML built from audit evidence. */
  leastPrivilegeOut?: string;
}

export function parseScanArgs(argv: string[], io: CliIO): ParsedScanArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      'fail-on': { type: 'string' },
      'audit-log': { type: 'string', multiple: true },
      'min-window': { type: 'string' },
      'pod-templates': { type: 'string' },
      'api-audience': { type: 'string', multiple: true },
      'least-privilege-out': { type: 'string' },
      'api-servers': { type: 'string' },
      'read-threads': { type: 'string' },
      ...CLUSTER_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const formatArg = values.output ?? values.format ?? 'table';
  if (values.output !== undefined && values.format !== undefined && values.output !== values.format) {
    throw new UserError(`-o ${values.output} and --format ${values.format} disagree; give one`);
  }
  if (!isFormat(formatArg)) throw new UserError(`unknown output format "${formatArg}"; use one of ${FORMATS.join(', ')}`);
  const failOnArg = (values['fail-on'] ?? 'high').toLowerCase();
  if (failOnArg !== 'none' && !(SEVERITIES as readonly string[]).includes(failOnArg)) {
    throw new UserError(`--fail-on: expected one of ${[...SEVERITIES].join(', ')}, none; got "${values['fail-on']}"`);
  }
  const paths = [...(values.filename ?? []), ...positionals];
  const stdinUses = paths.filter((p) => p === '-').length + (values['audit-log'] ?? []).filter((p) => p === '-').length;
  if (stdinUses > 1) throw new UserError("'-' (stdin) can be given only once across -f and --audit-log");
  const cluster: ClusterOptions = clusterOptionsFromFlags(values);
  // Only jq-audit prints every Pod; other formats need not keep a record per Pod (~500 B each).
  const opts: ScanOptions = { paths, cluster, stdin: io.stdin, keepPodRecords: formatArg === 'jq-audit' };
  if (values['pod-templates']) opts.podTemplates = values['pod-templates'];
  if (values['read-threads'] !== undefined) {
    if (!/^[1-9]\d*$/.test(values['read-threads']) || Number(values['read-threads']) > 64) throw new UserError(`--read-threads: expected a whole number from 1 to 64, got "${values['read-threads']}"`);
    opts.readThreads = Number(values['read-threads']);
  }
  if (values['audit-log']?.length) opts.auditLogs = values['audit-log'];
  if (values['min-window'] !== undefined) {
    const days = parseWindowDays(values['min-window']);
    if (days === undefined) throw new UserError(`--min-window: expected a duration such as 7d, 12h, 30m or a number of days, got "${values['min-window']}"`);
    opts.minWindowDays = days;
  }
  if (values['api-servers'] !== undefined) {
    if (!/^[1-9]\d*$/.test(values['api-servers'])) throw new UserError(`--api-servers: expected a positive whole number, got "${values['api-servers']}"`);
    opts.expectedApiServers = Number(values['api-servers']);
  }
  const leastPrivilegeOut = values['least-privilege-out'];
  if (leastPrivilegeOut !== undefined && !values['audit-log']?.length) throw new UserError('--least-privilege-out needs --audit-log: the roles are built from the calls the logs show');
  if (values['api-audience']?.length) opts.apiAudiences = values['api-audience'];
  return { scan: opts, format: formatArg, failOn: failOnArg as Severity | 'none', quiet: values.quiet === true, ...(leastPrivilegeOut !== undefined ? { leastPrivilegeOut } : {}) };
}

/** Exit code for a finished scan: unreadable input, then incomplete live scan, then findings over the threshold. */
export function exitCodeFor(result: ScanResult, failOn: Severity | 'none'): number {
  return exitCode(result.inputs.problems, result.gaps, result.findings.map((f) => f.severity), failOn);
}

function exitCode(problems: readonly { level: string }[], gaps: readonly unknown[], severities: Iterable<Severity>, failOn: Severity | 'none'): number {
  if (problems.some((p) => p.level === 'error')) return EXIT.UNREADABLE_INPUT;
  if (gaps.length > 0) return EXIT.INCOMPLETE;
  if (failOn !== 'none') for (const s of severities) if (severityRank(s) >= severityRank(failOn)) return EXIT.FINDINGS;
  return EXIT.OK;
}

/**
 * The streamed JSON report, or undefined when its temporary files cannot be made (a read-only temp directory):
 * nothing is written then, and the caller analyses as usual.
 */
async function streamedReport(inventory: Inventory, io: CliIO, opts: ScanOptions, cluster: { context: string; namespace?: string } | undefined, showProblems: (p: Inventory['problems']) => void): Promise<StreamedScanOutcome | undefined> {
  try {
    return await writeStreamedJson(inventory, io.stdout, opts, { ...(cluster ? { cluster } : {}), onStart: () => showProblems(inventory.problems) });
  } catch (e) {
    if (e instanceof SpillUnavailable) return undefined;
    throw e;
  }
}

/**
 * Whether to write the JSON report while analysing (analysis/streamed-json.ts) rather than from a finished
 * ScanResult: only for very large scans, where holding every report, summary and finding made the peak memory,
 * and only for what that path computes (no audit evidence, JSON out).
 */
function streams(parsed: ParsedScanArgs, inventory: Inventory): boolean {
  return parsed.format === 'json' && !parsed.scan.auditLogs?.length && parsed.leastPrivilegeOut === undefined && inventory.workloads.length >= LARGE_SCAN_WORKLOADS;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseScanArgs(argv, io);
  if (parsed === 'help') {
    io.stdout.write(help(io.invokedAs));
    return EXIT.OK;
  }
  // KSA_TIMINGS=1: per-phase wall time and memory on stderr (stdout carries only the report).
  const timings = io.env.KSA_TIMINGS === '1' ? new PhaseTimer() : undefined;
  const opts: ScanOptions = timings ? { ...parsed.scan, timings } : parsed.scan;
  const { inventory, cluster } = await readInventory(opts, io);
  const clusterInfo = cluster ? clusterKeyOf(cluster) : undefined;
  const showProblems = (problems: readonly { file: string; line: number; message: string; level: string }[]): void => {
    for (const p of problems) io.stderr.write(`${p.file}${p.line > 0 ? `:${p.line}` : ''}: ${p.level === 'warning' ? 'warning: ' : ''}${p.message}\n`);
  };
  const outcome = streams(parsed, inventory) ? await streamedReport(inventory, io, opts, clusterInfo, showProblems) : undefined;
  if (outcome) {
    if (timings) {
      timings.mark('output');
      io.stderr.write(timings.format());
    }
    const s = outcome.summary;
    if (!parsed.quiet) io.stderr.write(`scanned ${s.workloads} workloads: ${s.withApiToken} mount an API token; ${outcome.findings} findings\n`);
    const severities = SEVERITIES.filter((sev) => s.findingsBySeverity[sev] > 0);
    return exitCode(inventory.problems, inventory.gaps, severities, parsed.failOn);
  }
  const result = await analyzeInventory(inventory, opts);
  if (clusterInfo) result.cluster = clusterInfo;
  // After the analysis: reading audit logs adds their problems.
  showProblems(result.inputs.problems);
  if (parsed.format !== 'jq-audit') {
    releaseInventory(result);
    collectGarbageBetweenPhases(result.workloads.length); // the inventory, before the report is written
  }
  const color = parsed.format === 'table' && io.stdout.isTTY === true && !io.env.NO_COLOR;
  await writeReport(parsed.format, result, io.stdout, { color });
  if (timings) {
    timings.mark('output');
    io.stderr.write(timings.format());
  }
  if (parsed.leastPrivilegeOut !== undefined) {
    const section = result.evidence as EvidenceSection | undefined;
    const { writeLeastPrivilegeFiles } = await import('../../evidence/index.ts');
    const written = await writeLeastPrivilegeFiles(resolve(io.cwd, parsed.leastPrivilegeOut), section?.leastPrivilege ?? []);
    if (!parsed.quiet) io.stderr.write(`wrote ${written.length} least-privilege role file(s) to ${parsed.leastPrivilegeOut}\n`);
  }
  if (!parsed.quiet && parsed.format !== 'table') {
    const s = result.summary;
    io.stderr.write(`scanned ${s.workloads} workloads: ${s.withApiToken} mount an API token; ${result.findings.length} findings\n`);
  }
  return exitCodeFor(result, parsed.failOn);
}
