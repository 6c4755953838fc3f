// `fix`: plan the automount/RBAC fix per service account, then show it (dry run, the default), write it into
// the manifests (--write), or apply it to the live cluster (--apply). Nothing is changed without a flag.
import { parseWindowDays } from '../../evidence/duration.ts';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { CliIO } from '../io.ts';
import { EXIT, UserError } from '../exit-codes.ts';
import { analyzeInventory, readInventory, type ScanOptions } from '../../analysis/scan.ts';
import { planFix, renderPlan, type FixOptions, type FixPlan } from '../../remedy/plan.ts';
import { computeManifestChanges, renderDiff, writeManifestChanges } from '../../remedy/manifest-fix.ts';
import { ManifestEditError } from '../../remedy/manifest-edit.ts';
import { CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, clusterOptionsFromFlags } from '../../sources/cluster/flags.ts';

export function help(invokedAs: string): string {
  return `Usage: ${invokedAs} fix [-f PATH]... [flags]

Plans, per service account, how to stop mounting tokens that workloads do not need, without taking one
from a workload that does. A dry run by default: prints the plan (every step with its reason) and a
unified diff (manifests) or the kubectl patch commands (live cluster).

  - nobody using a service account needs its token → automountServiceAccountToken: false on the SA
    (a manifest for "default" is appended to the first workload's file when the input has none);
  - some do, some do not → false on the SA and an explicit true in the pod templates that need it;
  - need "unknown" (permissions but no audit evidence) → never changed without --include-unknown;
    a SA they rely on is then left alone and the others are turned off per pod instead.

Manifests:
  -f, --filename PATH       file or directory (repeatable); '-' = stdin (diff only, never written)
      --write               edit the files in place (atomic; comments, quoting, order and other documents kept)
Live cluster (no -f):
      --apply               server-side dry run, then patch with optimistic concurrency; writes a rollback file
      --rollback-file FILE  where --apply writes the rollback (default kube-sa-audit-rollback-<time>.json)
      --rollback FILE       apply a rollback file written by --apply
${CLUSTER_FLAGS_HELP.split('\n').slice(1).join('\n')}
Plan:
      --level sa|pod        sa (default): off on the service account where safe; pod: off per pod template
      --include-unknown     also remove tokens whose need is unknown (treated as not needed)
      --dedicated-sa        workloads on "default" that keep a token get their own service account with
                            copies of default's bindings (serviceAccountName set in the template)
      --audit-log PATH      audit log evidence (turns need "unknown" into yes/no; see scan --help)
      --min-window DUR      shortest audit window that may conclude "not needed": 7d, 12h, 30m or days (default 7d)
      --pod-templates FILE  extra pod-template paths for custom resources
  -o, --output text|json    the plan as text (default) or JSON
  -h, --help

Exit codes: 0 done (or nothing to do), 2 usage, 3 input unreadable (nothing written), 5 cluster unavailable,
6 fix failed (conflict or dry-run rejection; nothing after the failure was applied).
`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...CLUSTER_FLAGS,
      filename: { type: 'string', short: 'f', multiple: true },
      write: { type: 'boolean' },
      apply: { type: 'boolean' },
      rollback: { type: 'string' },
      'rollback-file': { type: 'string' },
      level: { type: 'string' },
      'include-unknown': { type: 'boolean' },
      'dedicated-sa': { type: 'boolean' },
      'audit-log': { type: 'string', multiple: true },
      'min-window': { type: 'string' },
      'pod-templates': { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(help(io.invokedAs));
    return EXIT.OK;
  }
  const level = values.level ?? 'sa';
  if (level !== 'sa' && level !== 'pod') throw new UserError(`--level: expected sa or pod, got "${level}"`);
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UserError(`-o: expected text or json, got "${output}"`);
  const paths = [...(values.filename ?? []), ...positionals];
  const live = paths.length === 0;
  if (values.write && live) throw new UserError('--write edits manifest files; give them with -f (for a live cluster use --apply)');
  if ((values.apply || values.rollback) && !live) throw new UserError('--apply and --rollback act on the live cluster; they cannot be combined with -f');
  if (values.write && values.apply) throw new UserError('--write and --apply cannot be combined');
  const cluster = clusterOptionsFromFlags(values);
  // --apply writes with @kubernetes/client-node, which is not given the scan's impersonation; refuse rather
  // than patch as a different identity than the one that was asked for.
  if ((values.apply || values.rollback) && cluster.impersonate) throw new UserError('--apply/--rollback do not support --as/--as-group/--as-uid; run as the identity that should make the change');

  if (values.rollback) {
    const { applyRollbackFile } = await import('../../remedy/live.ts');
    return applyRollbackFile(values.rollback, cluster, io);
  }

  const fixOpts: FixOptions = { level, includeUnknown: values['include-unknown'] === true, dedicatedSa: values['dedicated-sa'] === true };
  // Stdin is read once: the reader parses it and the editor diffs the same text.
  let stdinText: string | undefined;
  let stdin = io.stdin;
  if (paths.includes('-')) {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    stdinText = Buffer.concat(chunks).toString('utf8');
    stdin = Readable.from([stdinText]);
  }
  const scanOpts: ScanOptions = { paths, cluster, stdin };
  if (values['pod-templates']) scanOpts.podTemplates = resolve(io.cwd, values['pod-templates']);
  if (values['audit-log']?.length) scanOpts.auditLogs = values['audit-log'].map((p) => (p === '-' ? p : resolve(io.cwd, p)));
  if (values['min-window'] !== undefined) {
    // The same durations as scan (7d, 12h, 30m, plain days): "7 days" must not silently become NaN.
    const days = parseWindowDays(String(values['min-window']));
    if (days === undefined) throw new UserError(`--min-window: expected a duration such as 7d, 12h, 30m or a number of days, got "${values['min-window']}"`);
    scanOpts.minWindowDays = days;
  }
  const { inventory, cluster: clusterRead } = await readInventory(scanOpts, io);
  const result = await analyzeInventory(inventory, scanOpts);
  for (const p of result.inputs.problems) io.stderr.write(`${p.file}${p.line > 0 ? `:${p.line}` : ''}: ${p.level === 'warning' ? 'warning: ' : ''}${p.message}\n`);
  const plan = planFix(inventory, result.workloads, fixOpts);

  if (live) {
    if (result.gaps.length) {
      throw new UserError(`the live scan is incomplete (${result.gaps.map((g) => g.resource).join(', ')} unreadable); refusing to plan a fix on partial data`, EXIT.INCOMPLETE);
    }
    const { liveActions, kubectlScript, applyLive, restartCommands } = await import('../../remedy/live.ts');
    const actions = liveActions(plan, inventory);
    if (output === 'json') io.stdout.write(JSON.stringify({ plan, actions: actions.actions }, null, 2) + '\n');
    else {
      io.stdout.write(renderPlan(withNotes(plan, actions.notes)));
      if (!values.apply && actions.actions.length) {
        io.stdout.write('\nCommands (nothing was changed; run them, or use --apply):\n' + kubectlScript(actions.actions));
        if (plan.restart.length) io.stdout.write('\nAfterwards, running pods of these workloads keep their token until restarted:\n' + restartCommands(plan.restart).join('\n') + '\n');
      }
    }
    if (!values.apply) return EXIT.OK;
    return applyLive(actions.actions, plan, { cluster: { ...cluster, ...(clusterRead?.context && clusterRead.context !== 'in-cluster' ? { context: clusterRead.context } : {}) }, io, rollbackFile: values['rollback-file'], context: clusterRead?.context, expectServer: clusterRead?.server, restartTo: output === 'json' ? 'stderr' : 'stdout' });
  }

  if (result.inputs.problems.some((p) => p.level === 'error') && values.write) {
    throw new UserError('some input could not be read (see above); nothing was written', EXIT.UNREADABLE_INPUT);
  }
  let changes;
  try {
    changes = await computeManifestChanges(plan, { cwd: io.cwd, ...(stdinText !== undefined ? { stdinText } : {}) });
  } catch (err) {
    if (err instanceof ManifestEditError) throw new UserError(`${err.message}; nothing was written`, EXIT.UNREADABLE_INPUT);
    throw err;
  }
  if (output === 'json') io.stdout.write(JSON.stringify({ plan, files: changes.map((c) => ({ file: c.file, created: c.created })) }, null, 2) + '\n');
  else {
    io.stdout.write(renderPlan(plan));
    if (changes.length) io.stdout.write('\n' + renderDiff(changes));
  }
  if (!values.write) return EXIT.OK;
  if (changes.some((c) => c.file === '-')) io.stderr.write('stdin (-) is never written: apply the diff above to its source (e.g. the Helm values/templates)\n');
  const written = await writeManifestChanges(changes, { cwd: io.cwd });
  io.stderr.write(written.length ? `wrote ${written.length} file(s): ${written.join(', ')}\n` : 'nothing to write\n');
  return EXIT.OK;
}

function withNotes(plan: FixPlan, notes: FixPlan['manual']): FixPlan {
  return notes.length ? { ...plan, manual: [...plan.manual, ...notes] } : plan;
}
