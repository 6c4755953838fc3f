// A reader thread (see parallel.ts): reads its share of the input with the ordinary readers into its own
// InventoryBuilder and posts what it built every few thousand objects, so its memory stays flat.
import { enableCompileCache } from 'node:module';
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { InventoryBuilder } from '../../inventory/build.ts';
import { PodTemplateTable } from '../../inventory/pod-templates.ts';
import type { InventorySink, PartBuilderOptions } from '../../inventory/sink.ts';
import type { InputProblem, SourcedObject } from '../../inventory/types.ts';
import { applyWalkEntry, readFullyAt } from './index.ts';
import { JsonFileReader } from './json-read.ts';
import { MAX_RETAINED_YAML_BYTES, type ReaderMessage, type ReaderTask } from './parallel.ts';
import type { YamlReadState } from './yaml-read.ts';

enableCompileCache?.();

const { task, builder: builderOptions } = workerData as { task: ReaderTask; builder: PartBuilderOptions };
const port = parentPort!;
const builder = new InventoryBuilder({ origin: builderOptions.origin, podTemplates: new PodTemplateTable(builderOptions.podTemplates), keepPodRecords: builderOptions.keepPodRecords, partMode: true });

/** Objects per posted part: large enough that posting costs little, small enough to keep this thread lean. */
const PART_OBJECTS = 2000;

class PostingSink implements InventorySink {
  private objects = 0;
  /** Range readers after the first see the List's document begin (synthetically) and end: not a document of theirs. */
  ignoreDocuments: number;
  constructor(ignoreDocuments: number) {
    this.ignoreDocuments = ignoreDocuments;
  }
  object(o: SourcedObject): void {
    builder.object(o);
    if (++this.objects >= PART_OBJECTS) this.flush();
  }
  problem(p: InputProblem): void {
    builder.problem(p);
  }
  skipped(reason: string): void {
    builder.skipped(reason);
  }
  document(): void {
    if (this.ignoreDocuments > 0) this.ignoreDocuments--;
    else builder.document();
  }
  wantsKind(kind: string): boolean {
    return builder.wantsKind(kind);
  }
  flush(): void {
    this.objects = 0;
    const m: ReaderMessage = { type: 'part', part: builder.takePart() };
    port.postMessage(m);
  }
}

function readRange(t: Extract<ReaderTask, { mode: 'range' }>, sink: PostingSink): ReaderMessage {
  const reader = new JsonFileReader(t.shown, sink, t.maxJsonObjectBytes, { rangeMode: true, reusedChunks: true });
  const fd = openSync(t.abs, 'r');
  let itemsInRange = 0;
  const buffer = Buffer.allocUnsafe(t.chunkBytes);
  try {
    // Ranges after the first begin at an item: a one-line prefix puts the reader inside a List's items, with
    // the item's indentation before its `{` so the indentation fast path applies from the first item on.
    let prefix: Buffer | undefined = t.index > 0 ? Buffer.from(`{"items":[\n${' '.repeat(t.indent)}`, 'latin1') : undefined;
    for (let pos = t.start; pos < t.end && !reader.hasFailed && reader.trouble === undefined; ) {
      // One buffer for the whole range (the reader copies what it keeps across chunks).
      const got = readFullyAt(fd, buffer, Math.min(t.chunkBytes, t.end - pos), pos);
      if (got === 0) break;
      pos += got;
      const bytes = buffer.subarray(0, got);
      reader.push(prefix ? Buffer.concat([prefix, bytes]) : bytes, () => reader.line);
      prefix = undefined;
    }
    itemsInRange = reader.split.itemCount;
    if (!t.last) reader.push(Buffer.from(']}', 'latin1'), () => reader.line);
    if (!reader.hasFailed) reader.end();
  } finally {
    closeSync(fd);
  }
  let trouble = reader.trouble;
  // A range that is not exactly whole items leaves the synthetic List open or closes it early.
  if (trouble === undefined && !t.last && !(reader.split.atDocumentBoundary && reader.split.documentsStarted === 1)) trouble = 'range does not end at an item boundary';
  if (trouble === undefined && reader.hasFailed) trouble = 'the range could not be split';
  sink.flush();
  return { type: 'done', newlines: reader.line - (t.index > 0 ? 2 : 1), items: itemsInRange, ...(trouble !== undefined ? { trouble } : {}) };
}

async function readEntries(t: Extract<ReaderTask, { mode: 'entries' }>, sink: PostingSink): Promise<ReaderMessage> {
  // This thread's share of the retained-YAML budget: the reader stops keeping source text past the shared maximum.
  const state: YamlReadState = { retainedBytes: MAX_RETAINED_YAML_BYTES - t.retainedYamlBytes };
  for (const e of t.entries) await applyWalkEntry(e, sink, t.options, state);
  sink.flush();
  return { type: 'done', newlines: 0, items: 0 };
}

const sink = new PostingSink(task.mode === 'range' && task.index > 0 ? 1 : 0);
const done = task.mode === 'range' ? readRange(task, sink) : await readEntries(task, sink);
port.postMessage(done);
