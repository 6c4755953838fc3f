// Corpus bundles applied to the real control plane: the live scan (objects the controllers and admission made)
// and the offline scan of the same manifests agree workload by workload, pods are reported under their
// owners, and a snapshot scanned offline gives the live result again.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { analyzeInventory, readInventory } from '../../src/analysis/scan.ts';
import type { ScanResult, WorkloadReport } from '../../src/analysis/types.ts';
import { run as snapshotRun } from '../../src/cli/commands/snapshot.ts';
import { peekSnapshotInfo } from '../../src/sources/cluster/snapshot.ts';
import { bundleInto, captureIO, kubectlOk, tmpFile, waitForControllerPods } from '../sources/cluster/live-helpers.ts';
import { REAL_WORLD } from '../helpers/corpus.ts';

const CORPUS = REAL_WORLD;

interface Bundle {
  name: string;
  file: string;
  /** Text replaced by the namespace everywhere (bundles that hard-code their namespace and cluster-scoped names). */
  rename?: string;
  /** Workloads whose controllers create pods here (no scheduler, no nodes: DaemonSets make none). */
  podOwners: number;
}

const BUNDLES: Bundle[] = [
  { name: 'microservices-demo', file: 'microservices-demo/release/kubernetes-manifests.yaml', podOwners: 12 },
  { name: 'istio-bookinfo', file: 'istio-bookinfo/bookinfo.yaml', podOwners: 6 },
  { name: 'kubernetes-dashboard', file: 'kubernetes-dashboard/recommended.yaml', rename: 'kubernetes-dashboard', podOwners: 2 },
];

let cp: ControlPlane;
const applied: { bundle: Bundle; ns: string; file: string }[] = [];

before(async () => {
  cp = await sharedControlPlane();
  for (const bundle of BUNDLES) {
    const ns = uniqueNamespace('eq');
    const file = tmpFile(`${bundle.name}.yaml`, bundleInto(path.join(CORPUS, bundle.file), ns, bundle.rename));
    await kubectlOk(cp, ['create', 'namespace', ns]);
    await kubectlOk(cp, ['apply', '-f', file]);
    applied.push({ bundle, ns, file });
  }
  for (const a of applied) await waitForControllerPods(cp, a.ns, a.bundle.podOwners);
});

const wkey = (w: { kind: string; namespace: string; name: string }) => `${w.kind}/${w.namespace}/${w.name}`;

/** What must be equal between live and offline: the token verdict and the identity it carries. */
function verdict(w: WorkloadReport) {
  return {
    serviceAccount: w.serviceAccount,
    mounted: w.token.mounted,
    apiAccess: w.token.apiAccess,
    automount: w.token.automount.effective,
    automountDecidedBy: w.token.automount.decidedBy,
    sources: w.token.sources.map((s) => `${s.kind}:${s.apiAudience}`).sort(),
    containers: [...w.token.containers].sort(),
    needed: w.token.needed,
    onlyDefaults: w.permissions?.onlyDefaults,
    dangerous: (w.permissions?.dangerous ?? []).map((d) => d.id).sort(),
  };
}

async function liveScan(ns: string): Promise<ScanResult> {
  const io = captureIO();
  const { inventory } = await readInventory({ cluster: { kubeconfig: cp.kubeconfig, namespace: ns, quiet: true } }, io);
  return analyzeInventory(inventory);
}

async function offlineScan(file: string): Promise<ScanResult> {
  const { inventory } = await readInventory({ paths: [file] }, captureIO());
  return analyzeInventory(inventory);
}

for (const b of BUNDLES) {
  test(`${b.name}: live and offline scans agree workload by workload; controller pods under their owners`, { timeout: 180_000 }, async () => {
    const a = applied.find((x) => x.bundle === b)!;
    const live = await liveScan(a.ns);
    const offline = await offlineScan(a.file);
    assert.deepEqual(live.gaps, []);
    const liveMine = live.workloads.filter((w) => w.namespace === a.ns);
    const offMine = offline.workloads.filter((w) => w.namespace === a.ns);
    assert.ok(offMine.length >= b.podOwners, `offline workloads: ${offMine.map(wkey).join(', ')}`);
    // Same workloads: no ReplicaSet or Pod of a controller shows up on its own.
    assert.deepEqual(liveMine.map(wkey).sort(), offMine.map(wkey).sort());
    for (const off of offMine) {
      const lw = liveMine.find((w) => wkey(w) === wkey(off))!;
      assert.deepEqual(verdict(lw), verdict(off), `${wkey(off)}: live vs offline`);
      if (off.kind !== 'DaemonSet' && off.kind !== 'CronJob') assert.ok(lw.pods >= 1, `${wkey(off)} has its controller's pods`);
    }
  });
}

test('snapshot → scan -f: the offline scan of the snapshot gives the live result', { timeout: 180_000 }, async () => {
  const a = applied[0]!;
  const io = captureIO();
  assert.equal(await snapshotRun(['--kubeconfig', cp.kubeconfig, '-n', a.ns, '-q'], io), 0);
  const snapFile = tmpFile('cluster.json', io.out());
  const info = peekSnapshotInfo(snapFile);
  assert.equal(info?.serverVersion, cp.version);
  const live = await liveScan(a.ns);
  const fromSnapshot = await offlineScan(snapFile);
  const pick = (r: ScanResult) => r.workloads.filter((w) => w.namespace === a.ns).map((w) => ({ k: wkey(w), pods: w.pods, v: verdict(w) })).sort((x, y) => x.k.localeCompare(y.k));
  assert.deepEqual(pick(fromSnapshot), pick(live));
  const findings = (r: ScanResult) => r.findings.filter((f) => f.resource.namespace === a.ns).map((f) => `${f.rule} ${f.resource.kind}/${f.resource.name}`).sort();
  assert.deepEqual(findings(fromSnapshot), findings(live));
  // YAML snapshots read back the same way.
  const yio = captureIO();
  assert.equal(await snapshotRun(['--kubeconfig', cp.kubeconfig, '-n', a.ns, '-q', '-o', 'yaml'], yio), 0);
  const yfile = tmpFile('cluster.yaml', yio.out());
  assert.equal(peekSnapshotInfo(yfile)?.context, info?.context);
  assert.deepEqual(pick(await offlineScan(yfile)), pick(live));
});

// The snapshot records its gaps; `scan -f` must restore them (peekSnapshotInfo) to report the same incompleteness.
test('a snapshot taken with a gap: scan -f reports the gap and exits 4, as the live scan did', { timeout: 120_000 }, async () => {
  const { identityWithRequiredRole } = await import('../sources/cluster/live-helpers.ts');
  const { main } = await import('../../src/cli/main.ts');
  const a = applied[0]!;
  const { kubeconfig } = await identityWithRequiredRole(cp, { without: ['rolebindings'] });
  const io = captureIO();
  assert.equal(await snapshotRun(['--kubeconfig', kubeconfig, '-n', a.ns, '-q'], io), 4);
  const snapFile = tmpFile('gap.json', io.out());
  const sio = captureIO();
  const code = await main(['scan', '-f', snapFile, '-o', 'json', '-q'], { io: sio });
  assert.equal(JSON.parse(sio.out()).gaps[0]?.resource, 'rolebindings.rbac.authorization.k8s.io');
  assert.equal(code, 4);
});
