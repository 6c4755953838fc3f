// The streamed `-o json` writer must produce exactly the bytes of JSON.stringify(result, null, 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { scan } from '../../src/analysis/scan.ts';
import { renderJson, writeJson } from '../../src/report/json.ts';
import type { ScanResult } from '../../src/analysis/types.ts';
import type { CliIO } from '../../src/cli/io.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const io = (): CliIO => ({ stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: ROOT, invokedAs: 'kube-sa-audit' });

/** A sink that takes tiny bites and reports back-pressure on every write, to exercise the drain path. */
function slowSink(): { stream: Writable; text: () => string; writes: () => number } {
  const parts: Buffer[] = [];
  let writes = 0;
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      writes++;
      setImmediate(cb);
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8'), writes: () => writes };
}

async function written(result: ScanResult): Promise<{ text: string; writes: number }> {
  const sink = slowSink();
  await writeJson(result, sink.stream);
  await new Promise<void>((r) => sink.stream.end(r));
  return { text: sink.text(), writes: sink.writes() };
}

test('streamed JSON equals JSON.stringify(result, null, 2) on the example cluster (non-ASCII → included)', async () => {
  const result = await scan({ paths: [join(ROOT, 'examples')] }, io());
  const { text } = await written(result);
  assert.ok(result.workloads.length > 5 && result.findings.length > 5, 'a report with real arrays');
  assert.equal(text, renderJson(result));
  assert.deepEqual(JSON.parse(text).workloads.length, result.workloads.length);
});

test('edge cases: empty arrays, undefined fields, nested arrays, null, non-enumerable helpers', async () => {
  const r = { tool: { name: 'kube-sa-audit', version: '0' }, workloads: [], findings: [{ a: undefined, b: [1, [2, {}]], c: null }], gaps: [], skipped: undefined, n: 3, s: 'x\ny' } as unknown as ScanResult;
  Object.defineProperty(r, 'inventory', { value: { big: true }, enumerable: false });
  assert.equal((await written(r)).text, renderJson(r));
  const empty = {} as ScanResult;
  assert.equal((await written(empty)).text, renderJson(empty));
});

test('large reports are written in several bounded chunks, not one string', async () => {
  const findings = Array.from({ length: 20_000 }, (_, i) => ({ rule: 'r', severity: 'low', resource: { kind: 'Pod', namespace: 'ns', name: `p-${i}` }, message: 'm'.repeat(100) }));
  const r = { tool: { name: 'kube-sa-audit', version: '0' }, workloads: [], findings } as unknown as ScanResult;
  const { text, writes } = await written(r);
  assert.equal(text, renderJson(r));
  assert.ok(writes > 1, `expected several writes for ${text.length} characters, got ${writes}`);
});

test('to a file descriptor (a file or /dev/null behind stdout): the same bytes, written synchronously, also for elements over the buffer size', async () => {
  const { mkdtempSync, openSync, closeSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ksa-json-fd-'));
  try {
    const result = await scan({ paths: [join(ROOT, 'examples')] }, io());
    // One element of ~5 MB (beyond the 3 MiB reused buffer), non-ASCII included, between ordinary ones.
    const huge = { rule: 'r', severity: 'low', resource: { kind: 'Pod', name: 'big' }, message: '→ é '.repeat(1_300_000) };
    const withHuge = { ...result, findings: [...result.findings, huge, ...result.findings] } as unknown as ScanResult;
    for (const r of [result, withHuge]) {
      const file = join(dir, 'out.json');
      const fd = openSync(file, 'w');
      let streamWrites = 0;
      // What process.stdout is for a file: a stream with the descriptor (SyncWriteStream).
      const out = Object.assign(new Writable({ write(_c, _e, cb) { streamWrites++; cb(); } }), { fd });
      await writeJson(r, out);
      closeSync(fd);
      assert.equal(streamWrites, 0, 'written through the descriptor, not the stream');
      assert.equal(readFileSync(file, 'utf8'), renderJson(r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
