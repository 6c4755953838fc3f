// Reading large inputs on several threads.
//
// Reading is most of a big scan: cutting a 2 GB `kubectl get -o json` dump into items and parsing each one.
// Items are independent, so reader threads (parallel-worker.ts) each take a contiguous share of the input,
// reduce every object to inventory records with their own InventoryBuilder, and post them back in parts; this
// thread adds the parts in input order, so the inventory is the same as one reader would build.
//
// - A JSON file in kubectl's layout (`{`, `"apiVersion"`, `"items": [` and one item per indented block) is
//   cut into byte ranges at item boundaries. A raw newline cannot occur inside a JSON string, so the line
//   sequence `<indent>},` / `<indent>{` is an item boundary; each range reader also checks that it ends where
//   an item ends. Each reader counts lines and items from its own start; they are moved to their real place
//   (relocatePart) once the ranges before are done. Anything a range reader cannot settle on its own (a
//   syntax error, an oversized item, an item whose kind only the List's end would tell) makes the whole file
//   be read again by one reader, which reports it exactly as it always does.
// - A directory is walked here; its files are shared out in walk order, contiguous runs per thread.
import { availableParallelism } from 'node:os';
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { relocatePart, type InventoryPart } from '../../inventory/part.ts';
import type { PartSink } from '../../inventory/sink.ts';
import { DEFAULT_MAX_JSON_OBJECT_BYTES, readFullyAt, type ManifestReadOptions, type WalkEntry } from './index.ts';

/** Below this a dump is read faster by one thread than the threads take to start. */
export const PARALLEL_MIN_BYTES = 48 * 1024 * 1024;
export const PARALLEL_MIN_FILES = 400;
const MAX_THREADS = 4;

/**
 * How many reader threads to use: `workers` if given, else KSA_READ_THREADS, else 1. Not one per core by
 * default: on the 2-vCPU virtual machines measured (docs/benchmarks.md), two reader threads each ran at about
 * half speed (reading is bound by memory traffic and page faults there, not by CPU), so a 2.26 GB dump read
 * no faster and held ~300 MB more. `auto` (KSA_READ_THREADS=auto) is one per core, at most 4.
 */
export function readerThreads(workers: number | undefined): number {
  if (workers !== undefined) return Math.max(1, Math.floor(workers));
  const env = process.env.KSA_READ_THREADS;
  if (env === 'auto') return Math.min(MAX_THREADS, availableParallelism());
  if (env !== undefined && /^\d+$/.test(env)) return Math.max(1, Number(env));
  return 1;
}

/** What a reader thread is asked to do (plain data: it crosses threads). */
export type ReaderTask =
  | { mode: 'range'; shown: string; abs: string; start: number; end: number; index: number; last: boolean; indent: number; maxJsonObjectBytes: number; chunkBytes: number }
  | { mode: 'entries'; entries: WalkEntry[]; options: ReaderOptions; retainedYamlBytes: number };

type ReaderOptions = Pick<ManifestReadOptions, 'maxYamlDocumentBytes' | 'maxJsonObjectBytes' | 'chunkBytes'>;

/** A reader thread's messages. */
export type ReaderMessage =
  | { type: 'part'; part: InventoryPart }
  | { type: 'done'; newlines: number; items: number; trouble?: string };

