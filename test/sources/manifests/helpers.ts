// A recording InventorySink and small helpers for the manifest reader tests.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { InventorySink } from '../../../src/inventory/sink.ts';
import type { InputProblem, SourcedObject } from '../../../src/inventory/types.ts';
import { readManifests } from '../../../src/sources/manifests/index.ts';
import type { ManifestReadOptions } from '../../../src/sources/manifests/index.ts';

export class RecordingSink implements InventorySink {
  objects: SourcedObject[] = [];
  problems: InputProblem[] = [];
  skips: string[] = [];
  documents = 0;
  private readonly wanted: Set<string> | undefined;
  constructor(wanted?: string[]) {
    this.wanted = wanted ? new Set(wanted) : undefined;
    if (!wanted) delete (this as Partial<InventorySink>).wantsKind;
  }
  object(o: SourcedObject): void {
    this.objects.push(o);
  }
  problem(p: InputProblem): void {
    this.problems.push(p);
  }
  skipped(reason: string): void {
    this.skips.push(reason);
  }
  document(): void {
    this.documents++;
  }
  wantsKind?(kind: string): boolean {
    return this.wanted ? this.wanted.has(kind) : true;
  }
  /** `kind/name` of every object, in order. */
  names(): string[] {
    return this.objects.map((o) => `${o.object.kind}/${o.object.metadata?.name ?? ''}`);
  }
  problemLines(): string[] {
    return this.problems.map((p) => `${p.file}:${p.line}: ${p.level}: ${p.message}`);
  }
}

/** Writes files (relative path → content) into a fresh temp dir and returns it. */
export function tempTree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-manifests-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

/** Reads YAML/JSON text given as stdin. */
export async function readText(text: string | Buffer, opts: ManifestReadOptions & { wanted?: string[] } = {}): Promise<RecordingSink> {
  const sink = new RecordingSink(opts.wanted);
  const chunk = opts.chunkBytes;
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  // Feed in small pieces when asked, to exercise chunk boundaries.
  const pieces: Buffer[] = [];
  if (chunk) for (let i = 0; i < buf.length; i += chunk) pieces.push(buf.subarray(i, i + chunk));
  else pieces.push(buf);
  await readManifests(['-'], sink, { ...opts, stdin: Readable.from(pieces) });
  return sink;
}

export async function readPaths(paths: string[], opts: ManifestReadOptions & { wanted?: string[] } = {}): Promise<RecordingSink> {
  const sink = new RecordingSink(opts.wanted);
  await readManifests(paths, sink, opts);
  return sink;
}
