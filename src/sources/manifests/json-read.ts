// JSON input (a file whose first non-blank byte is `{`, as apimachinery's YAMLOrJSONDecoder decides):
// a stream of documents; List items are parsed one at a time, unwanted kinds are not parsed at all.
import { isUtf8 } from 'node:buffer';
import type { InventorySink } from '../../inventory/sink.ts';
import type { KubeObject, ObjectRereader, SourcedObject } from '../../inventory/types.ts';
import { full } from './yaml-full-lazy.ts';
import { emitDocument, fillItemTypeFromList, hasTypeMeta, isPlainObject, SKIP_ITEM_NO_TYPE } from './emit.ts';
import { findJsonSyntaxError } from './json-error.ts';
import { joinPieces, JsonSplitter } from './json-split.ts';
import type { ItemLayout, JsonSplitEvents, ListTypeMeta } from './json-split.ts';
import type { LineIndex } from './line-index.ts';

interface PendingItem {
  object: Record<string, unknown>;
  line: number;
  itemIndex: number;
}

export interface JsonFileReaderOptions {
  /** Keep each object's text for lazy field lines (small inputs read whole). Default false. */
  keepText?: boolean;
  /** A reader of a byte range of a List (see `trouble`). Default false. */
  rangeMode?: boolean;
  /** The caller reuses chunk memory after each push (see JsonSplitOptions). Default false. */
  reusedChunks?: boolean;
  /** Cut unread subtrees before parsing; default: when the text is not kept. */
  elide?: boolean;
  /**
   * The file can be read again by offset (a regular file that lists other kinds after its Pods): Pods then
   * carry where their bytes are, so the inventory may keep owned ones as compact rows (inventory/deferred-pods.ts).
   * `push` must then be given each chunk's offset in the file.
   */
  rereader?: ObjectRereader;
  /** Line starts found by vector code for chunks read into its buffer (see JsonSplitOptions.lineIndex). */
  lineIndex?: LineIndex;
}

export class JsonFileReader implements JsonSplitEvents {
  private readonly file: string;
  private readonly sink: InventorySink;
  private readonly splitter: JsonSplitter;
  /** Items without kind/apiVersion seen before the List's own kind: typed at the end of the List. */
  private pending: PendingItem[] = [];
  private failed = false;

  /**
   * Small inputs (read whole) keep each object's text so `lineOf` can re-parse it on demand (JSON is
   * YAML); streamed dumps do not, to stay flat in memory.
   */
  private readonly keepText: boolean;

  /**
   * Set by a reader of a byte range of a List (sources/manifests/parallel.ts): a problem at the level of the
   * file (invalid JSON, an oversized item, an item whose type only the List's end would tell) is not
   * reported but noted here, and the whole file is then read again by one reader, which reports it exactly.
   */
  readonly rangeMode: boolean;
  trouble: string | undefined;

  private readonly rereader: ObjectRereader | undefined;
  /** The chunk being split and its offset in the file (with a rereader). */
  private chunk: Buffer | undefined;
  private chunkOffset = 0;

  constructor(file: string, sink: InventorySink, maxObjectBytes: number, opts: JsonFileReaderOptions = {}) {
    const keepText = opts.keepText ?? false;
    this.file = file;
    this.sink = sink;
    this.keepText = keepText;
    this.rangeMode = opts.rangeMode ?? false;
    this.rereader = opts.rereader;
    // Small inputs are parsed whole (their text backs lineOf); elision only pays on big dumps.
    this.splitter = new JsonSplitter(this, { maxObjectBytes, elide: opts.elide ?? !keepText, reusedChunks: opts.reusedChunks ?? false, ...(opts.lineIndex ? { lineIndex: opts.lineIndex } : {}) });
  }