const workerUrl = new URL(`./parallel-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

interface ThreadResult {
  parts: InventoryPart[];
  newlines: number;
  items: number;
  trouble?: string;
}

/** Runs one reader thread to the end, collecting its parts. A crash is trouble, not an exception. */
function runReader(task: ReaderTask, sink: PartSink, onStart: (w: Worker) => void): Promise<ThreadResult> {
  return new Promise((resolvePromise) => {
    const parts: InventoryPart[] = [];
    let settled = false;
    const settle = (r: ThreadResult): void => {
      if (settled) return;
      settled = true;
      resolvePromise(r);
    };
    const w = new Worker(workerUrl, { workerData: { task, builder: sink.partBuilderOptions() } });
    onStart(w);
    w.on('message', (m: ReaderMessage) => {
      if (m.type === 'part') parts.push(m.part);
      else settle({ parts, newlines: m.newlines, items: m.items, ...(m.trouble !== undefined ? { trouble: m.trouble } : {}) });
    });
    w.on('error', (e) => settle({ parts, newlines: 0, items: 0, trouble: `reader thread failed: ${e.message}` }));
    w.on('exit', (code) => settle({ parts, newlines: 0, items: 0, trouble: `reader thread exited (${code}) before it finished` }));
  });
}

async function runAll(tasks: ReaderTask[], sink: PartSink): Promise<ThreadResult[]> {
  const started: Worker[] = [];
  try {
    return await Promise.all(tasks.map((t) => runReader(t, sink, (w) => started.push(w))));
  } finally {
    await Promise.all(started.map((w) => w.terminate()));
  }
}

/** The indentation of the items when the file starts the way kubectl prints a List; else undefined. */
export function kubectlListItemIndent(head: Buffer): number | undefined {
  const m = /^\{\n( +)(?:"apiVersion": "[^"\n\\]*",\n\1)?"items": \[\n( +)\{\n/.exec(head.toString('latin1', 0, Math.min(head.length, 4096)));
  if (!m || m[2]!.length !== 2 * m[1]!.length) return undefined;
  return m[2]!.length;
}

/**
 * The byte offset of the first item that starts at or after `from` (its `{`), found by the boundary
 * `\n<indent>},\n<indent>{\n`; undefined when none is found within `maxScan` bytes.
 */
export function findItemStart(fd: number, from: number, size: number, indent: number, maxScan = 64 * 1024 * 1024): number | undefined {
  const pad = ' '.repeat(indent);
  const pattern = Buffer.from(`\n${pad}},\n${pad}{\n`, 'latin1');
  const window = 1024 * 1024;
  const buf = Buffer.allocUnsafe(window + pattern.length);
  for (let pos = from; pos < size && pos - from < maxScan; pos += window) {
    const got = readFullyAt(fd, buf, Math.min(window + pattern.length, size - pos), pos);
    const at = buf.subarray(0, got).indexOf(pattern);
    if (at >= 0) return pos + at + 1 + indent + 3 + indent;
  }
  return undefined;
}

/**
 * Reads a big JSON List on several threads. Returns false (having added nothing) when the file does not have
 * kubectl's layout or a range reader met something only a single reader reports exactly; the caller then
 * reads the file the ordinary way.
 */
export async function readListInParallel(shown: string, abs: string, size: number, sink: PartSink, opts: ManifestReadOptions, threads: number): Promise<boolean> {
  let starts: number[];
  let indent: number | undefined;
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    indent = kubectlListItemIndent(head.subarray(0, n));
    if (indent === undefined) return false;
    starts = [0];
    for (let k = 1; k < threads; k++) {
      const s = findItemStart(fd, Math.floor((size * k) / threads), size, indent);
      if (s !== undefined && s > starts[starts.length - 1]!) starts.push(s);
    }
  } finally {
    closeSync(fd);
  }
  if (starts.length < 2) return false;
  const tasks: ReaderTask[] = starts.map((start, index) => ({
    mode: 'range',
    shown,
    abs,
    start,
    end: index + 1 < starts.length ? starts[index + 1]! : size,
    index,
    last: index + 1 === starts.length,
    indent: indent!,
    maxJsonObjectBytes: opts.maxJsonObjectBytes ?? DEFAULT_MAX_JSON_OBJECT_BYTES,
    chunkBytes: opts.chunkBytes ?? 1024 * 1024,
  }));
  const results = await runAll(tasks, sink);
  if (results.some((r) => r.trouble !== undefined)) {
    if (opts.readReport) opts.readReport.listsHandedBack++;
    return false;
  }
  if (opts.readReport) opts.readReport.listsInParallel++;
  let line = 1;
  let items = 0;
  results.forEach((r, index) => {
    for (const part of r.parts) {
      // Range k > 0 was read after a one-line synthetic `{"items":[` prefix: its line 2 is the real line `line`.
      if (index > 0) relocatePart(part, shown, line - 2, items);
      sink.addPart(part);
    }
    line += r.newlines;
    items += r.items;
  });
  return true;
}

/**
 * Reads a walked directory on several threads: contiguous runs of entries, parts added in walk order. A run
 * whose thread failed is read again here (`readHere`), so no file is lost and the order stays.
 */
export async function readEntriesInParallel(entries: WalkEntry[], sink: PartSink, opts: ManifestReadOptions, threads: number, readHere: (e: WalkEntry) => Promise<void>): Promise<void> {
  const files = entries.filter((e) => e.file !== undefined).length;
  const per = Math.ceil(files / threads);
  const slices: WalkEntry[][] = [];
  let cur: WalkEntry[] = [];
  let inCur = 0;
  for (const e of entries) {
    if (e.file !== undefined && inCur === per) {
      slices.push(cur);
      cur = [];
      inCur = 0;
    }
    cur.push(e);
    if (e.file !== undefined) inCur++;
  }
  if (cur.length) slices.push(cur);
  const options: ReaderOptions = {};
  if (opts.maxYamlDocumentBytes !== undefined) options.maxYamlDocumentBytes = opts.maxYamlDocumentBytes;
  if (opts.maxJsonObjectBytes !== undefined) options.maxJsonObjectBytes = opts.maxJsonObjectBytes;
  if (opts.chunkBytes !== undefined) options.chunkBytes = opts.chunkBytes;
  const tasks: ReaderTask[] = slices.map((s) => ({ mode: 'entries', entries: s, options, retainedYamlBytes: Math.floor(MAX_RETAINED_YAML_BYTES / slices.length) }));
  const results = await runAll(tasks, sink);
  for (const [k, r] of results.entries()) {
    if (r.trouble === undefined) {
      for (const part of r.parts) sink.addPart(part);
    } else {
      for (const e of slices[k]!) await readHere(e);
    }
  }
}

/** YAML source kept for lazy field positions (beyond it, positions of later documents are unknown); threads share it out. */
export const MAX_RETAINED_YAML_BYTES = 256 * 1024 * 1024;
