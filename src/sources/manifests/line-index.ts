// Where each line of a chunk starts and how far it is indented, found 16 bytes at a time (WebAssembly SIMD).
//
// The indentation fast path of the JSON splitter (json-split.ts `fastItem`) looks at every line of a kubectl
// dump: its indentation and first character decide item ends, top-level keys and the subtrees it cuts. Finding
// the newlines and counting the spaces byte by byte in JavaScript was most of its time (~0.75 ns per byte, 1.2 s
// of a 2.26 GB dump's 2.6 s of reading and splitting). This module does that part with 16-byte vector compares
// and leaves the decisions to the splitter, which then reads two numbers per line.
//
// The chunk must lie in this module's memory (`lineIndexBuffer`), so a file is read straight into it and
// nothing is copied. The function, written out below instruction by instruction (there is no assembler here):
//
//   lines(start, end, out, cap) -> count, or -1 when more than `cap` lines
//     for each 16-byte block from start (the last one masked at end):
//       for each newline p in the block (i8x16.eq with '\n', i8x16.bitmask, then ctz bit by bit):
//         q = first byte after p that is not a space (16 at a time), at most end
//         record (p - start, q - p - 1) as two i32 at out
//
// Vector loads may read up to 15 bytes past `end`; the memory keeps that much room after the chunk area.

const PAGE = 65536;

// The few WebAssembly JS API members used (TypeScript's ES libraries leave the namespace out).
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

// Instruction encodings (WebAssembly core spec, binary format; SIMD opcodes after the 0xfd prefix).
const I32 = 0x7f;
const VOID = 0x40;
const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  if: [0x04, VOID],
  end: [0x0b],
  br: (l: number) => [0x0c, l],
  brIf: (l: number) => [0x0d, l],
  ret: [0x0f],
  get: (x: number) => [0x20, x],
  set: (x: number) => [0x21, x],
  const: (v: number) => [0x41, ...sleb(v)],
  eqz: [0x45],
  ltU: [0x49],
  gtU: [0x4b],
  geU: [0x4f],
  ctz: [0x68],
  add: [0x6a],
  sub: [0x6b],
  and: [0x71],
  xor: [0x73],
  shl: [0x74],
  store: (offset: number) => [0x36, 0x02, offset],
  v128Load: [0xfd, 0x00, 0x00, 0x00],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  bitmask8: [0xfd, 0x64],
};

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    const b = v & 0x7f;
    v >>>= 7;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)];

