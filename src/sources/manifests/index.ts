// STUB (contract; the manifest reader replaces the body).
import type { Readable } from 'node:stream';
import type { InventorySink } from '../../inventory/sink.ts';

export interface ManifestReadOptions {
  /** Used for the path `-`. */
  stdin?: Readable;
  cwd?: string;
}

/** Reads files, directories (recursive) and `-`; pushes objects, problems and skips into the sink. */
export async function readManifests(paths: string[], sink: InventorySink, opts: ManifestReadOptions = {}): Promise<void> {
  void paths; void sink; void opts;
  throw new Error('manifest reader not implemented yet');
}
