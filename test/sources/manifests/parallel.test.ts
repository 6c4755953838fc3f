// Reading on several threads (src/sources/manifests/parallel.ts) must build exactly the inventory one reader
// builds: same objects in the same order, same lines and item paths, same problems in the same places. Each
// case reads the same input with 1 and with several threads (thresholds lowered so small inputs qualify)
// and compares the finished inventories field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InventoryBuilder } from '../../../src/inventory/build.ts';
import { readManifests, type ManifestReadOptions, type ReadReport } from '../../../src/sources/manifests/index.ts';
import { findItemStart, kubectlListItemIndent } from '../../../src/sources/manifests/parallel.ts';
import { TIERS, writeDump } from '../../../bench/gen.ts';
import { REAL_WORLD } from '../../helpers/corpus.ts';
import type { Inventory } from '../../../src/inventory/types.ts';
import { openSync, closeSync, statSync } from 'node:fs';

const tmp = mkdtempSync(join(tmpdir(), 'ksa-parallel-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A T0 cluster dump in kubectl's exact format (~1.6 MB, 284 items). */
const dumpPath = join(tmp, 'dump.json');
{
  let text = '';
  writeDump({ ...TIERS.T0!, seed: '7' }, (c) => (text += c));
  writeFileSync(dumpPath, text);
}

async function read(paths: string[], opts: ManifestReadOptions): Promise<Inventory> {
  const b = new InventoryBuilder({ origin: 'manifests' });
  await readManifests(paths, b, { cwd: tmp, ...opts });
  return b.finish();
}

/** Everything an analysis or a report can see of an inventory, as plain data (Maps and Sets as entry lists). */
function plain(inv: Inventory): unknown {
  return JSON.parse(JSON.stringify(inv, (_k, v) => (v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : v)));
}

const newReport = (): ReadReport => ({ listsInParallel: 0, listsHandedBack: 0, directoriesInParallel: 0 });
const parallel = (threads: number, readReport: ReadReport = newReport()): ManifestReadOptions => ({ workers: threads, parallelMinBytes: 0, parallelMinFiles: 1, readReport });

test('a kubectl dump read on 2 and 3 threads gives the inventory of one reader, lines and item paths included', async () => {
  const one = await read([dumpPath], { workers: 1 });
  assert.ok(one.workloads.length > 40 && one.serviceAccounts.size === 30, 'the dump was read');
  for (const threads of [2, 3]) {
    const report = newReport();
    const many = await read([dumpPath], parallel(threads, report));
    assert.deepEqual(report, { listsInParallel: 1, listsHandedBack: 0, directoriesInParallel: 0 }, 'really read on several threads');
    assert.deepEqual(plain(many), plain(one), `${threads} threads`);
  }
  // The relocation is really exercised: some objects of the later ranges sit deep in the file.
  const last = one.clusterRoleBindings.at(-1)!;
  assert.ok(last.location.line > 30_000 && /^items\/\d{3}$/.test(last.location.itemPath!), JSON.stringify(last.location));
});

test('item boundaries: found where kubectl puts them, and only in its layout', () => {
  const head = readFileSync(dumpPath).subarray(0, 4096);
  assert.equal(kubectlListItemIndent(head), 8);
  assert.equal(kubectlListItemIndent(Buffer.from('{"apiVersion":"v1","items":[{"kind":"Pod"}]}')), undefined, 'compact JSON');
  assert.equal(kubectlListItemIndent(Buffer.from('{\n  "items": [\n    {\n')), 4, 'two-space indentation');
  assert.equal(kubectlListItemIndent(Buffer.from('{\n    "items": [\n      {\n')), undefined, 'items not at twice the key indentation');
  const fd = openSync(dumpPath, 'r');
  try {
    const size = statSync(dumpPath).size;
    const start = findItemStart(fd, Math.floor(size / 2), size, 8)!;
    const text = readFileSync(dumpPath, 'latin1');
    assert.equal(text.slice(start - 11, start + 2), '},\n        {\n', 'the offset is the `{` that opens an item');
    assert.equal(findItemStart(fd, size - 10, size, 8), undefined, 'no boundary after the last item');
  } finally {
    closeSync(fd);
  }
});

test('a range reader that meets a syntax error hands the file back: the problem is reported once, exactly as by one reader', async () => {
  const text = readFileSync(dumpPath, 'utf8');
  // Break an item in the second half (a missing comma between two keys of the item).
  const at = text.indexOf('"kind": "RoleBinding"', Math.floor(text.length * 0.7));
  const broken = text.slice(0, at) + '"kind": "RoleBinding" "x": 1,' + text.slice(at + '"kind": "RoleBinding"'.length);
  const file = join(tmp, 'broken.json');
  writeFileSync(file, broken);
  const one = await read([file], { workers: 1 });
  const report = newReport();
  const many = await read([file], parallel(2, report));
  assert.equal(report.listsHandedBack, 1);
  assert.equal(one.problems.length, 1, JSON.stringify(one.problems));
  assert.match(one.problems[0]!.message, /invalid JSON in item \d+ of the List/);
  assert.deepEqual(plain(many), plain(one));
});

test('an item without kind in a range: the file is read again by one reader, which types it from the List', async () => {
  const text = readFileSync(dumpPath, 'utf8');
  const at = text.indexOf('            "kind": "Namespace",\n');
  assert.ok(at > 0);
  // A Namespace item without apiVersion/kind: only the List's own kind (after the items) says what it is.
  const file = join(tmp, 'untyped.json');
  const item = text.lastIndexOf('        {\n', at);
  const obj = text.slice(item, text.indexOf('\n        }', at) + 10);
  const untyped = obj.replace(/\n {12}"apiVersion": "v1",/, '').replace(/\n {12}"kind": "Namespace",/, '');
  writeFileSync(file, text.replace(obj, untyped));
  const one = await read([file], { workers: 1 });
  const report = newReport();
  const many = await read([file], parallel(2, report));
  assert.equal(report.listsHandedBack, 1, 'the range reader could not type the item itself');
  assert.deepEqual(plain(many), plain(one));
  // apimachinery types it from a `List` as apiVersion v1 without a kind: skipped, and counted as such.
  assert.equal(one.namespaceObjects.size, 9, 'the untyped Namespace is not read as one');
  assert.ok(one.skipped.count > 0);
});

test('JSON that is not in kubectl layout is read by one reader (same result)', async () => {
  const compact = join(tmp, 'compact.json');
  writeFileSync(compact, JSON.stringify(JSON.parse(readFileSync(dumpPath, 'utf8'))));
  const one = await read([compact], { workers: 1 });
  const report = newReport();
  const many = await read([compact], parallel(2, report));
  assert.deepEqual(report, newReport(), 'no parallel read was attempted');
  assert.deepEqual(plain(many), plain(one));
  assert.ok(one.workloads.length > 40);
});

test('a directory on several threads: files, problems, skips and duplicate-ServiceAccount warnings in walk order', async () => {
  const dir = join(tmp, 'tree');
  for (const [sub, name, body] of [
    ['a', 'sa.yaml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: x}\nautomountServiceAccountToken: no\n'],
    ['a', 'notes.txt', 'not a manifest'],
    ['b', 'broken.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p\n'],
    ['c', 'dup.yaml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: x}\n'],
    ['c', 'pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  serviceAccountName: app\n  automountServiceAccountToken: "yes"\n  containers: [{name: c}]\n'],
    ['d', 'sa2.yaml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: x}\n'],
  ] as const) {
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, name), body);
  }
  const one = await read(['tree'], { workers: 1 });
  assert.equal(one.problems.filter((p) => /appears more than once/.test(p.message)).length, 2);
  assert.ok(one.problems.some((p) => p.file === join('tree', 'b', 'broken.yaml')));
  for (const threads of [2, 3, 5]) {
    const report = newReport();
    const many = await read(['tree'], parallel(threads, report));
    assert.equal(report.directoriesInParallel, 1);
    assert.deepEqual(plain(many), plain(one), `${threads} threads`);
  }
});

test('the real-world corpus as one directory: the same inventory on 1 and 2 threads', async () => {
  const one = await read([REAL_WORLD], { workers: 1 });
  const many = await read([REAL_WORLD], parallel(2));
  assert.ok(one.workloads.length > 50, String(one.workloads.length));
  assert.deepEqual(plain(many), plain(one));
});

test('one reused read buffer: any chunk size gives the objects and lines a fresh-buffer stream gives', async () => {
  const viaStream = await read(['-'], { workers: 1, stdin: Readable.from([readFileSync(dumpPath)]) });
  for (const chunkBytes of [4096, 65_537, 1 << 20]) {
    const viaFile = await read([dumpPath], { workers: 1, chunkBytes });
    const a = plain(viaFile) as { workloads: { location: { file: string } }[] };
    const b = plain(viaStream) as { workloads: { location: { file: string } }[] };
    // The only difference allowed is the name of the input.
    assert.deepEqual(JSON.parse(JSON.stringify(a).replaceAll(JSON.stringify(dumpPath).slice(1, -1), '-')), b, `chunk ${chunkBytes}`);
  }
});
