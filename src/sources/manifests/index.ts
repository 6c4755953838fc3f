// Manifest source: files, directories (recursive) and stdin, in YAML or JSON, into an InventorySink.
//
// Format per input as apimachinery's YAMLOrJSONDecoder decides it: JSON when the first non-blank byte is
// `{`, YAML otherwise. JSON streams at any size (List items one by one); YAML is read one document at a
// time with go-yaml v2 semantics (see yaml-convert.ts). Every problem is one `file:line: message`
// pushed to the sink; the other inputs are still read.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { isPartSink, type InventorySink, type PartSink } from '../../inventory/sink.ts';
import type { InputProblem, ObjectRereader } from '../../inventory/types.ts';
import { SKIP_EXTENSION } from './emit.ts';
import { JsonFileReader } from './json-read.ts';
import { createLineIndex } from './line-index.ts';
import { MAX_RETAINED_YAML_BYTES, PARALLEL_MIN_BYTES, PARALLEL_MIN_FILES, readEntriesInParallel, readerThreads, readListInParallel } from './parallel.ts';
import type { YamlFileReader, YamlReadState } from './yaml-read.ts';

// The YAML side (and the `yaml` package, ~0.1 s to load) is loaded only when a YAML input shows up:
// a JSON dump scan never pays for it.
let yamlReader: typeof import('./yaml-read.ts') | undefined;
async function loadYamlReader(): Promise<typeof import('./yaml-read.ts')> {
  yamlReader ??= await import('./yaml-read.ts');
  return yamlReader;
}

export interface ManifestReadOptions {
  /** Used for the path `-`. */
  stdin?: Readable;
  cwd?: string;
  /** Largest single YAML document (default 16 MiB); larger ones are refused with a hint to use JSON. */
  maxYamlDocumentBytes?: number;
  /** Largest single JSON object or List item (default 64 MiB). Lists themselves have no limit. */
  maxJsonObjectBytes?: number;
  /** Read size (default 1 MiB). */
  chunkBytes?: number;
  /** Test hook: every decoded YAML document value goes here instead of the sink. */
  onYamlDocumentValue?: (value: unknown, line: number, spellings?: Map<string, string>) => void;
  /** Test hook: never use the fast YAML reader. */
  noFastYaml?: boolean;
  /** Reader threads for large inputs (see parallel.ts `readerThreads`): default 1, i.e. this thread only. */
  workers?: number;
  /** A JSON file at least this big is read by several threads when it has kubectl's layout (default 48 MiB). */
  parallelMinBytes?: number;
  /** A directory with at least this many manifest files is read by several threads (default 400). */
  parallelMinFiles?: number;
  /** Filled in with how the inputs were read (tests, timings). */
  readReport?: ReadReport;
}

export interface ReadReport {
  /** JSON Lists read by several threads. */
  listsInParallel: number;
  /** JSON Lists a range reader handed back to a single reader (see parallel.ts). */
  listsHandedBack: number;
  directoriesInParallel: number;
}

export const DEFAULT_MAX_YAML_DOCUMENT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_JSON_OBJECT_BYTES = 64 * 1024 * 1024;

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Reads files, directories (recursive) and `-`; pushes objects, problems and skips into the sink. */
export async function readManifests(paths: string[], sink: InventorySink, opts: ManifestReadOptions = {}): Promise<void> {
  const cwd = opts.cwd ?? process.cwd();
  const state: YamlReadState = { retainedBytes: 0 };
  if (opts.onYamlDocumentValue) state.onDocumentValue = opts.onYamlDocumentValue;
  if (opts.noFastYaml) state.noFastPath = true;
  // Test hooks see documents in this thread only.
  const threads = opts.onYamlDocumentValue || opts.noFastYaml || !isPartSink(sink) ? 1 : readerThreads(opts.workers);
  for (const p of paths) {
    if (p === '-') {
      await readInput('-', opts.stdin ?? process.stdin, sink, opts, state);
      continue;
    }
    const abs = resolve(cwd, p);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      sink.problem({ file: p, line: 0, message: `cannot read: ${fsMessage(e)}`, level: 'error' });
      continue;
    }
    if (st.isDirectory()) {
      const entries: WalkEntry[] = [];
      await walkDirectory(p, abs, entries, new Set([await realpath(abs)]));
      const files = entries.reduce((n, e) => n + (e.file !== undefined ? 1 : 0), 0);
      if (threads > 1 && files >= (opts.parallelMinFiles ?? PARALLEL_MIN_FILES)) {
        if (opts.readReport) opts.readReport.directoriesInParallel++;
        await readEntriesInParallel(entries, sink as PartSink, opts, threads, (e) => applyWalkEntry(e, sink, opts, state));
      } else {
        for (const e of entries) await applyWalkEntry(e, sink, opts, state);
      }
    } else {
      if (threads > 1 && st.isFile() && st.size >= (opts.parallelMinBytes ?? PARALLEL_MIN_BYTES) && (await readListInParallel(p, abs, st.size, sink as PartSink, opts, threads))) continue;
      await readManifestFile(p, abs, sink, opts, state);
    }
  }
}

