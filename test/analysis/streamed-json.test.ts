// The streamed analysis (analysis/streamed-json.ts) must write exactly the bytes of writeJson(analyzeInventory(…)):
// same workloads, ServiceAccounts in order of first use, findings in the same stable sort, same summary. It is
// compared on real inputs (the example cluster, the 20 real-world projects of the shared corpus, a kubectl-style
// dump from the generator, the KubeHound cluster dump), then on its edges: empty sections, findings that tie,
// a live scan's `cluster` key, temp files removed, errors from the output stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable } from 'node:stream';
import { analyzeInventory, readInventory } from '../../src/analysis/scan.ts';
import { SpillUnavailable, writeStreamedJson } from '../../src/analysis/streamed-json.ts';
import { writeJson } from '../../src/report/json.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { optionsForPods, writeDump } from '../../bench/gen.ts';
import { CORPUS, REAL_WORLD } from '../helpers/corpus.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const io = (): CliIO => ({ stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: ROOT, invokedAs: 'kube-sa-audit' });

/** Collects what is written; every write is acknowledged later, so back-pressure paths run too. */
function sink(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

async function classic(paths: string[], cluster?: { context: string; namespace?: string }): Promise<string> {
  const { inventory } = await readInventory({ paths, keepPodRecords: false }, io());
  const result = await analyzeInventory(inventory);
  if (cluster) result.cluster = cluster;
  const s = sink();
  await writeJson(result, s.stream);
  return s.text();
}

async function streamed(paths: string[], cluster?: { context: string; namespace?: string }): Promise<{ text: string; findings: number; workloads: number }> {
  const { inventory } = await readInventory({ paths, keepPodRecords: false }, io());
  const s = sink();
  const outcome = await writeStreamedJson(inventory, s.stream, {}, cluster ? { cluster } : {});
  return { text: s.text(), findings: outcome.findings, workloads: outcome.summary.workloads };
}

async function assertSame(paths: string[], what: string, cluster?: { context: string; namespace?: string }): Promise<{ workloads: number; findings: number; serviceAccounts: number }> {
  const want = await classic(paths, cluster);
  const got = await streamed(paths, cluster);
  if (got.text !== want) {
    // Name the first differing line rather than print two reports.
    const a = want.split('\n'), b = got.text.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`${what}: streamed report differs at line ${i + 1}:\n  classic:  ${a[i]}\n  streamed: ${b[i]}`);
  }
  const parsed = JSON.parse(got.text) as { workloads: unknown[]; findings: unknown[]; serviceAccounts: unknown[] };
  assert.equal(got.findings, parsed.findings.length, `${what}: outcome counts the findings`);
  assert.equal(got.workloads, parsed.workloads.length, `${what}: outcome counts the workloads`);
  return { workloads: parsed.workloads.length, findings: parsed.findings.length, serviceAccounts: parsed.serviceAccounts.length };
}

test('the streamed report is byte-identical on the example cluster', async () => {
  const n = await assertSame([join(ROOT, 'examples')], 'examples');
  assert.ok(n.workloads > 5 && n.findings > 5 && n.serviceAccounts > 3, JSON.stringify(n));
});

test('the streamed report is byte-identical on every real-world project of the corpus, and on all of them at once', async () => {
  const projects = readdirSync(REAL_WORLD).filter((d) => !d.startsWith('.')).map((d) => join(REAL_WORLD, d));
  assert.ok(projects.length >= 20, `corpus projects: ${projects.length}`);
  let findings = 0;
  for (const p of projects) findings += (await assertSame([p], p)).findings;
  assert.ok(findings > 50, `findings across the corpus: ${findings}`);
  await assertSame(projects, 'all projects');
});

test('the streamed report is byte-identical on a kubectl-style dump (owned Pods folded, injected tokens, RBAC) and a cluster dump', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-streamed-'));
  try {
    const file = join(dir, 'dump.json');
    let text = '';
    writeDump(optionsForPods(600, '7'), (chunk) => (text += chunk));
    writeFileSync(file, text);
    const n = await assertSame([file], 'generated dump');
    assert.ok(n.workloads > 100 && n.findings > 100, JSON.stringify(n));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const dump = join(CORPUS, 'cluster-dumps');
  if (existsSync(dump)) await assertSame([dump], 'kubehound cluster dump');
});