/** The module's bytes. Locals: 0 start, 1 end, 2 out, 3 cap (parameters), 4 i, 5 m, 6 p, 7 q, 8 t, 9 n. */
function moduleBytes(): Uint8Array {
  const [START, END, OUT, CAP, I, M, P, Q, T, N] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const maskOf = (byte: number, at: number): number[] => [...op.get(at), ...op.v128Load, ...op.const(byte), ...op.splat8, ...op.eq8, ...op.bitmask8];
  const body = [
    ...op.get(START), ...op.set(I),
    ...op.const(0), ...op.set(N),
    ...op.block, // depth 1: done
    ...op.loop, // depth 2: blocks
    ...op.get(I), ...op.get(END), ...op.geU, ...op.brIf(1),
    ...maskOf(0x0a, I), ...op.set(M),
    // The last block: keep only the bits of bytes before `end`.
    ...op.get(END), ...op.get(I), ...op.sub, ...op.const(16), ...op.ltU,
    ...op.if,
    ...op.get(M), ...op.const(1), ...op.get(END), ...op.get(I), ...op.sub, ...op.shl, ...op.const(1), ...op.sub, ...op.and, ...op.set(M),
    ...op.end,
    ...op.block, // bitsDone
    ...op.loop, // bits
    ...op.get(M), ...op.eqz, ...op.brIf(1),
    ...op.get(I), ...op.get(M), ...op.ctz, ...op.add, ...op.set(P),
    ...op.get(M), ...op.get(M), ...op.const(1), ...op.sub, ...op.and, ...op.set(M),
    ...op.get(P), ...op.const(1), ...op.add, ...op.set(Q),
    ...op.block, // spacesDone
    ...op.loop, // spaces
    ...op.get(Q), ...op.get(END), ...op.geU, ...op.brIf(1),
    ...maskOf(0x20, Q), ...op.const(0xffff), ...op.xor, ...op.set(T),
    ...op.get(T), ...op.eqz,
    ...op.if, // all 16 are spaces: next 16
    ...op.get(Q), ...op.const(16), ...op.add, ...op.set(Q), ...op.br(1),
    ...op.end,
    ...op.get(Q), ...op.get(T), ...op.ctz, ...op.add, ...op.set(Q),
    ...op.end, // loop spaces
    ...op.end, // block spacesDone
    ...op.get(Q), ...op.get(END), ...op.gtU,
    ...op.if, ...op.get(END), ...op.set(Q), ...op.end,
    ...op.get(N), ...op.get(CAP), ...op.geU,
    ...op.if, ...op.const(-1), ...op.ret, ...op.end,
    ...op.get(OUT), ...op.get(N), ...op.const(3), ...op.shl, ...op.add, ...op.set(T),
    ...op.get(T), ...op.get(P), ...op.get(START), ...op.sub, ...op.store(0),
    ...op.get(T), ...op.get(Q), ...op.get(P), ...op.sub, ...op.const(1), ...op.sub, ...op.store(4),
    ...op.get(N), ...op.const(1), ...op.add, ...op.set(N),
    ...op.br(0),
    ...op.end, // loop bits
    ...op.end, // block bitsDone
    ...op.get(I), ...op.const(16), ...op.add, ...op.set(I),
    ...op.br(0),
    ...op.end, // loop blocks
    ...op.end, // block done
    ...op.get(N),
    ...op.end,
  ];
  const code = [...uleb(1), 6, I32, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 1, I32]),
    ...section(2, [1, ...name('e'), ...name('m'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('lines'), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

let compiled: object | undefined;

export interface LineIndex {
  /** Memory to read chunks into (zero-copy): `chunkBytes` long, with vector room after it. */
  readonly buffer: Buffer;
  /** Lines of `chunk` (a view of `buffer`): pairs of (newline offset in the chunk, spaces after it); -1 if too many. */
  index(chunk: Buffer): number;
  /** The pairs written by the last `index` call. */
  readonly records: Int32Array;
}

/**
 * A line index for chunks of up to `chunkBytes`, or undefined when this Node cannot run it (no WebAssembly SIMD):
 * the splitter then scans bytes itself, with the same results.
 */
export function createLineIndex(chunkBytes: number, maxLines = chunkBytes >> 3): LineIndex | undefined {
  const chunkArea = Math.ceil((chunkBytes + 64) / 8) * 8;
  const recordBytes = maxLines * 8;
  let memory: { buffer: ArrayBuffer };
  let lines: (start: number, end: number, out: number, cap: number) => number;
  try {
    // `node --jitless` has no WebAssembly at all; a V8 without SIMD rejects the module.
    memory = new WebAssembly.Memory({ initial: Math.ceil((chunkArea + recordBytes) / PAGE) });
    compiled ??= new WebAssembly.Module(moduleBytes());
    const instance = new WebAssembly.Instance(compiled, { e: { m: memory } });
    lines = instance.exports.lines as typeof lines;
  } catch {
    return undefined;
  }
  const buffer = Buffer.from(memory.buffer, 0, chunkBytes);
  const records = new Int32Array(memory.buffer, chunkArea, maxLines * 2);
  return {
    buffer,
    records,
    index(chunk: Buffer): number {
      if (chunk.buffer !== memory.buffer || chunk.byteOffset + chunk.length > chunkBytes) return -1;
      return lines(chunk.byteOffset, chunk.byteOffset + chunk.length, chunkArea, maxLines);
    },
  };
}
