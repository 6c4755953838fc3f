// The streams a command writes to; tests pass their own.
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** `kube-sa-audit` or `kubectl sa-audit`, for help texts. */
  invokedAs: string;
}

export type Command = (argv: string[], io: CliIO) => Promise<number>;