/** One step of reading a directory, in the order a single reader takes them. */
export type WalkEntry =
  | { file: string; abs: string; problem?: undefined; skip?: undefined }
  | { file?: undefined; problem: InputProblem; skip?: undefined }
  | { file?: undefined; problem?: undefined; skip: string };

/** Applies one walk entry to a sink (reads the file, or records the problem or skip). */
export async function applyWalkEntry(e: WalkEntry, sink: InventorySink, opts: ManifestReadOptions, state: YamlReadState): Promise<void> {
  if (e.file !== undefined) await readManifestFile(e.file, e.abs, sink, opts, state);
  else if (e.problem) sink.problem(e.problem);
  else sink.skipped(e.skip);
}

/** Lists a directory tree (sorted by name, symlinked directories once) as the steps to read it. */
async function walkDirectory(shown: string, abs: string, out: WalkEntry[], visited: Set<string>): Promise<void> {
  let entries;
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch (e) {
    out.push({ problem: { file: shown, line: 0, message: `cannot read directory: ${fsMessage(e)}`, level: 'error' } });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const ent of entries) {
    const childShown = join(shown, ent.name);
    const childAbs = join(abs, ent.name);
    let isDir = ent.isDirectory();
    let isFile = ent.isFile();
    if (ent.isSymbolicLink()) {
      try {
        const st = await stat(childAbs);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch (e) {
        out.push({ problem: { file: childShown, line: 0, message: `cannot read: ${fsMessage(e)}`, level: 'error' } });
        continue;
      }
    }
    if (isDir) {
      // Symlinked directories are followed once (a loop would otherwise recurse forever).
      let real: string;
      try {
        real = await realpath(childAbs);
      } catch {
        continue;
      }
      if (visited.has(real)) continue;
      visited.add(real);
      await walkDirectory(childShown, childAbs, out, visited);
    } else if (isFile) {
      const lower = ent.name.toLowerCase();
      if (MANIFEST_EXTENSIONS.some((e) => lower.endsWith(e))) out.push({ file: childShown, abs: childAbs });
      else out.push({ skip: SKIP_EXTENSION });
    }
  }
}

/** Files up to this size are read in one synchronous call (10,000 small manifests: no stream per file). */
const SMALL_FILE_BYTES = 1024 * 1024;
/** Enough of a large file to find its first non-blank byte (JSON or YAML). */
const SNIFF_BYTES = 64 * 1024;

/** Reads one file (any size, JSON or YAML) into the sink; never throws. */
export async function readManifestFile(shown: string, abs: string, sink: InventorySink, opts: ManifestReadOptions, state: YamlReadState): Promise<void> {
  const chunkBytes = opts.chunkBytes ?? 1024 * 1024;
  let small: Buffer | undefined;
  let regular = false;
  let size = 0;
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch (e) {
    sink.problem({ file: shown, line: 0, message: `cannot read: ${fsMessage(e)}`, level: 'error' });
    return;
  }
  try {
    const st = fstatSync(fd);
    regular = st.isFile();
    size = st.size;
    // Pipes and process substitution (`-f <(helm template …)`) report size 0: those are streamed
    // from the same descriptor (opening a FIFO twice would wait for a second writer).
    if (st.isFile() && st.size <= SMALL_FILE_BYTES && st.size <= chunkBytes) {
      const buf = Buffer.allocUnsafe(st.size);
      small = buf.subarray(0, readFullyAt(fd, buf, st.size, 0));
      closeSync(fd);
    }
  } catch (e) {
    closeSync(fd);
    sink.problem({ file: shown, line: 0, message: `cannot read: ${fsMessage(e)}`, level: 'error' });
    return;
  }
  if (small) await readWhole(shown, small, sink, opts, state);
  else if (!regular || !readLargeJsonFile(shown, abs, fd, size, sink, opts, chunkBytes)) await readInput(shown, createReadStream('', { fd, highWaterMark: chunkBytes, autoClose: true }), sink, opts, state);
}

/** Reads `want` bytes at `position` into the start of `buf` (fewer at the end of the file); returns how many. */
export function readFullyAt(fd: number, buf: Buffer, want: number, position: number): number {
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buf, got, want - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * A large regular JSON file, read synchronously through one reused buffer: fresh buffers for 2 GB of input cost
 * a page fault per 4 KiB (seconds of system time on virtual machines). Returns false, having consumed nothing
 * that matters (its reads are positional: the descriptor still stands at 0 for the caller to stream), when the
 * file does not start as JSON.
 */
function readLargeJsonFile(shown: string, abs: string, fd: number, size: number, sink: InventorySink, opts: ManifestReadOptions, chunkBytes: number): boolean {
  let reader: JsonFileReader | undefined;
  try {
    // Chunks are read straight into the line index's memory when this Node runs it (see line-index.ts).
    const lineIndex = createLineIndex(chunkBytes);
    const buf = lineIndex?.buffer ?? Buffer.allocUnsafe(chunkBytes);
    let pos = 0;
    for (;;) {
      // The first read only decides the format (a YAML file is then streamed from 0: keep that re-read small).
      const n = readSync(fd, buf, 0, reader ? chunkBytes : Math.min(chunkBytes, SNIFF_BYTES), pos);
      if (n === 0) break;
      let chunk = buf.subarray(0, n);
      let chunkAt = pos;
      if (!reader) {
        if (sniff(chunk) !== 'json') return false;
        const rereader = otherKindsFollowPods(fd, size) ? new FileRereader(shown, abs) : undefined;
        reader = new JsonFileReader(shown, sink, opts.maxJsonObjectBytes ?? DEFAULT_MAX_JSON_OBJECT_BYTES, { reusedChunks: true, ...(rereader ? { rereader } : {}), ...(lineIndex ? { lineIndex } : {}) });
        if (hasBom(chunk)) {
          chunk = chunk.subarray(3);
          chunkAt += 3;
        }
      }
      pos += n;
      reader.push(chunk, () => reader!.line, chunkAt);
      if (reader.hasFailed) break;
    }
    if (!reader) return false;
    if (!reader.hasFailed) reader.end();
  } catch (e) {
    if (!reader) return false;
    sink.problem({ file: shown, line: reader.line, message: `cannot read: ${fsMessage(e)}`, level: 'error' });
  }
  closeSync(fd);
  return true;
}

/**
 * Whether a JSON List file names, among the items at its end, a kind other than Pod: `kubectl get` prints the
 * kinds asked for one after the other, Pods first, so owners, ServiceAccounts and RBAC then follow the Pods.
 * Only then are owned Pods worth deferring (inventory/deferred-pods.ts): in a Pods-only dump (the `kubectl get
 * pods -A -o json` of the well-known jq audit) no owner follows, and every deferred Pod would be read twice.
 * This decides speed only: deferred or not, the inventory is the same. Reads the last 256 KiB; kubectl's layout
 * puts the List's own `kind` at the smallest indentation and item keys at three times it.
 */
export function otherKindsFollowPods(fd: number, size: number): boolean {
  const want = Math.min(size, 256 * 1024);
  const buf = Buffer.allocUnsafe(want);
  const tail = buf.toString('latin1', 0, readFullyAt(fd, buf, want, size - want));
  const kinds: { indent: number; kind: string }[] = [];
  for (const m of tail.matchAll(/\n( +)"kind": "([A-Za-z0-9]+)"/g)) kinds.push({ indent: m[1]!.length, kind: m[2]! });
  if (kinds.length === 0) return false;
  const listIndent = Math.min(...kinds.map((k) => k.indent));
  return kinds.some((k) => k.indent === 3 * listIndent && k.kind !== 'Pod');
}

/** Reads byte ranges of a file again (deferred Pods whose owner turned out to be absent). */
class FileRereader implements ObjectRereader {
  readonly file: string;
  private readonly abs: string;
  private fd: number | undefined;
  constructor(file: string, abs: string) {
    this.file = file;
    this.abs = abs;
  }
  read(start: number, end: number): Buffer {
    this.fd ??= openSync(this.abs, 'r');
    const buf = Buffer.allocUnsafe(end - start);
    if (readFullyAt(this.fd, buf, end - start, start) !== end - start) throw new Error('the file is shorter than when it was read');
    return buf;
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** One input already in memory: the same as readInput with a single chunk, without stream overhead. */
async function readWhole(shown: string, buf: Buffer, sink: InventorySink, opts: ManifestReadOptions, state: YamlReadState): Promise<void> {
  if (buf.length === 0) {
    sink.skipped('empty file');
    return;
  }
  const kind = sniff(buf);
  if (kind === 'utf16') {
    sink.problem({ file: shown, line: 1, message: 'UTF-16 text is not supported; convert the file to UTF-8', level: 'error' });
    return;
  }
  const reader =
    kind === 'json'
      ? new JsonFileReader(shown, sink, opts.maxJsonObjectBytes ?? DEFAULT_MAX_JSON_OBJECT_BYTES, { keepText: true })
      : new (yamlReader ?? (await loadYamlReader())).YamlFileReader(
          shown,
          sink,
          { maxDocumentBytes: opts.maxYamlDocumentBytes ?? DEFAULT_MAX_YAML_DOCUMENT_BYTES, maxRetainedBytes: MAX_RETAINED_YAML_BYTES },
          state,
        );
  try {
    feed(reader, kind === 'json' && hasBom(buf) ? buf.subarray(3) : buf);
    if (!reader.hasFailed) reader.end();
  } catch (e) {
    sink.problem({ file: shown, line: reader instanceof JsonFileReader ? reader.line : 0, message: `cannot read: ${(e as Error).message}`, level: 'error' });
  }
}

/** Reads one input stream; never throws (every failure is a problem for this input). */
async function readInput(shown: string, stream: Readable, sink: InventorySink, opts: ManifestReadOptions, state: YamlReadState): Promise<void> {
  let reader: JsonFileReader | YamlFileReader | undefined;
  let sniffed: Buffer | undefined;
  let sawBytes = false;
  try {
    for await (const raw of stream) {
      const chunk: Buffer = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      if (chunk.length === 0) continue;
      sawBytes = true;
      if (!reader) {
        // Decide the format from the first non-blank byte (a BOM is skipped).
        const buf: Buffer = sniffed ? Buffer.concat([sniffed, chunk]) : chunk;
        const kind = sniff(buf);
        if (kind === 'more') {
          sniffed = buf;
          continue;
        }
        sniffed = undefined;
        if (kind === 'utf16') {
          sink.problem({ file: shown, line: 1, message: 'UTF-16 text is not supported; convert the file to UTF-8', level: 'error' });
          stream.destroy();
          return;
        }
        reader =
          kind === 'json'
            ? new JsonFileReader(shown, sink, opts.maxJsonObjectBytes ?? DEFAULT_MAX_JSON_OBJECT_BYTES)
            : new (await loadYamlReader()).YamlFileReader(
                shown,
                sink,
                { maxDocumentBytes: opts.maxYamlDocumentBytes ?? DEFAULT_MAX_YAML_DOCUMENT_BYTES, maxRetainedBytes: MAX_RETAINED_YAML_BYTES },
                state,
              );
        feed(reader, kind === 'json' && hasBom(buf) ? buf.subarray(3) : buf);
      } else {
        feed(reader, chunk);
      }
      if (reader.hasFailed) {
        stream.destroy();
        return;
      }
    }
    if (!reader && sniffed) {
      // Only blank bytes: an empty YAML stream.
      reader = new (await loadYamlReader()).YamlFileReader(shown, sink, { maxDocumentBytes: opts.maxYamlDocumentBytes ?? DEFAULT_MAX_YAML_DOCUMENT_BYTES, maxRetainedBytes: MAX_RETAINED_YAML_BYTES }, state);
      feed(reader, sniffed);
    }
    if (reader) reader.end();
    else if (!sawBytes) sink.skipped('empty file');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const line = reader instanceof JsonFileReader ? reader.line : 0;
    sink.problem({ file: shown, line, message: err.code ? `cannot read: ${fsMessage(err)}` : `cannot read: ${err.message}`, level: 'error' });
  }
}

function feed(reader: JsonFileReader | YamlFileReader, chunk: Buffer): void {
  if (reader instanceof JsonFileReader) reader.push(chunk, () => reader.line);
  else reader.push(chunk);
}


function hasBom(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}

function sniff(buf: Buffer): 'json' | 'yaml' | 'utf16' | 'more' {
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) return 'utf16';
  let i = 0;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b ? 'json' : 'yaml';
  }
  return 'more';
}

function fsMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, '')}` : String(err.message ?? e);
  }
}
