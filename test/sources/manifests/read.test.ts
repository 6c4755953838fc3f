// Inputs: files, directories, stdin, multi-document YAML/JSON, Lists, skipped documents, per-file problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readPaths, readText, tempTree } from './helpers.ts';

test('multi-document YAML: objects in order with their document index and line', async () => {
  const s = await readText(
    [
      '# comment',
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata:',
      '  name: a',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: b',
      '',
    ].join('\n'),
  );
  assert.deepEqual(s.names(), ['ServiceAccount/a', 'Pod/b']);
  assert.deepEqual(
    s.objects.map((o) => [o.location.file, o.location.line, o.location.document]),
    [
      ['-', 2, 0],
      ['-', 7, 1],
    ],
  );
  assert.equal(s.documents, 2);
  assert.deepEqual(s.problems, []);
});

test('kind: List and typed *List (kubectl get -o yaml) expand into items with their own line and itemPath', async () => {
  const s = await readText(
    [
      'apiVersion: v1',
      'items:',
      '- apiVersion: v1',
      '  kind: Pod',
      '  metadata:',
      '    name: p1',
      '- apiVersion: v1',
      '  kind: ServiceAccount',
      '  metadata:',
      '    name: sa1',
      'kind: List',
      'metadata:',
      '  resourceVersion: ""',
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBindingList',
      'items:',
      '- apiVersion: rbac.authorization.k8s.io/v1',
      '  kind: RoleBinding',
      '  metadata: {name: rb}',
    ].join('\n'),
  );
  assert.deepEqual(s.names(), ['Pod/p1', 'ServiceAccount/sa1', 'RoleBinding/rb']);
  assert.deepEqual(
    s.objects.map((o) => [o.location.line, o.location.document, o.location.itemPath]),
    [
      [3, 0, 'items/0'],
      [7, 0, 'items/1'],
      [18, 1, 'items/0'],
    ],
  );
  // lineOf is relative to the item, not the List.
  assert.equal(s.objects[1]!.lineOf?.(['metadata', 'name']), 10);
});

test('typed List from the API server: items without kind/apiVersion take them from the List (apimachinery decodeToList)', async () => {
  const s = await readText('{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"x"}},{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"}}]}');
  assert.deepEqual(s.names(), ['Pod/x', 'Secret/s']);
  assert.equal(s.objects[0]!.object.apiVersion, 'v1');
  // kubectl prints `kind` after `items`: the same holds when the kind comes last.
  const t = await readText('{"apiVersion":"v1","items":[{"metadata":{"name":"y"}}],"kind":"ServiceAccountList"}');
  assert.deepEqual(t.names(), ['ServiceAccount/y']);
});

test('JSON: a stream of documents and a kubectl List, with the line of each item', async () => {
  const json = [
    '{',
    '    "apiVersion": "v1",',
    '    "items": [',
    '        {',
    '            "apiVersion": "v1",',
    '            "kind": "Pod",',
    '            "metadata": {"name": "a", "note": "brace } and \\" quote ]"}',
    '        },',
    '        {',
    '            "apiVersion": "v1",',
    '            "kind": "Pod",',
    '            "metadata": {"name": "b"}',
    '        }',
    '    ],',
    '    "kind": "List",',
    '    "metadata": {"resourceVersion": ""}',
    '}',
    '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}',
  ].join('\n');
  const s = await readText(json);
  assert.deepEqual(s.names(), ['Pod/a', 'Pod/b', 'Namespace/ns']);
  assert.deepEqual(
    s.objects.map((o) => [o.location.line, o.location.document, o.location.itemPath]),
    [
      [4, 0, 'items/0'],
      [9, 0, 'items/1'],
      [18, 1, undefined],
    ],
  );
  assert.equal(s.objects[0]!.object.metadata?.['note' as 'name'], 'brace } and " quote ]');
  assert.equal(s.documents, 2);
});

test('non-Kubernetes documents are skipped and counted, not fatal', async () => {
  const s = await readText(['replicaCount: 3', '---', '# only a comment', '---', '- a', '- b', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: ns}'].join('\n'));
  assert.deepEqual(s.names(), ['Namespace/ns']);
  assert.deepEqual(s.skips, ['not a Kubernetes object (no apiVersion/kind)', 'empty document', 'document is not a mapping']);
  assert.deepEqual(s.problems, []);
});

test('directories are read recursively (hidden ones too), other extensions skipped but counted, files sorted', async () => {
  const dir = tempTree({
    'b.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n',
    'a.yml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n',
    'sub/deeper/c.json': '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"c"}}',
    '.hidden/d.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: d}\n',
    'README.md': '# not a manifest\n',
    'values.txt': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ignored}\n',
  });
  const s = await readPaths([dir]);
  assert.deepEqual(s.names(), ['ServiceAccount/d', 'ServiceAccount/a', 'ServiceAccount/b', 'ServiceAccount/c']);
  assert.deepEqual(s.skips, ['file extension not .yaml/.yml/.json', 'file extension not .yaml/.yml/.json']);
  assert.equal(s.objects[3]!.location.file, join(dir, 'sub/deeper/c.json'));
  // A file named explicitly is read whatever its extension.
  const t = await readPaths([join(dir, 'values.txt')]);
  assert.deepEqual(t.names(), ['ServiceAccount/ignored']);
});

