// Argument dispatch only: each sub-command lives in src/cli/commands/<name>.ts and exports `run`.
import { EXIT, UserError } from './exit-codes.ts';
import type { CliIO, Command } from './io.ts';

/** Sub-commands, loaded lazily so `--help` and small commands start fast. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: Command }> }> = {
  scan: { summary: 'which workloads carry a service-account token, what it can do, whether it is needed', load: () => import('./commands/scan.ts') },
  'can-i': { summary: 'answer `kubectl auth can-i` offline from manifests (or live)', load: () => import('./commands/can-i.ts') },
  'who-can': { summary: 'every subject that can perform an action, and through which binding', load: () => import('./commands/who-can.ts') },
  fix: { summary: 'plan and apply automount/RBAC fixes to manifests or a live cluster', load: () => import('./commands/fix.ts') },
  policy: { summary: 'admission policies (ValidatingAdmissionPolicy, Kyverno, Gatekeeper) that keep it fixed', load: () => import('./commands/policy.ts') },
  snapshot: { summary: 'write the objects a live scan reads (no Secret values) for offline scans', load: () => import('./commands/snapshot.ts') },
  'rbac-requirements': { summary: 'the least-privilege ClusterRole a live scan needs', load: () => import('./commands/rbac-requirements.ts') },
};

function usage(invokedAs: string): string {
  const lines = [`Usage: ${invokedAs} <command> [flags]`, '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(18)} ${c.summary}`);
  lines.push('', `Run '${invokedAs} <command> --help' for the flags of a command.`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], opts: { invokedAs?: string; io?: Partial<CliIO> } = {}): Promise<number> {
  const io: CliIO = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    invokedAs: opts.invokedAs ?? 'kube-sa-audit',
    ...opts.io,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage(io.invokedAs));
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === 'version') {
    const { VERSION } = await import('../version.ts');
    io.stdout.write(`kube-sa-audit ${VERSION}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`${io.invokedAs}: unknown command "${name}"\n\n${usage(io.invokedAs)}`);
    return EXIT.USAGE;
  }
  try {
    const { run } = await command.load();
    return await run(rest, io);
  } catch (err) {
    return reportError(err, io);
  }
}

/** Every error ends as one line on stderr and a distinct exit code; a stack only with KSA_DEBUG=1. */
export function reportError(err: unknown, io: CliIO): number {
  if (err instanceof UserError) {
    io.stderr.write(`${io.invokedAs}: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err as { code?: string; message?: string; stack?: string };
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e?.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    io.stderr.write(`${io.invokedAs}: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e?.code === 'EPIPE') return EXIT.OK;
  io.stderr.write(`${io.invokedAs}: internal error: ${e?.message ?? String(err)}\n`);
  if (io.env.KSA_DEBUG === '1' && e?.stack) io.stderr.write(e.stack + '\n');
  return 70;
}
