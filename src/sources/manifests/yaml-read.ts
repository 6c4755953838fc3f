// YAML input: split into documents at `---` lines (as kubectl's YAMLReader does), then each document is
// parsed on its own with the `yaml` package and converted with go-yaml v2 semantics. Only one document's
// syntax tree exists at a time; a document larger than the cap is refused (YAML syntax trees cost tens
// of bytes per input byte), with a hint to use JSON, which streams at any size.
import { full } from './yaml-full-lazy.ts';
import { isUtf8 } from 'node:buffer';
import type { InventorySink } from '../../inventory/sink.ts';
import { emitDocument } from './emit.ts';
import type { PathFn } from './emit.ts';
import { escapePointerSegment } from './emit.ts';
import { mib } from './json-split.ts';
import { tryFastYaml } from './fast-yaml.ts';

export interface YamlReadLimits {
  /** Largest single YAML document parsed, in bytes. */
  maxDocumentBytes: number;
  /** Source text kept for lazy `lineOf`/`sourceText` beyond this total is dropped (positions become unknown). */
  maxRetainedBytes: number;
}

export interface YamlReadState {
  retainedBytes: number;
  /** Test hook: receives each decoded document value instead of the sink (differential tests against kubectl). */
  onDocumentValue?: (value: unknown, line: number, spellings?: Map<string, string>) => void;
  /** Test hook: always use the full `yaml` parser (to compare the fast reader against it). */
  noFastPath?: boolean;
}

const NL = 0x0a;


let fastCache: { text: string; positions: Map<string, number> } | undefined;

function fastPositions(text: string): Map<string, number> {
  if (fastCache?.text !== text) {
    const positions = new Map<string, number>();
    tryFastYaml(text, positions);
    fastCache = { text, positions };
  }
  return fastCache.positions;
}

export class YamlFileReader {
  private readonly file: string;
  private readonly sink: InventorySink;
  private readonly limits: YamlReadLimits;
  private readonly state: YamlReadState;
  private docCounter = 0;
  private failed = false;

  // Segmenter state.
  private carry: Buffer | undefined;
  private segPieces: Buffer[] = [];
  private segSize = 0;
  private segLine = 1;
  private segTooBig = false;
  private atFileStart = true;

  constructor(file: string, sink: InventorySink, limits: YamlReadLimits, state: YamlReadState) {
    this.file = file;
    this.sink = sink;
    this.limits = limits;
    this.state = state;
  }

  get hasFailed(): boolean {
    return this.failed;
  }

  private problem(line: number, message: string, level: 'error' | 'warning' = 'error'): void {
    this.sink.problem({ file: this.file, line, message, level });
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    if (this.atFileStart) {
      this.atFileStart = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      const line = this.segLine + countNewlines(this.segPieces) + (this.carry ? countNl(this.carry, 0, this.carry.length) : 0) + countNl(chunk, 0, nul);
      this.failBinary(line, 'contains a NUL byte');
      return;
    }
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    let segFrom = 0;
    // A marker line at the very start of buf (buf always begins at a line start).
    let search = 0;
    if (isMarkerAt(buf, 0) === true) {
      this.endSegment(buf, segFrom, 0);
      segFrom = 0;
    }
    let keepFrom = -1;
    for (;;) {
      const idx = buf.indexOf('\n---', search);
      if (idx < 0) break;
      const m = isMarkerAt(buf, idx + 1);
      if (m === undefined) {
        keepFrom = idx + 1;
        break;
      }
      if (m) {
        this.endSegment(buf, segFrom, idx + 1);
        segFrom = idx + 1;
      }
      search = idx + 4;
    }
    if (keepFrom < 0) {
      const lastNl = buf.lastIndexOf(NL);
      keepFrom = lastNl < 0 ? 0 : lastNl + 1;
      if (keepFrom < segFrom) keepFrom = segFrom;
    }
    this.addToSegment(buf, segFrom, keepFrom);
    if (keepFrom < buf.length) this.carry = Buffer.from(buf.subarray(keepFrom));
  }

  end(): void {
    if (this.failed) return;
    if (this.carry) {
      const buf = this.carry;
      this.carry = undefined;
      if (isMarkerAt(buf, 0, true)) {
        this.endSegment(buf, 0, 0);
      }
      this.addToSegment(buf, 0, buf.length);
    }
    this.endSegment(Buffer.alloc(0), 0, 0);
  }

  private failBinary(line: number, what: string): void {
    this.failed = true;
    this.problem(line, `not a text file (${what}); expected YAML or JSON`);
  }

