// The indentation fast path cuts subtrees no analysis reads (status, managedFields, Secret data, and pod-spec /
// container blocks such as probes, resources and tolerations of the built-in workload kinds) before parsing.
// Whatever it cuts, the inventory must be the one a full parse gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InventoryBuilder } from '../../../src/inventory/build.ts';
import { JsonFileReader } from '../../../src/sources/manifests/json-read.ts';
import { JsonSplitter, type ItemLayout } from '../../../src/sources/manifests/json-split.ts';
import { TIERS, writeDump } from '../../../bench/gen.ts';
import type { Inventory } from '../../../src/inventory/types.ts';

let text = '';
writeDump({ ...TIERS.T0!, seed: '11' }, (c) => (text += c));
const bytes = Buffer.from(text);

function inventory(elide: boolean): Inventory {
  const b = new InventoryBuilder({ origin: 'manifests' });
  const r = new JsonFileReader('dump.json', b, 64 << 20, { elide });
  for (let i = 0; i < bytes.length; i += 1 << 16) r.push(bytes.subarray(i, i + (1 << 16)), () => r.line);
  r.end();
  return b.finish();
}

function plain(inv: Inventory): unknown {
  return JSON.parse(JSON.stringify(inv, (_k, v) => (v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : v)));
}

test('the inventory from elided items equals the one from fully parsed items (T0 dump, kubectl format)', () => {
  const cut = inventory(true);
  const full = inventory(false);
  assert.ok(cut.workloads.length > 40 && cut.problems.length === 0);
  assert.deepEqual(plain(cut), plain(full));
});

test('pod-spec blocks are really cut for built-in kinds, and only for them', () => {
  const seen: { kind: string | undefined; text: string; layout: ItemLayout | undefined }[] = [];
  const sp = new JsonSplitter(
    {
      document() {},
      error(m) {
        throw new Error(m);
      },
      item(pieces, _size, _line, _d, _i, kind, _list, layout) {
        seen.push({ kind, text: Buffer.concat(pieces).toString('utf8'), layout });
      },
    },
    { maxObjectBytes: 1 << 26 },
  );
  const custom = { apiVersion: 'example.com/v1', kind: 'Widget', spec: { resources: { template: { spec: { serviceAccountName: 'keep-me' } } } } };
  // A custom resource that shares a built-in kind's name is not cut either: only the group tells them apart.
  const namesake = { apiVersion: 'example.com/v1', kind: 'Job', spec: { resources: { template: { spec: { serviceAccountName: 'keep-me-too' } } } } };
  const list = JSON.stringify({ apiVersion: 'v1', items: [JSON.parse(text).items.find((i: { kind: string; spec?: { containers?: unknown } }) => i.kind === 'Pod' && JSON.stringify(i.spec?.containers).includes('"fieldRef"')), custom, namesake], kind: 'List' }, null, 4);
  sp.push(Buffer.from(list));
  sp.end();
  const pod = JSON.parse(seen[0]!.text);
  assert.equal(seen[0]!.kind, 'Pod');
  assert.ok(seen[0]!.layout?.elided);
  assert.deepEqual(pod.spec.tolerations, [], 'tolerations cut');
  assert.deepEqual(pod.spec.containers[0].resources, {}, 'container resources cut');
  assert.ok(pod.spec.containers[0].volumeMounts.length > 0, 'volume mounts kept');
  // The injected volume keeps its token projection; its ConfigMap and downwardAPI projections are only present.
  const injected = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
  assert.deepEqual(injected.projected.sources.map((s: object) => Object.keys(s)[0]), ['serviceAccountToken', 'configMap', 'downwardAPI']);
  assert.deepEqual(injected.projected.sources[0].serviceAccountToken, { expirationSeconds: 3607, path: 'token' }, 'token projection kept');
  assert.deepEqual(injected.projected.sources[1].configMap, {}, 'ConfigMap projection cut');
  assert.deepEqual(injected.projected.sources[2].downwardAPI, {}, 'downwardAPI items cut');
  const fromField = pod.spec.containers.flatMap((c: { env?: { valueFrom?: { fieldRef?: object } }[] }) => c.env ?? []).find((e: { valueFrom?: { fieldRef?: object } }) => e.valueFrom?.fieldRef);
  assert.deepEqual(fromField?.valueFrom, { fieldRef: {} }, 'env fieldRef cut, the entry kept');
  assert.deepEqual(pod.metadata.labels, {}, "a Pod's own labels cut (no analysis reads them)");
  assert.ok(pod.metadata.ownerReferences.length > 0 && typeof pod.metadata.uid === 'string', 'owner references and uid kept');
  assert.deepEqual(JSON.parse(seen[1]!.text), custom, 'a custom kind keeps every key, whatever its name');
  assert.deepEqual(JSON.parse(seen[2]!.text), namesake, 'a custom Job keeps every key');
});

