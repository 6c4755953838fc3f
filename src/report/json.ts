// `-o json`: the ScanResult as is (stable field names; see README "JSON output"). Nothing else goes to stdout.
//
// At 150,000 pods the report is 285 MB (it was 440 MB before permissions were listed once per ServiceAccount):
// building it as one string (and encoding that string to UTF-8 in one piece) cost, at 440 MB, more than half
// of a scan's CPU and ~1.7 GB of memory. `writeJson` produces the same bytes as
// `renderJson`, one array element at a time, in chunks of about 1 MB, and waits for the stream to drain, so
// memory stays flat whatever the size of the report.
import { fstatSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ScanResult } from '../analysis/types.ts';

export function renderJson(result: ScanResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

const CHUNK = 1 << 20;

/**
 * The descriptor behind `out` when writing to it synchronously is safe and cheaper: a regular file or a
 * character device (`> report.json`, `/dev/null`). Pipes and sockets keep the stream (they can be non-blocking).
 */
function syncFd(out: Writable): number | undefined {
  const fd = (out as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || (out as { writableLength?: number }).writableLength) return undefined;
  try {
    const st = fstatSync(fd);
    return st.isFile() || st.isCharacterDevice() ? fd : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Text encoded into one reused buffer and written to a descriptor when the buffer is full. A fresh buffer per
 * chunk costs a page fault per 4 KiB (~0.5 s per 400 MB of report on a virtual machine); one concatenated string
 * per chunk costs flattening it first. Used for the report (JsonOut) and for the streamed scan's spill files.
 */
export class FdWriter {
  protected readonly fd: number;
  private readonly buf: Buffer;
  private used = 0;
  /** Bytes taken so far, written or still buffered. */
  size = 0;

  constructor(fd: number, bufferBytes = 3 * CHUNK) {
    this.fd = fd;
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Appends `s` as UTF-8; returns its length in bytes. */
  put(s: string): number {
    // At most 3 bytes per UTF-16 unit.
    if (this.used + 3 * s.length > this.buf.length) this.flush();
    let n: number;
    if (3 * s.length > this.buf.length) {
      const b = Buffer.from(s, 'utf8');
      this.writeAll(b);
      n = b.length;
    } else {
      n = this.buf.write(s, this.used);
      this.used += n;
    }
    this.size += n;
    return n;
  }

  /** Appends bytes already encoded. Copied into the buffer like text (a spilled finding is ~1 KB): a write per
   * piece was 80,000 system calls for a 150,000-pod report. */
  putBytes(b: Buffer): void {
    if (this.used + b.length > this.buf.length) this.flush();
    if (b.length > this.buf.length) this.writeAll(b);
    else this.used += b.copy(this.buf, this.used);
    this.size += b.length;
  }

  flush(): void {
    if (this.used > 0) this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(b: Buffer): void {
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
  }
}

/** Where the report's text goes: straight into one reused buffer for a file or device, else a stream. */
export class JsonOut {
  private readonly out: Writable;
  /** To a file or device (measured on 24 MB of workloads: 240 → 85 ms with the element trick below). */
  private readonly file: FdWriter | undefined;
  private text = '';

  constructor(out: Writable) {
    this.out = out;
    const fd = syncFd(out);
    this.file = fd === undefined ? undefined : new FdWriter(fd);
  }

  async put(s: string): Promise<void> {
    if (this.file !== undefined) {
      this.file.put(s);
      return;
    }
    this.text += s;
    if (this.text.length >= CHUNK) await this.drainText();
  }

  /** Bytes already encoded (UTF-8 text of the report, read back from a spill file). */
  async putBytes(b: Buffer): Promise<void> {
    if (this.file !== undefined) {
      this.file.putBytes(b);
      return;
    }
    await this.drainText();
    // A copy: the stream may hold on to the chunk after write() returns, and callers reuse theirs.
    await this.write(Buffer.from(b));
  }

  async end(): Promise<void> {
    if (this.file !== undefined) this.file.flush();
    else await this.drainText();
  }

  private async drainText(): Promise<void> {
    if (!this.text) return;
    const text = this.text;
    this.text = '';
    await this.write(text);
  }

  private async write(chunk: string | Buffer): Promise<void> {
    const out = this.out;
    const ok = out.write(chunk);
    if (!ok) await new Promise<void>((resolve, reject) => {
      const onDrain = () => { out.off('error', onError); resolve(); };
      const onError = (e: Error) => { out.off('drain', onDrain); reject(e); };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  }
}

/** `JSON.stringify({a: {b: v}}, null, 2)` less its wrapper is v's text as an element of a top-level array. */
const WRAP_HEAD = '{\n  "a": {\n    "b": '.length;
const WRAP_TAIL = '\n  }\n}'.length;

/** An array element at depth 2 of `JSON.stringify(x, null, 2)`: undefined, functions and symbols become null. */
export function arrayElement(v: unknown): string {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return 'null';
  // Stringified two levels down, its lines carry the 4 spaces of indentation it has in the report: no
  // replaceAll over the whole element afterwards.
  const w = JSON.stringify({ a: { b: v } }, null, 2);
  return w.slice(WRAP_HEAD, w.length - WRAP_TAIL);
}

/** What precedes the j-th element of a top-level array, and what closes a non-empty one. */
export const elementPrefix = (j: number): string => (j ? ',\n    ' : '\n    ');
export const ARRAY_END = '\n  ]';

/** What precedes a top-level value: `{` or `,`, a newline and the key. */
export const keyPrefix = (key: string, first: boolean): string => `${first ? '{' : ','}\n  ${JSON.stringify(key)}: `;

/** A top-level entry as `JSON.stringify(result, null, 2)` prints it, a non-empty array one element at a time. */
export async function putEntry(w: JsonOut, key: string, value: unknown, first: boolean): Promise<void> {
  await w.put(keyPrefix(key, first));
  const plain = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
  if (Array.isArray(plain) && plain.length > 0) {
    await w.put('[');
    for (let j = 0; j < plain.length; j++) await w.put(elementPrefix(j) + arrayElement(plain[j]));
    await w.put(ARRAY_END);
  } else {
    await w.put((JSON.stringify(plain, null, 2) ?? 'null').replaceAll('\n', '\n  '));
  }
}

/** Writes `renderJson(result)` byte for byte, streaming top-level arrays element by element. */
export async function writeJson(result: ScanResult, out: Writable): Promise<void> {
  const w = new JsonOut(out);
  // Same key order and omissions as JSON.stringify: own enumerable keys, undefined/function values dropped.
  const entries = Object.entries(result).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  for (let i = 0; i < entries.length; i++) await putEntry(w, entries[i]![0], entries[i]![1], i === 0);
  await w.put(entries.length ? '\n}\n' : '{}\n');
  await w.end();
}
