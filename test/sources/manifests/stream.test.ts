// Streaming: Lists and multi-document files read in chunks give the same objects and lines whatever
// the chunk size (items, strings, escapes, multi-byte characters and `---` lines split across chunks),
// and the indentation fast path gives the same objects as the byte scanner, minus the elided subtrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readText } from './helpers.ts';

function pod(i: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: `ns-${i % 3}`,
      annotations: { note: `quote " backslash \\ brace } bracket ] newline \n tab \t end\\`, 'x/y': 'é漢字🙂'.repeat(i % 4) },
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
    },
    spec: {
      serviceAccountName: i % 2 ? 'default' : `sa-${i}`,
      automountServiceAccountToken: i % 5 === 0 ? false : undefined,
      containers: [{ name: 'c', image: 'nginx', env: [{ name: 'A', value: '\\"}' }] }],
      status: { nested: 'not the top-level status' },
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true }] },
  };
}

const items = [
  ...Array.from({ length: 40 }, (_, i) => pod(i)),
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tok', annotations: { 'kubernetes.io/service-account.name': 'x' } }, type: 'kubernetes.io/service-account-token', data: { token: 'c2VjcmV0' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' }, automountServiceAccountToken: false },
];
const list = { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
const plain = (o: unknown) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>;

/** Expected line of each item when printed with JSON.stringify(list, null, indent). */
function itemLines(text: string, indent: number): number[] {
  const lines = text.split('\n');
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (l === ' '.repeat(indent * 2) + '{') out.push(i + 1);
  });
  return out;
}

test('compact JSON List: identical objects for every chunk size (byte scanner)', async () => {
  const text = JSON.stringify(list);
  const ref = await readText(text);
  assert.equal(ref.objects.length, items.length);
  assert.deepEqual(ref.objects.map((o) => o.object), items.map(plain));
  for (const chunkBytes of [1, 2, 3, 7, 64, 1000]) {
    const s = await readText(text, { chunkBytes });
    assert.deepEqual(s.problems, [], `chunk ${chunkBytes}`);
    assert.deepEqual(s.objects.map((o) => o.object), items.map(plain), `chunk ${chunkBytes}`);
    assert.deepEqual(s.objects.map((o) => o.location.itemPath), items.map((_, i) => `items/${i}`));
  }
});

test('kubectl-style (4-space) JSON List: lines right for every chunk size; fast path elides status, managedFields, Secret data', async () => {
  const text = JSON.stringify(list, null, 4);
  const lines = itemLines(text, 4);
  assert.equal(lines.length, items.length);
  for (const chunkBytes of [1, 5, 13, 256, 4096, 1 << 20]) {
    const s = await readText(text, { chunkBytes });
    assert.deepEqual(s.problems, [], `chunk ${chunkBytes}`);
    assert.deepEqual(s.objects.map((o) => o.location.line), lines, `chunk ${chunkBytes}`);
    s.objects.forEach((o, i) => {
      const want = plain(items[i]);
      const got = o.object as Record<string, unknown>;
      // What the analysis reads is identical; elided subtrees are either intact or emptied.
      assert.deepEqual(got.spec, want.spec);
      assert.deepEqual((got.metadata as Record<string, unknown>).annotations, (want.metadata as Record<string, unknown>).annotations);
      assert.equal((got.metadata as Record<string, unknown>).name, (want.metadata as Record<string, unknown>).name);
      if (want.status) assert.ok(JSON.stringify(got.status) === '{}' || JSON.stringify(got.status) === JSON.stringify(want.status));
      if (want.kind === 'Secret') {
        assert.equal(got.type, want.type);
        assert.ok(JSON.stringify(got.data) === '{}' || JSON.stringify(got.data) === JSON.stringify(want.data));
      }
    });
    if (chunkBytes === 1 << 20) {
      // The whole List is in one chunk: every item took the fast path.
      const first = s.objects[0]!.object;
      assert.deepEqual(first.status, {});
      assert.deepEqual((first.metadata as Record<string, unknown>).managedFields, []);
      assert.deepEqual(s.objects[40]!.object.data, {});
      assert.deepEqual(s.objects[41]!.object.data, { k: 'v' }, 'only Secret data is elided');
      assert.deepEqual((first.spec as Record<string, unknown>).status, { nested: 'not the top-level status' });
    }
  }
});