  private addToSegment(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.segTooBig) {
      this.segSize += to - from;
      this.segNewlinesDropped += countNl(buf, from, to);
      return;
    }
    this.segSize += to - from;
    if (this.segSize > this.limits.maxDocumentBytes) {
      this.segTooBig = true;
      // Keep counting lines for the documents after it, but drop the bytes.
      const nl = countNewlines(this.segPieces);
      this.segPieces = [];
      this.segNewlinesDropped = nl + countNl(buf, from, to);
      return;
    }
    this.segPieces.push(buf.subarray(from, to));
  }

  private segNewlinesDropped = 0;

  /** Ends the current segment at buf[to] (exclusive), processes it, and starts a new one at `to`. */
  private endSegment(buf: Buffer, from: number, to: number): void {
    if (this.segTooBig) {
      this.segNewlinesDropped += countNl(buf, from, to);
    } else {
      this.addToSegment(buf, from, to);
    }
    const startLine = this.segLine;
    let newlines: number;
    if (this.segTooBig) {
      newlines = this.segNewlinesDropped;
      this.problem(
        startLine + (this.segAtMarker ? 1 : 0),
        `YAML document of ${(this.segSize / (1024 * 1024)).toFixed(1)} MiB is larger than the ${mib(this.limits.maxDocumentBytes)} limit for one YAML document; ` +
          `write it as JSON (for example kubectl get -o json), which is read as a stream of any size`,
      );
    } else {
      newlines = countNewlines(this.segPieces);
      if (this.segSize > 0) this.processSegment(this.segPieces, this.segSize, startLine);
    }
    this.segLine = startLine + newlines;
    this.segPieces = [];
    this.segSize = 0;
    this.segTooBig = false;
    this.segNewlinesDropped = 0;
    // Every segment but the first starts with its `---` line.
    this.segAtMarker = true;
  }

  private segAtMarker = false;

  private processSegment(pieces: Buffer[], size: number, startLine: number): void {
    if (this.failed) return;
    const bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
    if (!isUtf8(bytes)) {
      this.failBinary(startLine + firstInvalidUtf8Line(bytes), 'invalid UTF-8');
      return;
    }
    const text = bytes.toString('utf8');
    if (text.trim() === '') return;
    // kubectl splits the stream at `---` lines before go-yaml sees it, so a directive ends up alone in
    // the previous chunk and fails ("did not find expected <document start>"); %YAML 1.2 is refused
    // outright ("found incompatible YAML document").
    const directive = /^%(?:YAML|TAG)\b.*$/m.exec(text);
    if (directive) {
      this.sink.document();
      this.problem(startLine + countNlStr(text, directive.index), `YAML directive "${directive[0].trim()}" is not accepted by kubectl; remove it`);
      return;
    }
    const retainFast = this.state.retainedBytes + size <= this.limits.maxRetainedBytes;
    const fast = this.state.noFastPath ? undefined : tryFastYaml(text);
    if (fast) {
      if (retainFast) this.state.retainedBytes += size;
      const index = this.docCounter++;
      this.emitValue(fast.value, fast.spellings, text, 0, startLine + fast.firstLine, index, retainFast, startLine, true);
      return;
    }
    let decoded;
    try {
      decoded = full().decodeSegment(text);
    } catch (e) {
      this.problem(startLine, `YAML could not be parsed: ${(e as Error).message.split('\n')[0]}`);
      return;
    }
    const retain = this.state.retainedBytes + size <= this.limits.maxRetainedBytes;
    if (retain) this.state.retainedBytes += size;
    decoded.forEach((d, ordinal) => {
      const index = this.docCounter++;
      if (!d.ok) {
        this.sink.document();
        this.problem(d.line < 0 ? startLine : startLine + d.line, d.message);
        return;
      }
      for (const w of d.warnings) {
        const msg = w.otherLine === undefined ? w.message : w.message.replace('{line}', String(startLine + w.otherLine));
        this.problem(startLine + w.line, msg, 'warning');
      }
      this.emitValue(d.value, d.spellings, text, ordinal, d.line < 0 ? startLine : startLine + d.line, index, retain, startLine, false);
    });
  }

  /** Hands one decoded document to the sink, with lazy field positions from a re-parse of its text. */
  private emitValue(
    value: unknown,
    spellings: Map<string, string> | undefined,
    text: string,
    ordinal: number,
    line: number,
    index: number,
    retain: boolean,
    startLine: number,
    /** Documents the fast reader took get positions from re-running it (50x cheaper than the full parser). */
    fast: boolean,
  ): void {
    if (this.state.onDocumentValue) {
      this.state.onDocumentValue(value, line, spellings);
      return;
    }
    let lineOf: PathFn<number> | undefined;
    if (retain && fast) {
      lineOf = (path) => {
        const line = fastPositions(text).get(path.map((p) => escapePointerSegment(String(p))).join('/'));
        return line === undefined ? undefined : startLine + line;
      };
    } else if (retain) {
      lineOf = (path) => {
        const line = full().lineOfPath(text, ordinal, path);
        return line === undefined ? undefined : startLine + line;
      };
    }
    const sourceText: PathFn<string> = (path) => {
      const key = path.map((p) => escapePointerSegment(String(p))).join('/');
      const s = spellings?.get(key);
      if (s !== undefined) return s;
      const v = valueAt(value, path);
      if (v === true || v === false) return String(v);
      if (!retain) return undefined;
      return full().scalarSourceAt(text, ordinal, path);
    };
    emitDocument(value, { file: this.file, line, document: index, ...(lineOf ? { lineOf } : {}), sourceText }, this.sink);
  }
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[String(p)];
  }
  return cur;
}

/** A `---` marker line at `pos`: true/false, or undefined when the buffer ends too early to tell. */
function isMarkerAt(buf: Buffer, pos: number, atEof = false): boolean | undefined {
  if (pos + 3 > buf.length) return atEof ? false : undefined;
  if (buf[pos] !== 0x2d || buf[pos + 1] !== 0x2d || buf[pos + 2] !== 0x2d) return false;
  if (pos + 3 === buf.length) return atEof ? true : undefined;
  const c = buf[pos + 3];
  return c === NL || c === 0x0d || c === 0x20 || c === 0x09;
}

function countNl(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let i = buf.indexOf(NL, from);
  while (i >= 0 && i < to) {
    n++;
    i = buf.indexOf(NL, i + 1);
  }
  return n;
}

function countNewlines(pieces: Buffer[]): number {
  let n = 0;
  for (const p of pieces) n += countNl(p, 0, p.length);
  return n;
}

/** 0-based line offset of the first invalid UTF-8 sequence (for the error's line number). */
function firstInvalidUtf8Line(bytes: Buffer): number {
  const s = bytes.toString('utf8');
  const bad = s.indexOf('\uFFFD');
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0 && i < bad; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function countNlStr(s: string, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

