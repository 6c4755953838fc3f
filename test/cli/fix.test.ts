// `fix` on manifests through the CLI: dry run by default, --write in place, stdin diff only, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { captureCliIO } from '../helpers/cli-io.ts';

const FIXTURES = new URL('../fixtures/remedy/', import.meta.url).pathname;

const captureIO = (cwd: string, stdinText?: string) => captureCliIO(cwd, stdinText);
const tick = () => new Promise((r) => setImmediate(r));

async function tempCopy(...names: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-fix-cli-'));
  for (const n of names) await cp(join(FIXTURES, n), join(dir, n));
  return dir;
}

test('dry run: plan and diff on stdout, the file untouched', async () => {
  const dir = await tempCopy('app.yaml');
  const before = await readFile(join(dir, 'app.yaml'), 'utf8');
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'app.yaml'], { io: c.io }), 0);
  await tick();
  assert.match(c.out(), /ServiceAccount shop\/default: set automountServiceAccountToken: false/);
  assert.match(c.out(), /Deployment shop\/catalog-watcher: pod template automountServiceAccountToken: false/);
  assert.match(c.out(), /^--- a\/app\.yaml\n\+\+\+ b\/app\.yaml\n@@ /m);
  assert.match(c.out(), /^\+automountServiceAccountToken: false$/m);
  assert.equal(await readFile(join(dir, 'app.yaml'), 'utf8'), before);
});

test('--write: golden output, then a second run changes nothing', async () => {
  const dir = await tempCopy('app.yaml', 'app.expected.yaml');
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'app.yaml', '--write'], { io: c.io }), 0);
  assert.equal(await readFile(join(dir, 'app.yaml'), 'utf8'), await readFile(join(dir, 'app.expected.yaml'), 'utf8'));
  const c2 = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'app.yaml', '--write'], { io: c2.io }), 0);
  await tick();
  assert.match(c2.out(), /Nothing to change/);
  assert.equal(await readFile(join(dir, 'app.yaml'), 'utf8'), await readFile(join(dir, 'app.expected.yaml'), 'utf8'));
  assert.deepEqual((await readdir(dir)).sort(), ['app.expected.yaml', 'app.yaml'], 'no temp files left');
});

test('stdin (helm template | fix -f -): the diff, never a write', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-fix-stdin-'));
  const text = await readFile(join(FIXTURES, 'app.yaml'), 'utf8');
  const c = captureIO(dir, text);
  assert.equal(await main(['fix', '-f', '-', '--write'], { io: c.io }), 0);
  await tick();
  assert.match(c.out(), /^--- a\/-\n\+\+\+ b\/-/m);
  assert.match(c.err(), /stdin \(-\) is never written/);
  assert.deepEqual(await readdir(dir), []);
});

test('a default service account the input lacks is appended next to the workload (namespace style kept)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-fix-nodefault-'));
  const src = '# web app\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n';
  await writeFile(join(dir, 'web.yaml'), src);
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'web.yaml', '--write'], { io: c.io }), 0);
  const out = await readFile(join(dir, 'web.yaml'), 'utf8');
  assert.ok(out.startsWith(src), 'original bytes kept');
  // No namespace in the workload (applied with -n): none in the new ServiceAccount either.
  assert.match(out.slice(src.length), /^---\n# Added by kube-sa-audit fix: .*\n# .*\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: false\n$/);
});

test('JSON input: new objects go to kube-sa-audit-added.yaml beside it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-fix-json-'));
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'j' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  await writeFile(join(dir, 'pod.json'), JSON.stringify(pod, null, 2) + '\n');
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'pod.json', '--write'], { io: c.io }), 0);
  assert.equal(await readFile(join(dir, 'pod.json'), 'utf8'), JSON.stringify(pod, null, 2) + '\n', 'the JSON file is not touched (the SA gets the fix)');
  assert.match(await readFile(join(dir, 'kube-sa-audit-added.yaml'), 'utf8'), /kind: ServiceAccount\nmetadata:\n  name: default\n  namespace: j\nautomountServiceAccountToken: false/);
});

test('--dedicated-sa: new SA and binding copy appended, serviceAccountName set', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-fix-dedicated-'));
  // need=unknown (bound to edit via default) → moved only with --dedicated-sa, permissions copied.
  const src = [
    'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: default-edit\n  namespace: ops\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: ops\n',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: operator\n  namespace: ops\nspec:\n  selector: {matchLabels: {app: op}}\n  template:\n    metadata: {labels: {app: op}}\n    spec:\n      containers:\n      - name: op\n        image: example/op\n',
  ].join('---\n');
  await writeFile(join(dir, 'ops.yaml'), src);
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'ops.yaml', '--write', '--dedicated-sa'], { io: c.io }), 0);
  const out = await readFile(join(dir, 'ops.yaml'), 'utf8');
  assert.match(out, /      - name: op\n        image: example\/op\n      serviceAccountName: operator\n/);
  // Moved, not only copied: default leaves the original binding.
  assert.match(out, /^  name: edit\nsubjects: \[\]\n---\n/m);
  assert.match(out, /kind: ServiceAccount\nmetadata:\n  name: operator\n  namespace: ops\n/);
  assert.match(out, /kind: RoleBinding\nmetadata:\n  name: default-edit-operator\n  namespace: ops\n[\s\S]*roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n  - kind: ServiceAccount\n    name: operator\n    namespace: ops\n/);
  // Re-scan: the operator keeps the same permissions through its own SA; a second run changes nothing.
  const c2 = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'ops.yaml', '--write', '--dedicated-sa'], { io: c2.io }), 0);
  assert.equal(await readFile(join(dir, 'ops.yaml'), 'utf8'), out);
});

test('refuses a file it cannot parse: exit 3, one line naming the file, nothing written', async () => {
  const dir = await tempCopy('app.yaml');
  await writeFile(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n');
  const before = await readFile(join(dir, 'app.yaml'), 'utf8');
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', '.', '--write'], { io: c.io }), 3);
  await tick();
  assert.match(c.err(), /broken\.yaml:\d+/);
  assert.match(c.err(), /nothing was written/);
  assert.doesNotMatch(c.err(), /\n\s+at /, 'no stack trace');
  assert.equal(await readFile(join(dir, 'app.yaml'), 'utf8'), before);
});

test('usage errors: exit 2', async () => {
  for (const args of [['fix', '--write'], ['fix', '-f', 'x.yaml', '--apply'], ['fix', '-f', 'x.yaml', '--level', 'node'], ['fix', '--bogus']]) {
    const c = captureIO(tmpdir());
    assert.equal(await main(args, { io: c.io }), 2, args.join(' '));
  }
});

test('-o json: the plan with reasons', async () => {
  const dir = await tempCopy('app.yaml');
  const c = captureIO(dir);
  assert.equal(await main(['fix', '-f', 'app.yaml', '-o', 'json'], { io: c.io }), 0);
  await tick();
  const j = JSON.parse(c.out());
  assert.ok(j.plan.steps.length >= 2);
  for (const s of j.plan.steps) assert.equal(typeof s.reason, 'string');
  assert.deepEqual(j.files, [{ file: 'app.yaml', created: false }]);
});
