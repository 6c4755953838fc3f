// The scan pipeline: inventory → verdicts → RBAC → rules → summary, the same for every source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { analyzeInventory, scan, summarise, inventoryOf } from '../../src/analysis/scan.ts';
import { buildInventory, sourced } from '../../src/inventory/build.ts';
import { severityRank } from '../../src/analysis/types.ts';
import type { CliIO } from '../../src/cli/io.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const io = (): CliIO => ({ stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: ROOT, invokedAs: 'kube-sa-audit' });

test('scan(paths) reads manifests and reports every example case', async () => {
  const r = await scan({ paths: [join(ROOT, 'examples')] }, io());
  const by = (ns: string, name: string) => r.workloads.find((w) => w.namespace === ns && w.name === name)!;
  assert.equal(r.origin, 'manifests');
  assert.equal(by('shop', 'frontend').pods, 2, 'ReplicaSet and Pods folded into the Deployment');
  assert.equal(by('shop', 'frontend').serviceAccountStatus, 'builtin-default');
  assert.equal(by('shop', 'cart').token.mounted, false);
  assert.equal(by('shop', 'checkout').token.automount.decidedBy, 'pod');
  assert.equal(by('batch', 'nightly-report').token.mounted, false, '`no` is false for Kubernetes');
  assert.equal(by('batch', 'import').token.mounted, 'unknown');
  assert.deepEqual([by('platform', 'payments').token.mounted, by('platform', 'payments').token.apiAccess], [true, true]);
  assert.deepEqual(by('platform', 'mesh-app').token.containers, ['migrate', 'proxy', 'app']);
  assert.deepEqual(by('platform', 'debug-target').token.containers, ['main']);
  assert.equal(by('platform', 'quirk').token.mounted, false);
  assert.deepEqual(by('legacy', 'deployer').token.sources.map((s) => s.kind), ['env']);
  assert.deepEqual(by('legacy', 'token-volume').token.sources.map((s) => s.kind), ['legacy-secret']);
  assert.equal(by('kube-system', 'kube-apiserver-node-1').token.mounted, false, 'mirror pod');
  assert.equal(by('web', 'worker-0').token.mounted, false, 'admitted pod without kube-api-access volume');
  assert.deepEqual([by('web', 'api').pods, by('web', 'api').token.mounted], [2, false], 'template verdict: the SA is off now');
  assert.ok(r.findings.some((f) => f.rule === 'token-running-pods-differ' && f.resource.name === 'api'), 'but both running pods still carry the token');
  const rules = new Set(r.findings.map((f) => f.rule));
  for (const id of ['token-default-service-account', 'token-pod-opt-in', 'token-deprecated-service-account-field', 'token-projected-long-expiry', 'token-legacy-secret', 'token-automount-non-canonical-boolean', 'token-service-account-missing']) assert.ok(rules.has(id), id);
  assert.ok(inventoryOf(r), 'the inventory stays reachable for reports');
});

test('findings are sorted by severity, most severe first; summary counts agree with the workloads', async () => {
  const r = await scan({ paths: [join(ROOT, 'examples')] }, io());
  for (let i = 1; i < r.findings.length; i++) assert.ok(severityRank(r.findings[i - 1]!.severity) >= severityRank(r.findings[i]!.severity));
  assert.deepEqual(r.summary, summarise(r.workloads, r.findings));
  assert.equal(r.summary.withApiToken, r.workloads.filter((w) => w.token.apiAccess === true).length);
  assert.equal(r.summary.pods, r.workloads.reduce((n, w) => n + w.pods, 0));
});

test('RBAC runs on the verdicts: permissions are attached and needed is decided or explained', async () => {
  const inv = buildInventory([
    sourced({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bot', namespace: 'ns' } }),
    sourced({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' }, spec: { template: { spec: { serviceAccountName: 'bot', containers: [{ name: 'c' }] } } } }),
    sourced({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'ns' }] }),
  ]);
  const r = await analyzeInventory(inv);
  const w = r.workloads[0]!;
  assert.equal(w.token.apiAccess, true);
  assert.ok(w.token.neededReason.length > 0);
  assert.ok(w.permissions, 'the RBAC stage attached permissions');
});

test('input problems and skipped documents are carried into the result', async () => {
  const inv = buildInventory([sourced({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }), sourced({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: 'nope' } as never, { file: 'x.yaml', line: 9 })]);
  const r = await analyzeInventory(inv);
  assert.equal(r.inputs.skipped, 1);
  assert.deepEqual(r.inputs.problems.map((p) => [p.file, p.line, p.level]), [['x.yaml', 9, 'error']]);
});

test('names and uids of folded pods are kept only when audit logs will read them; the pod is then matched by uid', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { readInventory } = await import('../../src/analysis/scan.ts');
  const { eventLine, requestLines, sa, podExtra, at } = await import('../sources/audit-log/events.ts');
  const dir = mkdtempSync(join(tmpdir(), 'ksa-pod-ids-'));
  try {
    const dump = join(dir, 'dump.json');
    const tpl = { metadata: { labels: { app: 'db' } }, spec: { serviceAccountName: 'db', containers: [{ name: 'c', image: 'i' }] } };
    writeFileSync(dump, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', namespace: 'team', uid: 'uid-db-0', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'uid-sts', controller: true }] }, spec: tpl.spec, status: { phase: 'Running' } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'team', uid: 'uid-sts' }, spec: { template: tpl } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'db', namespace: 'team' } },
    ] }, null, 2));
    const without = (await readInventory({ paths: [dump] }, io())).inventory.workloads;
    assert.deepEqual(without.map((w) => [w.name, w.pods]), [['db', { count: 1, names: [], uids: [] }]], 'no audit logs: counted, not named');
    const log = join(dir, 'audit.log');
    const lines: string[] = [];
    for (let m = 0; m <= 1440; m += 30) lines.push(eventLine({ username: 'system:node:n1', verb: 'update', objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: 'n1', apiGroup: 'coordination.k8s.io' }, ts: at(m) }));
    lines.push(...requestLines({ username: sa('team', 'db'), extra: podExtra('db-0', 'uid-db-0'), verb: 'get', objectRef: { resource: 'configmaps', namespace: 'team', name: 'cfg' }, ts: at(100) }));
    writeFileSync(log, lines.join('\n') + '\n');
    const withLogs = await readInventory({ paths: [dump], auditLogs: [log] }, io());
    assert.deepEqual(withLogs.inventory.workloads[0]!.pods, { count: 1, names: ['db-0'], uids: ['uid-db-0'] });
    const r = await scan({ paths: [dump], auditLogs: [log], minWindowDays: 1, now: new Date(Date.parse(at(1440))) }, io());
    const ev = r.evidence as { workloads: { name: string; pods: { name: string; matchedBy: string }[] }[] };
    assert.deepEqual(ev.workloads.find((w) => w.name === 'db')?.pods.map((p) => [p.name, p.matchedBy]), [['db-0', 'pod-uid']]);
    assert.equal(r.workloads[0]!.token.needed, 'yes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