  /** Lazy field lines of an object whose JSON text starts at `line`. */
  private lineOfFn(text: string, line: number): ((path: readonly (string | number)[]) => number | undefined) | undefined {
    if (!this.keepText) return undefined;
    return (path) => {
      try {
        const l = full().lineOfPath(text, 0, path);
        return l === undefined ? undefined : line + l;
      } catch {
        return undefined;
      }
    };
  }

  get hasFailed(): boolean {
    return this.failed || this.splitter.hasFailed;
  }

  push(chunk: Buffer, lineOfChunkStart: () => number, fileOffset = 0): void {
    if (this.hasFailed) return;
    this.chunk = chunk;
    this.chunkOffset = fileOffset;
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      this.failed = true;
      this.problem(lineOfChunkStart() + countNl(chunk, nul), 'not a text file (contains a NUL byte); expected YAML or JSON');
      return;
    }
    this.splitter.push(chunk);
  }

  get line(): number {
    return this.splitter.lineNumber;
  }

  /** The splitter, for a range reader's checks (items cut, documents complete). */
  get split(): JsonSplitter {
    return this.splitter;
  }

  end(): void {
    if (this.hasFailed) return;
    this.splitter.end();
  }

  private problem(line: number, message: string): void {
    if (this.rangeMode) {
      this.trouble ??= `line ${line}: ${message}`;
      return;
    }
    this.sink.problem({ file: this.file, line, message, level: 'error' });
  }

  error(message: string, line: number): void {
    this.problem(line, message);
  }

  item(pieces: Buffer[], size: number, line: number, docIndex: number, itemIndex: number, kind: string | undefined, list: ListTypeMeta, layout?: ItemLayout): boolean {
    const sink = this.sink;
    if (kind !== undefined && kind !== '' && sink.wantsKind && !sink.wantsKind(kind)) {
      sink.skipped(`kind ${kind} not used`);
      return true;
    }
    let value: unknown;
    // The item's text, decoded once: parsed, and kept for field lines when the reader keeps text.
    let text: string | undefined;
    if (layout) {
      // Cut by indentation: a parse failure means the layout was not what it looked like; the splitter
      // rescans the item byte by byte (and reports real errors then).
      text = textOf(pieces, size);
      value = text === undefined ? undefined : parseQuiet(text);
      if (value === undefined) return false;
      if (layout.elided && isPlainObject(value) && isPlainObject(value.status) && Object.keys(value.status).length > 0) return false;
    } else {
      text = this.decode(joinPieces(pieces, size), line, `item ${itemIndex} of the List`);
      value = text === undefined ? undefined : this.parseText(text, line, `item ${itemIndex} of the List`);
      if (value === undefined) return true;
    }
    if (!isPlainObject(value)) {
      sink.skipped(SKIP_ITEM_NO_TYPE);
      return true;
    }
    if (!hasTypeMeta(value) && (typeof value.kind !== 'string' || value.kind === '') && (typeof value.apiVersion !== 'string' || value.apiVersion === '')) {
      if (list.kind === undefined) {
        if (this.rangeMode) {
          this.trouble ??= `line ${line}: an item without kind/apiVersion`;
          return true;
        }
        // kubectl prints the List's kind after its items; keep these few until it is known.
        this.pending.push({ object: value, line, itemIndex });
        return true;
      }
      fillItemTypeFromList(value, list.kind, list.apiVersion);
    }
    // Cut by indentation, the item lies inside the current chunk: its pieces are views of it.
    const reread = layout && this.rereader && kind === 'Pod' ? this.rereadRange(pieces) : undefined;
    this.emitItem(value, line, docIndex, itemIndex, this.keepText && !layout?.elided ? text : undefined, reread);
    return true;
  }

  private rereadRange(pieces: Buffer[]): SourcedObject['reread'] {
    const chunk = this.chunk!;
    const first = pieces[0]!;
    const last = pieces[pieces.length - 1]!;
    if (first.buffer !== chunk.buffer || last.buffer !== chunk.buffer) return undefined;
    const base = this.chunkOffset - chunk.byteOffset;
    return { by: this.rereader!, start: base + first.byteOffset, end: base + last.byteOffset + last.length };
  }

  private emitItem(value: Record<string, unknown>, line: number, docIndex: number, itemIndex: number, text?: string, reread?: SourcedObject['reread']): void {
    if (!hasTypeMeta(value)) {
      this.sink.skipped(SKIP_ITEM_NO_TYPE);
      return;
    }
    const so: SourcedObject = {
      object: value as KubeObject,
      location: { file: this.file, line, document: docIndex, itemPath: `items/${itemIndex}` },
    };
    const lineOf = text === undefined ? undefined : this.lineOfFn(text, line);
    if (lineOf) so.lineOf = lineOf;
    if (reread) so.reread = reread;
    this.sink.object(so);
  }

  document(bytes: Buffer, line: number, index: number, hadItems: boolean, list: ListTypeMeta): void {
    if (hadItems) {
      this.sink.document();
      const pending = this.pending;
      this.pending = [];
      for (const p of pending) {
        fillItemTypeFromList(p.object, list.kind, list.apiVersion);
        this.emitItem(p.object, p.line, index, p.itemIndex);
      }
      return;
    }
    const text = this.decode(bytes, line, 'JSON document');
    const value = text === undefined ? undefined : this.parseText(text, line, 'JSON document');
    if (value === undefined) {
      this.sink.document();
      return;
    }
    const lineOf = this.keepText ? this.lineOfFn(text!, line) : undefined;
    emitDocument(value, { file: this.file, line, document: index, ...(lineOf ? { lineOf } : {}) }, this.sink);
  }

  /** The bytes as text, or undefined with a `file:line` problem when they are not UTF-8. */
  private decode(bytes: Buffer, line: number, what: string): string | undefined {
    if (isUtf8(bytes)) return bytes.toString('utf8');
    this.problem(line, `${what} is not valid UTF-8 text`);
    return undefined;
  }

  /** JSON.parse with a `file:line` problem on failure (undefined). */
  private parseText(text: string, line: number, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      // V8's message may lack a position and quotes the input (possibly Secret data): locate it ourselves.
      const e = findJsonSyntaxError(text);
      const at = e ? line + countNlStr(text, e.offset) : line;
      this.problem(at, `invalid JSON in ${what}: ${e ? e.message : 'not valid JSON'}`);
      return undefined;
    }
  }
}

