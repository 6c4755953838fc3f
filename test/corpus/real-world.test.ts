// Every real-world bundle in ../shared/corpus scans without an input error, and a few named workloads are
// pinned with what we report and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InventoryBuilder } from '../../src/inventory/build.ts';
import { readManifests } from '../../src/sources/manifests/index.ts';
import { analyzeInventory } from '../../src/analysis/scan.ts';
import type { ScanResult, WorkloadReport } from '../../src/analysis/types.ts';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'corpus');
const REAL = join(CORPUS, 'real-world');

async function scanPath(p: string): Promise<ScanResult> {
  const b = new InventoryBuilder();
  await readManifests([p], b);
  return analyzeInventory(b.finish());
}

const cache = new Map<string, Promise<ScanResult>>();
const bundle = (name: string) => {
  if (!cache.has(name)) cache.set(name, scanPath(join(REAL, name)));
  return cache.get(name)!;
};
function workload(r: ScanResult, kind: string, name: string, fileEnd?: string): WorkloadReport {
  const w = r.workloads.find((x) => x.kind === kind && x.name === name && (!fileEnd || x.location.file.endsWith(fileEnd)));
  assert.ok(w, `${kind}/${name}`);
  return w;
}
const hasFinding = (r: ScanResult, rule: string, name: string) => r.findings.some((f) => f.rule === rule && f.resource.name === name);

test('every real-world bundle and the cluster dump scan without an input error', async () => {
  const names = readdirSync(REAL);
  assert.ok(names.length >= 20);
  let workloads = 0;
  for (const name of names) {
    const r = await bundle(name);
    const errors = r.inputs.problems.filter((p) => p.level === 'error');
    assert.deepEqual(errors, [], name);
    workloads += r.workloads.length;
  }
  assert.ok(workloads > 80, `workloads found across bundles: ${workloads}`);
  const dump = await scanPath(join(CORPUS, 'cluster-dumps'));
  assert.deepEqual(dump.inputs.problems.filter((p) => p.level === 'error'), []);
  assert.ok(dump.workloads.length > 0);
});

test('kube-prometheus node-exporter: the ServiceAccount turns automount off, the pod template turns it back on (pod wins, §1.4)', async () => {
  const r = await bundle('kube-prometheus');
  const w = workload(r, 'DaemonSet', 'node-exporter');
  assert.equal(w.serviceAccountStatus, 'present');
  assert.deepEqual([w.token.mounted, w.token.apiAccess], [true, true]);
  assert.deepEqual([w.token.automount.decidedBy, w.token.automount.podValue, w.token.automount.serviceAccountValue], ['pod', true, false]);
  assert.ok(hasFinding(r, 'token-pod-opt-in', 'node-exporter'));
  assert.match(w.token.automount.serviceAccountLocation!.file, /nodeExporter-serviceAccount\.yaml$/);
  // grafana opts out at the pod level as well: no token.
  assert.equal(workload(r, 'Deployment', 'grafana').token.mounted, false);
});

test('guestbook frontend (kubernetes/examples): a plain web frontend on the implicit default SA gets an API token', async () => {
  const r = await bundle('kubernetes-examples');
  const w = workload(r, 'Deployment', 'frontend', 'web/guestbook/frontend-deployment.yaml');
  assert.equal(w.serviceAccount, 'default');
  assert.equal(w.serviceAccountStatus, 'builtin-default');
  assert.deepEqual([w.token.mounted, w.token.apiAccess, w.token.automount.decidedBy], [true, true, 'default']);
  assert.ok(r.findings.some((f) => f.rule === 'token-default-service-account' && f.location?.file.endsWith('web/guestbook/frontend-deployment.yaml')));
});

test('external-dns references a ServiceAccount the bundle does not ship: unknown, not a pass', async () => {
  const r = await bundle('external-dns');
  const w = workload(r, 'Deployment', 'external-dns');
  assert.equal(w.serviceAccountStatus, 'missing');
  assert.equal(w.token.mounted, 'unknown');
  assert.ok(hasFinding(r, 'token-service-account-missing', 'external-dns'));
});

test('argo-cd repo-server opts out at the pod level; the application controller keeps its token', async () => {
  const r = await bundle('argo-cd');
  const repo = workload(r, 'Deployment', 'argocd-repo-server');
  assert.deepEqual([repo.token.mounted, repo.token.automount.decidedBy, repo.token.automount.podValue], [false, 'pod', false]);
  assert.equal(workload(r, 'StatefulSet', 'argocd-application-controller').token.apiAccess, true);
});

test('istio bookinfo: dedicated ServiceAccounts with automount unset still get a token', async () => {
  const r = await bundle('istio-bookinfo');
  const w = workload(r, 'Deployment', 'productpage-v1');
  assert.deepEqual([w.serviceAccount, w.serviceAccountStatus, w.token.mounted, w.token.automount.decidedBy], ['bookinfo-productpage', 'present', true, 'default']);
  assert.ok(!hasFinding(r, 'token-default-service-account', 'productpage-v1'));
});