test('2-space (jq) and tab-indented Lists read the same objects', async () => {
  for (const indent of [2, '\t']) {
    const text = JSON.stringify(list, null, indent);
    const s = await readText(text, { chunkBytes: 300 });
    assert.deepEqual(s.problems, []);
    assert.deepEqual(s.names(), items.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`));
  }
});

test('inconsistent indentation that fools the fast path falls back to the byte scanner', async () => {
  // The inner object closes at the item's own indentation: cutting there is not valid JSON.
  const text = ['{"apiVersion": "v1", "items": [', '  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {', '  }, "more": 1', '  },', '  {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "b"}}', '], "kind": "List"}'].join('\n');
  const s = await readText(text);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(s.names(), ['ConfigMap/a', 'ServiceAccount/b']);
  assert.equal(s.objects[0]!.object.more, 1);
  assert.deepEqual(s.objects.map((o) => o.location.line), [2, 5]);
});

test('unwanted kinds are skipped without being parsed (wantsKind), counted with the builder reason', async () => {
  const bad = ['{', '    "apiVersion": "v1",', '    "items": [', '        {', '            "apiVersion": "v1",', '            "kind": "Event",', '            "broken": [}', '        },', '        {', '            "apiVersion": "v1",', '            "kind": "Pod",', '            "metadata": {"name": "p"}', '        }', '    ],', '    "kind": "List"', '}'].join('\n');
  const s = await readText(bad, { wanted: ['Pod'] });
  assert.deepEqual(s.names(), ['Pod/p']);
  assert.deepEqual(s.skips, ['kind Event not used']);
  assert.deepEqual(s.problems, []);
  // Without wantsKind the broken item is an error.
  const t = await readText(bad);
  assert.equal(t.problems.length, 1);
  assert.equal(t.problems[0]!.line, 7);
});

test('multi-document YAML split at every chunk size: same objects and lines', async () => {
  const docs = Array.from({ length: 12 }, (_, i) => `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-${i}\n  annotations: {a: "---", b: "x\\n---\\ny"}\n`);
  const text = '---\n' + docs.join('---\n') + '--- # trailing comment\n';
  const ref = await readText(text);
  assert.deepEqual(ref.names(), docs.map((_, i) => `ServiceAccount/sa-${i}`));
  const lines = ref.objects.map((o) => o.location.line);
  assert.deepEqual(lines, docs.map((_, i) => 2 + i * 6));
  for (const chunkBytes of [1, 2, 3, 4, 5, 17, 100]) {
    const s = await readText(text, { chunkBytes });
    assert.deepEqual(s.problems, [], `chunk ${chunkBytes}`);
    assert.deepEqual(s.names(), ref.names(), `chunk ${chunkBytes}`);
    assert.deepEqual(s.objects.map((o) => o.location.line), lines, `chunk ${chunkBytes}`);
    assert.deepEqual(s.objects.map((o) => o.object), ref.objects.map((o) => o.object));
  }
});

test('a block scalar holding `---` indented is content, not a document marker', async () => {
  const s = await readText(['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: c}', 'data:', '  f: |', '    ---', '    x', '---', 'apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: s}'].join('\n'));
  assert.deepEqual(s.names(), ['ConfigMap/c', 'ServiceAccount/s']);
  assert.deepEqual(s.objects[0]!.object.data, { f: '---\nx\n' });
});

test('lineOf follows merges, aliases and duplicate keys the way values do', async () => {
  const text = ['apiVersion: v1', 'kind: Pod', 'metadata: {name: p}', 'common: &c', '  serviceAccountName: from-anchor', 'spec:', '  <<: *c', '  automountServiceAccountToken: false', '  automountServiceAccountToken: true', '  containers:', '  - name: a', '  - name: b'].join('\n');
  const s = await readText(text);
  const o = s.objects[0]!;
  assert.equal(o.lineOf?.(['spec', 'serviceAccountName']), 5);
  assert.equal(o.lineOf?.(['spec', 'automountServiceAccountToken']), 9);
  assert.equal(o.lineOf?.(['spec', 'containers', 1, 'name']), 12);
  assert.equal(o.lineOf?.(['spec', 'containers', 1]), 12);
  assert.equal(o.lineOf?.(['spec', 'nothing']), undefined);
  assert.equal(o.lineOf?.([]), 1);
});