/**
 * The pieces of an item as one text; undefined when it is not UTF-8 (pieces are cut at line ends, so the
 * whole is UTF-8 exactly when each piece is). Several pieces (a kubectl Pod is ~9 once its unread blocks are
 * cut) are first copied together into one reused buffer and decoded once: decoding them one by one cost a call
 * per piece, and JSON.parse then copied the joined string flat again (T4, half the file: 1.44 -> 1.18 s to
 * decode and parse). An item bigger than the buffer is allowed to grow it to is decoded piece by piece.
 */
function textOf(pieces: Buffer[], size: number): string | undefined {
  if (pieces.length === 1) return isUtf8(pieces[0]!) ? pieces[0]!.toString('utf8') : undefined;
  if (size <= MAX_JOIN_BYTES) {
    if (joinBuffer.length < size) joinBuffer = Buffer.allocUnsafe(Math.min(MAX_JOIN_BYTES, Math.max(size, 2 * joinBuffer.length)));
    let n = 0;
    for (const p of pieces) n += p.copy(joinBuffer, n);
    const joined = joinBuffer.subarray(0, n);
    return isUtf8(joined) ? joined.toString('utf8') : undefined;
  }
  let text = '';
  for (const p of pieces) {
    if (!isUtf8(p)) return undefined;
    text += p.toString('utf8');
  }
  return text;
}

const MAX_JOIN_BYTES = 4 * 1024 * 1024;
let joinBuffer = Buffer.allocUnsafe(64 * 1024);

function parseQuiet(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function countNl(buf: Buffer, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0 && i < to; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function countNlStr(s: string, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