test('ties in the sort keep the classic order; empty sections print as []; a live scan adds its cluster key last', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-streamed-'));
  try {
    // Two legacy token Secrets in one pod: two findings with the same severity, resource and rule.
    const sa = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: ns}\n';
    const secret = (n: string) => `---\napiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata: {name: ${n}, namespace: ns, annotations: {kubernetes.io/service-account.name: app}}\n`;
    const pod = '---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  serviceAccountName: app\n  containers: [{name: c, image: x, volumeMounts: [{name: a, mountPath: /a}, {name: b, mountPath: /b}]}]\n  volumes: [{name: a, secret: {secretName: tok-z}}, {name: b, secret: {secretName: tok-a}}]\n';
    writeFileSync(join(dir, 'ties.yaml'), sa + secret('tok-z') + secret('tok-a') + pod);
    const parsed = JSON.parse((await streamed([join(dir, 'ties.yaml')])).text) as { findings: { rule: string; message: string }[] };
    const legacy = parsed.findings.filter((f) => f.rule === 'token-legacy-secret');
    assert.equal(legacy.length, 2, 'two tied findings');
    assert.match(legacy[0]!.message, /tok-z/, 'emission order kept among ties');
    await assertSame([join(dir, 'ties.yaml')], 'ties');

    // RBAC only: no workloads, no ServiceAccount entries.
    mkdirSync(join(dir, 'rbac'));
    writeFileSync(join(dir, 'rbac', 'r.yaml'), 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: all}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: Group, name: system:serviceaccounts, apiGroup: rbac.authorization.k8s.io}]\n');
    const rbacOnly = await assertSame([join(dir, 'rbac')], 'rbac only');
    assert.equal(rbacOnly.workloads, 0);
    assert.ok(rbacOnly.findings > 0, 'the group binding is still reported');

    const cluster = { context: 'kind-test', namespace: 'ns' };
    await assertSame([join(dir, 'ties.yaml')], 'with cluster', cluster);
    assert.match((await streamed([join(dir, 'ties.yaml')], cluster)).text, /"cluster": \{\n    "context": "kind-test",\n    "namespace": "ns"\n  \}\n\}\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the spill files are removed after the report, and when the output fails', async () => {
  const spillRoot = mkdtempSync(join(tmpdir(), 'ksa-spill-root-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = spillRoot; // os.tmpdir() reads it on each call
  try {
    await streamed([join(ROOT, 'examples')]);
    assert.deepEqual(readdirSync(spillRoot), [], 'nothing left after a report');
    const { inventory } = await readInventory({ paths: [join(ROOT, 'examples')], keepPodRecords: false }, io());
    const broken = new Writable({ write(_c, _e, cb) { cb(new Error('disk full')); } });
    broken.on('error', () => {});
    await assert.rejects(writeStreamedJson(inventory, broken, {}), /disk full/);
    assert.deepEqual(readdirSync(spillRoot), [], 'nothing left after a failed write');
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(spillRoot, { recursive: true, force: true });
  }
});

test('without a usable temp directory it throws SpillUnavailable before writing anything', async () => {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = join(tmpdir(), 'ksa-no-such-dir', 'deeper');
  try {
    const { inventory } = await readInventory({ paths: [join(ROOT, 'examples')], keepPodRecords: false }, io());
    const s = sink();
    let started = false;
    await assert.rejects(writeStreamedJson(inventory, s.stream, {}, { onStart: () => (started = true) }), SpillUnavailable);
    assert.equal(s.text(), '', 'nothing written');
    assert.equal(started, false, 'onStart not called');
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
});

test('audit evidence is refused: it needs every report at once', async () => {
  const { inventory } = await readInventory({ paths: [join(ROOT, 'examples')], keepPodRecords: false }, io());
  await assert.rejects(writeStreamedJson(inventory, sink().stream, { auditLogs: ['x.log'] }), /audit evidence/);
});