test('item lines stay exact across blank and whitespace-only lines, inside cut subtrees and outside them', () => {
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }] }, status: { phase: 'Running', conditions: [{ type: 'Ready' }] } });
  let list = JSON.stringify({ apiVersion: 'v1', items: [pod('a'), pod('b'), pod('c'), pod('d')], kind: 'List' }, null, 4);
  // A blank line in a's status (cut), a whitespace-only line in b's resources (cut), a blank line in c's metadata (kept).
  list = list.replace('"phase": "Running"', '\n"phase": "Running"').replace('"cpu": "1"', '      \n"cpu": "1"').replace('"name": "c",', '\n"name": "c",');
  const starts: number[] = [];
  list.split('\n').forEach((l, i) => {
    if (l === '        {') starts.push(i + 1);
  });
  const seen: number[] = [];
  const sp = new JsonSplitter({ document() {}, error(m) { assert.fail(m); }, item(_p, _s, line) { seen.push(line); } }, { maxObjectBytes: 1 << 20 });
  sp.push(Buffer.from(list));
  sp.end();
  assert.equal(starts.length, 4);
  assert.deepEqual(seen, starts);
});

test('an item cut into pieces is decoded as one text: multi-byte characters kept, invalid UTF-8 still reported at its line', () => {
  const pod = (name: string, note: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { annotations: { note }, name, namespace: 'ns' },
    spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }], serviceAccountName: `sa-${note}`, tolerations: [{ key: 'k' }] },
    status: { phase: 'Running' },
  });
  const list = JSON.stringify({ apiVersion: 'v1', items: [pod('a', 'café ☃'), pod('b', 'plain'), pod('c', 'BAD')], kind: 'List' }, null, 4);
  // The third Pod's annotation gets a byte that is not UTF-8; it sits in a kept piece between two cuts.
  const bytes = Buffer.from(list);
  const bad = bytes.indexOf('BAD');
  bytes[bad] = 0xff;
  const b = new InventoryBuilder({ origin: 'manifests' });
  const r = new JsonFileReader('dump.json', b, 64 << 20, { elide: true });
  r.push(bytes, () => r.line);
  r.end();
  const inv = b.finish();
  const a = inv.workloads.find((w) => w.name === 'a');
  assert.equal(a?.template.spec.serviceAccountName, 'sa-café ☃', 'multi-byte text after a cut decodes intact');
  assert.ok(inv.workloads.some((w) => w.name === 'b'));
  assert.ok(!inv.workloads.some((w) => w.name === 'c'), 'the Pod that is not UTF-8 is not read');
  const lineOfC = list.split('\n').findIndex((l) => l.includes('"BAD"')) + 1;
  assert.equal(inv.problems.length, 1);
  assert.match(inv.problems[0]!.message, /UTF-8/);
  assert.ok(inv.problems[0]!.line > 0 && inv.problems[0]!.line <= lineOfC, `problem at line ${inv.problems[0]!.line}, the item is before line ${lineOfC}`);
});
