// Golden-file tests: edits change only the lines they must; every other byte stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { editManifestText, ManifestEditError, type ManifestEdit } from '../../src/remedy/manifest-edit.ts';
import { writeFileAtomic } from '../../src/remedy/atomic-write.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/remedy/${name}`, import.meta.url), 'utf8');

/** Lines of `after` that are not in `before` at the same position, via a simple LCS-free check: changed line numbers. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  // Common prefix and suffix; what is left is the change.
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { removed: a.slice(p, a.length - s), added: b.slice(p, b.length - s) };
}

const commentedEdits: ManifestEdit[] = [
  { op: 'set', target: { file: 'commented.yaml', document: 0, kind: 'ServiceAccount', namespace: 'shop', name: 'default' }, path: [], key: 'automountServiceAccountToken', value: false },
  { op: 'set', target: { file: 'commented.yaml', document: 2, kind: 'Deployment', namespace: 'shop', name: 'catalog-watcher' }, path: ['spec', 'template', 'spec'], key: 'automountServiceAccountToken', value: true },
];

test('commented multi-document YAML: golden output, untouched documents byte-identical', () => {
  const src = fixture('commented.yaml');
  const out = editManifestText(src, 'commented.yaml', commentedEdits);
  assert.equal(out, fixture('commented.expected.yaml'));
  // The frontend Deployment and the tail document are byte-identical.
  const docsIn = parseAllDocuments(src) as any[];
  const docsOut = parseAllDocuments(out) as any[];
  for (const i of [1, 3]) assert.equal(out.slice(docsOut[i].range[0], docsOut[i].range[2]), src.slice(docsIn[i].range[0], docsIn[i].range[2]), `document ${i}`);
});

test('commented YAML: only the changed lines differ', () => {
  const src = fixture('commented.yaml');
  const out = editManifestText(src, 'commented.yaml', commentedEdits.slice(0, 1));
  assert.deepEqual(changedLines(src, out), { removed: [], added: ['automountServiceAccountToken: false'] });
  const out2 = editManifestText(src, 'commented.yaml', commentedEdits.slice(1));
  assert.deepEqual(changedLines(src, out2), {
    removed: ['      automountServiceAccountToken: false   # turned off by someone who forgot it watches ConfigMaps'],
    added: ['      automountServiceAccountToken: true   # turned off by someone who forgot it watches ConfigMaps'],
  });
});

test('idempotent: a second application changes nothing', () => {
  const once = editManifestText(fixture('commented.yaml'), 'commented.yaml', commentedEdits);
  assert.equal(editManifestText(once, 'commented.yaml', commentedEdits), once);
});

test('CRLF line endings are kept, and an inserted line uses them', () => {
  const src = fixture('crlf.yaml');
  const out = editManifestText(src, 'crlf.yaml', [{ op: 'set', target: { file: 'crlf.yaml', kind: 'Pod', namespace: 'win', name: 'crlf' }, path: ['spec'], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out, fixture('crlf.expected.yaml'));
  assert.ok(!/[^\r]\n/.test(out), 'every newline stays CRLF');
});

test('JSON List: items edited in place, JSON stays valid and keeps its layout', () => {
  const src = fixture('list.json');
  const out = editManifestText(src, 'list.json', [
    { op: 'set', target: { file: 'list.json', document: 0, itemPath: 'items/0', kind: 'ServiceAccount', namespace: 'ci', name: 'builder' }, path: [], key: 'automountServiceAccountToken', value: false },
    { op: 'set', target: { file: 'list.json', document: 0, itemPath: 'items/1', kind: 'CronJob', namespace: 'ci', name: 'nightly' }, path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'], key: 'automountServiceAccountToken', value: true },
  ]);
  assert.equal(out, fixture('list.expected.json'));
  const parsed = JSON.parse(out);
  assert.equal(parsed.items[0].automountServiceAccountToken, false);
  assert.equal(parsed.items[1].spec.jobTemplate.spec.template.spec.automountServiceAccountToken, true);
});

test('flow mappings: one-line and empty', () => {
  const src = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{name: c, image: i}]}  # flow\n';
  const out = editManifestText(src, 'f.yaml', [{ op: 'set', target: { file: 'f.yaml', kind: 'Pod', namespace: 'n', name: 'p' }, path: ['spec'], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{name: c, image: i}], automountServiceAccountToken: false}  # flow\n');
  const empty = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s, namespace: n}\nsecrets: []\n';
  const out2 = editManifestText(empty, 'e.yaml', [{ op: 'set', target: { file: 'e.yaml', kind: 'ServiceAccount', namespace: 'n', name: 's' }, path: [], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out2, empty + 'automountServiceAccountToken: false\n');
});

test('a file without a final newline, and a key with an empty value', () => {
  const src = 'kind: ServiceAccount\napiVersion: v1\nmetadata:\n  name: s';
  const out = editManifestText(src, 'x.yaml', [{ op: 'set', target: { file: 'x.yaml', kind: 'ServiceAccount', namespace: 'n', name: 's' }, path: [], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out, src + '\nautomountServiceAccountToken: false\n');
  const empty = 'kind: ServiceAccount\napiVersion: v1\nmetadata:\n  name: s\nautomountServiceAccountToken:\n';
  const out2 = editManifestText(empty, 'y.yaml', [{ op: 'set', target: { file: 'y.yaml', kind: 'ServiceAccount', namespace: 'n', name: 's' }, path: [], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out2, 'kind: ServiceAccount\napiVersion: v1\nmetadata:\n  name: s\nautomountServiceAccountToken: false\n');
});

test('string values are quoted when YAML would read them as something else', () => {
  const src = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n';
  const set = (value: string): string => editManifestText(src, 'p.yaml', [{ op: 'set', target: { file: 'p.yaml', kind: 'Pod', namespace: 'n', name: 'p' }, path: ['spec'], key: 'serviceAccountName', value }]);
  assert.match(set('web'), /serviceAccountName: web\n$/);
  assert.match(set('true'), /serviceAccountName: "true"\n$/);
  assert.match(set('no'), /serviceAccountName: "no"\n$/);
  assert.match(set('123'), /serviceAccountName: "123"\n$/);
});

test('keys inside a sequence item get the item mapping indentation', () => {
  const src = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: s\n    namespace: n\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: t, namespace: n}\n';
  const out = editManifestText(src, 'l.yaml', [{ op: 'set', target: { file: 'l.yaml', document: 0, itemPath: 'items/0', kind: 'ServiceAccount', namespace: 'n', name: 's' }, path: [], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out, 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: s\n    namespace: n\n  automountServiceAccountToken: false\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: t, namespace: n}\n');
});

test('append a document: separator added, existing text untouched', () => {
  const src = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n';
  const out = editManifestText(src, 'p.yaml', [{ op: 'append', file: 'p.yaml', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' }, automountServiceAccountToken: false }, comment: 'added' }]);
  assert.ok(out.startsWith(src));
  assert.equal(out.slice(src.length), '---\n# added\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: false\n');
});

test('the document index is a hint: a mismatching index falls back to the unique object', () => {
  const src = '---\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n';
  const out = editManifestText(src, 's.yaml', [{ op: 'set', target: { file: 's.yaml', document: 0, kind: 'ServiceAccount', namespace: 'n', name: 's' }, path: [], key: 'automountServiceAccountToken', value: false }]);
  assert.equal(out, src + 'automountServiceAccountToken: false\n');
});

test('refuses a file it cannot parse, naming file and line', () => {
  const bad = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n';
  assert.throws(() => editManifestText(bad, 'bad.yaml', [{ op: 'set', target: { file: 'bad.yaml', kind: 'Pod', namespace: 'n', name: 'p' }, path: ['spec'], key: 'automountServiceAccountToken', value: false }]), (e: unknown) => e instanceof ManifestEditError && /^bad\.yaml:\d+: cannot parse/.test((e as Error).message));
});

test('an object that vanished from the file is a clear error', () => {
  assert.throws(() => editManifestText('kind: Pod\nmetadata:\n  name: other\n', 'g.yaml', [{ op: 'set', target: { file: 'g.yaml', kind: 'Pod', namespace: 'n', name: 'p' }, path: ['spec'], key: 'automountServiceAccountToken', value: false }]), /not found/);
});

test('atomic write: a failure mid-write leaves the original intact and no temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-atomic-'));
  const file = join(dir, 'm.yaml');
  await writeFile(file, 'original\n');
  await chmod(file, 0o640);
  await assert.rejects(
    writeFileAtomic(file, 'new content that is long\n', {
      writeContent: async (fh, content) => {
        await fh.write(content.slice(0, 5));
        throw new Error('disk full (simulated)');
      },
    }),
    /disk full/,
  );
  assert.equal(await readFile(file, 'utf8'), 'original\n');
  assert.deepEqual(await readdir(dir), ['m.yaml']);
  await assert.rejects(writeFileAtomic(file, 'x\n', { beforeRename: () => { throw new Error('crash before rename'); } }), /crash/);
  assert.equal(await readFile(file, 'utf8'), 'original\n');
  assert.deepEqual(await readdir(dir), ['m.yaml']);
  await writeFileAtomic(file, 'replaced\n');
  assert.equal(await readFile(file, 'utf8'), 'replaced\n');
  assert.equal((await stat(file)).mode & 0o777, 0o640, 'permissions kept');
  assert.deepEqual(await readdir(dir), ['m.yaml']);
});

test('an insertion at the very end of the file stays in its document when documents are appended', () => {
  const src = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n';
  const out = editManifestText(src, 'p.yaml', [
    { op: 'append', file: 'p.yaml', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'p' } } },
    { op: 'set', target: { file: 'p.yaml', kind: 'Pod', namespace: 'n', name: 'p' }, path: ['spec'], key: 'serviceAccountName', value: 'p' },
  ]);
  assert.equal(out, src + '  serviceAccountName: p\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: p\n');
});

test('remove list items: one of several (block and flow), and all of them', () => {
  const target = { file: 'b.yaml', kind: 'RoleBinding', namespace: 'ops', name: 'b' };
  const block = 'kind: RoleBinding\nmetadata:\n  name: b\nsubjects:\n- kind: ServiceAccount   # the shared one\n  name: default\n- kind: ServiceAccount\n  name: op\n# end\n';
  const rm = (src: string, match: Record<string, string>[]) => editManifestText(src, 'b.yaml', [{ op: 'remove-items', target, path: ['subjects'], match }]);
  assert.equal(rm(block, [{ kind: 'ServiceAccount', name: 'default' }]), 'kind: RoleBinding\nmetadata:\n  name: b\nsubjects:\n- kind: ServiceAccount\n  name: op\n# end\n');
  assert.equal(rm(block, [{ kind: 'ServiceAccount', name: 'op' }]), 'kind: RoleBinding\nmetadata:\n  name: b\nsubjects:\n- kind: ServiceAccount   # the shared one\n  name: default\n# end\n');
  assert.equal(rm(block, [{ kind: 'ServiceAccount', name: 'default' }, { kind: 'ServiceAccount', name: 'op' }]), 'kind: RoleBinding\nmetadata:\n  name: b\nsubjects: []\n# end\n');
  const flow = 'kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: default}, {kind: User, name: u}]\n';
  assert.equal(rm(flow, [{ kind: 'ServiceAccount', name: 'default' }]), 'kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: User, name: u}]\n');
  assert.equal(rm(flow, [{ kind: 'User', name: 'u' }]), 'kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: default}]\n');
  // Nothing matching: unchanged (idempotent).
  assert.equal(rm(block, [{ kind: 'Group', name: 'x' }]), block);
});
