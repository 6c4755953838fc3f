// A CliIO whose stdout and stderr are captured, for running commands in-process through `main`.
import { PassThrough, Readable } from 'node:stream';
import type { CliIO } from '../../src/cli/io.ts';

export interface CapturedCli {
  io: CliIO;
  out: () => string;
  err: () => string;
}

export function captureCliIO(cwd: string = process.cwd(), stdinText?: string, env: NodeJS.ProcessEnv = {}): CapturedCli {
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => o.push(c));
  stderr.on('data', (c: Buffer) => e.push(c));
  const stdin = stdinText !== undefined ? Readable.from([stdinText]) : new PassThrough();
  return {
    io: { stdout, stderr, stdin, cwd, env, invokedAs: 'kube-sa-audit' },
    out: () => Buffer.concat(o).toString(),
    err: () => Buffer.concat(e).toString(),
  };
}

/** Runs a command in-process, as the CLI would, and returns its exit code and output. */
export async function runCli(args: string[], cwd: string = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../src/cli/main.ts');
  const c = captureCliIO(cwd);
  const code = await main(args, { io: c.io });
  return { code, out: c.out(), err: c.err() };
}