test('relative paths are shown as given and resolved against cwd', async () => {
  const dir = tempTree({ 'x/one.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: one}\n' });
  const s = await readPaths(['x'], { cwd: dir });
  assert.equal(s.objects[0]!.location.file, join('x', 'one.yaml'));
});

test('a broken file is one problem with file and line; the other files are still read', async () => {
  const dir = tempTree({
    'a-bad.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n',
    'b-good.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n',
    'c-bad.json': '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x",}}\n',
  });
  const s = await readPaths([dir, join(dir, 'missing.yaml')]);
  assert.deepEqual(s.names(), ['ServiceAccount/ok']);
  assert.equal(s.problems.length, 3, s.problemLines().join('\n'));
  assert.match(s.problemLines()[0]!, /a-bad\.yaml:[45]: error: YAML syntax error/);
  assert.match(s.problemLines()[1]!, /c-bad\.json:1: error: invalid JSON/);
  assert.match(s.problemLines()[2]!, /missing\.yaml:0: error: cannot read: no such file or directory/);
  for (const p of s.problems) assert.ok(!p.message.includes('\n'), 'one line');
});

test('stdin `-` mixes with files', async () => {
  const dir = tempTree({ 'f.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: f}\n' });
  const { Readable } = await import('node:stream');
  const { RecordingSink } = await import('./helpers.ts');
  const { readManifests } = await import('../../../src/sources/manifests/index.ts');
  const sink = new RecordingSink();
  await readManifests([join(dir, 'f.yaml'), '-'], sink, { stdin: Readable.from([Buffer.from('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n')]) });
  assert.deepEqual(sink.names(), ['ServiceAccount/f', 'ServiceAccount/s']);
  assert.equal(sink.objects[1]!.location.file, '-');
});

test('empty input and whitespace-only input produce no objects and no problems', async () => {
  for (const text of ['', '\n\n  \n', '---\n', '# just a comment\n']) {
    const s = await readText(text);
    assert.deepEqual(s.objects, []);
    assert.deepEqual(s.problems, [], JSON.stringify(text));
  }
});

test('small JSON files keep field positions (lineOf) and whole objects; big streams do not', async () => {
  const list = {
    apiVersion: 'v1',
    items: [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { automountServiceAccountToken: false, containers: [{ name: 'c' }] }, status: { phase: 'Running' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' } },
    ],
    kind: 'List',
  };
  const text = JSON.stringify(list, null, 4);
  const dir = tempTree({ 'dump.json': text, 'single.json': '{\n  "apiVersion": "v1",\n  "kind": "ServiceAccount",\n  "metadata": {\n    "name": "x"\n  }\n}\n' });
  const s = await readPaths([join(dir, 'dump.json'), join(dir, 'single.json')]);
  assert.deepEqual(s.names(), ['Pod/a', 'ServiceAccount/sa', 'ServiceAccount/x']);
  const lines = text.split('\n');
  const pod = s.objects[0]!;
  assert.equal(pod.location.line, lines.indexOf('        {') + 1);
  assert.equal(pod.lineOf?.(['spec', 'automountServiceAccountToken']), lines.findIndex((l) => l.includes('"automountServiceAccountToken"')) + 1);
  assert.deepEqual(pod.object.status, { phase: 'Running' });
  assert.equal(s.objects[2]!.lineOf?.(['metadata', 'name']), 5);
  // The same bytes through stdin are streamed: no positions kept.
  const t = await readText(text);
  assert.equal(t.objects[0]!.lineOf, undefined);
});

test('a named pipe (process substitution, -f <(helm template …)) is streamed, not taken as empty', { skip: process.platform === 'win32' }, async () => {
  const { execFileSync, spawn } = await import('node:child_process');
  const dir = tempTree({});
  const fifo = join(dir, 'pipe.yaml');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', `printf 'apiVersion: v1\\nkind: ServiceAccount\\nmetadata: {name: piped}\\n' > '${fifo}'`]);
  const closed = new Promise((r) => writer.on('close', r));
  const s = await readPaths([fifo]);
  await closed;
  assert.deepEqual(s.names(), ['ServiceAccount/piped']);
  assert.deepEqual(s.problems, []);
});
