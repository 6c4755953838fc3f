// STUB: replaced by the issue that builds `scan`.
import type { CliIO } from '../io.ts';
import { EXIT } from '../exit-codes.ts';

export async function run(_argv: string[], io: CliIO): Promise<number> {
  io.stderr.write('scan: not implemented yet\n');
  return EXIT.USAGE;
}
