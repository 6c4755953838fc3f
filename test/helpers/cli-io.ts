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
