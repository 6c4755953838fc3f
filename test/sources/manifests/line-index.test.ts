// The vector line index (src/sources/manifests/line-index.ts) must find exactly the lines a byte scan finds, and
// the JSON splitter must cut exactly the same items, pieces and lines with it as without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLineIndex } from '../../../src/sources/manifests/line-index.ts';
import { JsonSplitter, joinPieces } from '../../../src/sources/manifests/json-split.ts';
import { TIERS, writeDump } from '../../../bench/gen.ts';

/** (newline offset, spaces after it) for every newline of `chunk`, by a plain byte scan. */
function byteScan(chunk: Buffer): number[] {
  const out: number[] = [];
  for (let p = chunk.indexOf(10); p >= 0; p = chunk.indexOf(10, p + 1)) {
    let q = p + 1;
    while (q < chunk.length && chunk[q] === 32) q++;
    out.push(p, q - p - 1);
  }
  return out;
}

test('the line index finds every newline and the spaces after it, wherever the chunk starts and ends', () => {
  const li = createLineIndex(1 << 16);
  assert.ok(li, 'WebAssembly SIMD runs on the Node this project pins');
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let lines = 0;
  for (let t = 0; t < 3000; t++) {
    const length = Math.floor(rand() * 400);
    const offset = Math.floor(rand() * 70);
    const chunk: Buffer = li.buffer.subarray(offset, offset + length);
    // Newlines, runs of spaces (some longer than a vector), other bytes; then spaces and newlines past the end,
    // which vector loads read and must not count.
    for (let k = 0; k < length; k++) {
      const x = rand();
      chunk[k] = x < 0.1 ? 10 : x < 0.75 ? 32 : x < 0.8 ? 13 : 0x7b;
    }
    li.buffer.fill(t % 2 ? 32 : 10, offset + length, offset + length + 40);
    const n = li.index(chunk);
    assert.deepEqual(Array.from(li.records.subarray(0, 2 * n)), byteScan(chunk), `length ${length} at ${offset}`);
    lines += n;
  }
  assert.ok(lines > 10_000, `${lines} lines checked`);
});

test('the line index declines what it cannot index: a chunk outside its memory, or more lines than it holds', () => {
  const li = createLineIndex(1024, 8)!;
  assert.equal(li.index(Buffer.from('a\nb\n')), -1, 'not in its memory');
  const chunk = li.buffer.subarray(0, 20);
  chunk.fill(10);
  assert.equal(li.index(chunk), -1, '20 newlines, room for 8');
  chunk.fill(32, 0, 20);
  chunk[3] = 10;
  assert.equal(li.index(chunk), 1);
});

/** Everything the splitter hands out, as comparable text. */
function split(text: Buffer, chunkBytes: number, withIndex: boolean): string[] {
  const li = withIndex ? createLineIndex(chunkBytes) : undefined;
  const out: string[] = [];
  const s = new JsonSplitter(
    {
      document(bytes, line, index, hadItems) {
        out.push(`doc ${line} ${index} ${hadItems} ${bytes.length}`);
      },
      item(pieces, size, line, doc, item, kind, _list, layout) {
        out.push(`item ${line} ${doc}/${item} ${kind} ${JSON.stringify(layout)} ${pieces.length} ${joinPieces(pieces, size).toString('latin1')}`);
      },
      error(message, line) {
        out.push(`error ${line} ${message}`);
      },
    },
    { maxObjectBytes: 1 << 24, reusedChunks: true, ...(li ? { lineIndex: li } : {}) },
  );
  const buf = li?.buffer ?? Buffer.alloc(chunkBytes);
  for (let at = 0; at < text.length; at += chunkBytes) {
    const n = text.copy(buf, 0, at, Math.min(text.length, at + chunkBytes));
    s.push(buf.subarray(0, n));
  }
  s.end();
  out.push(`lines ${s.lineNumber}`);
  return out;
}

test('the splitter cuts the same items, pieces and lines with the line index as by scanning bytes', () => {
  let dump = '';
  writeDump({ ...TIERS.T0!, seed: '5' }, (c) => (dump += c));
  // Blank, whitespace-only and CRLF lines inside items, which kubectl never prints but a hand-edited dump may.
  const edited = dump.replace('"phase": "Running"', '\n"phase": "Running"').replace('"restartPolicy": "Always"', '      \r\n"restartPolicy": "Always"');
  for (const text of [dump, edited]) {
    const bytes = Buffer.from(text);
    for (const chunkBytes of [1 << 20, 64 << 10, 5003]) {
      const plain = split(bytes, chunkBytes, false);
      assert.ok(plain.filter((l) => l.startsWith('item')).length > 250);
      assert.deepEqual(split(bytes, chunkBytes, true), plain, `chunks of ${chunkBytes} bytes`);
    }
  }
});
