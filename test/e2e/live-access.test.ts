// Live reads against the real control plane: least-privilege role, partial permissions, Secrets as metadata only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { readCluster, type ClusterReadResult } from '../../src/sources/cluster/index.ts';
import { CollectingSink, snapshotInfo } from '../../src/sources/cluster/snapshot.ts';
import { InventoryBuilder } from '../../src/inventory/build.ts';
import { run as snapshotRun } from '../../src/cli/commands/snapshot.ts';
import { run as rbacRequirementsRun } from '../../src/cli/commands/rbac-requirements.ts';
import { captureIO, identityWithRequiredRole, kubectlOk, waitFor } from '../sources/cluster/live-helpers.ts';
import type { KubeObject } from '../../src/inventory/types.ts';

let cp: ControlPlane;
let ns: string;

const key = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const inNs = (objs: KubeObject[]) => objs.filter((o) => o.metadata?.namespace === ns).map(key).sort();

before(async () => {
  cp = await sharedControlPlane();
  ns = uniqueNamespace('live');
  await kubectlOk(cp, ['create', 'namespace', ns]);
  await kubectlOk(cp, ['apply', '-n', ns, '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: ns }, automountServiceAccountToken: false },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'app', namespace: ns }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'app', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'app' }, subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: ns }] },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { serviceAccountName: 'app', containers: [{ name: 'c', image: 'nginx' }] } } } },
      // A legacy token Secret created with `kubectl apply`: its last-applied annotation carries the data.
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-token', namespace: ns, annotations: { 'kubernetes.io/service-account.name': 'app' } }, type: 'kubernetes.io/service-account-token', stringData: { extra: 'LEAK-CANARY-VALUE' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque', namespace: ns }, type: 'Opaque', stringData: { password: 'OPAQUE-CANARY-VALUE' } },
    ],
  }));
  await waitFor('two pods of web', async () => JSON.parse(await kubectlOk(cp, ['get', 'pods', '-n', ns, '-o', 'json'])).items.length >= 2);
});

async function read(kubeconfig: string, extra: Parameters<typeof readCluster>[0] = {}): Promise<{ result: ClusterReadResult; objects: KubeObject[]; raw: { resource: string; item: Record<string, unknown> }[] }> {
  const sink = new CollectingSink();
  const raw: { resource: string; item: Record<string, unknown> }[] = [];
  const result = await readCluster({ kubeconfig, quiet: true, onRawItem: (resource, item) => raw.push({ resource, item: structuredClone(item) }), ...extra }, sink, captureIO());
  return { result, objects: sink.objects, raw };
}

test('admin read: every kind, list items typed like kubectl, controller pods with owners, server version', { timeout: 120_000 }, async () => {
  const { result, objects } = await read(cp.kubeconfig, { namespace: ns });
  assert.equal(result.serverVersion, cp.version);
  assert.deepEqual(result.gaps, []);
  const mine = inNs(objects);
  assert.ok(mine.includes(`Deployment/${ns}/web`));
  assert.ok(mine.includes(`ServiceAccount/${ns}/app`));
  assert.ok(mine.includes(`ServiceAccount/${ns}/default`), 'the controller-created default SA');
  assert.ok(mine.includes(`RoleBinding/${ns}/app`));
  assert.ok(objects.some((o) => o.kind === 'ClusterRole' && o.metadata?.name === 'cluster-admin'));
  assert.ok(objects.some((o) => o.kind === 'Namespace' && o.metadata?.name === ns));
  const pods = objects.filter((o) => o.kind === 'Pod' && o.metadata?.namespace === ns);
  assert.equal(pods.length, 2);
  for (const p of pods) {
    assert.equal(p.apiVersion, 'v1');
    assert.equal(p.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet');
    assert.equal(p.metadata && 'managedFields' in p.metadata, false);
  }
  assert.ok(objects.some((o) => o.kind === 'ReplicaSet' && o.metadata?.namespace === ns && o.apiVersion === 'apps/v1'));
  // Secrets are opt-in: not listed without --secrets-metadata.
  assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
  // The inventory folds the controller's pods under the Deployment.
  const b = new InventoryBuilder({ origin: 'cluster', serverVersion: result.serverVersion, completeServiceAccounts: true });
  for (const o of objects) b.object({ object: o, location: { file: 'cluster:x', line: 0 } });
  const inv = b.finish();
  const web = inv.workloads.find((w) => w.namespace === ns && w.name === 'web');
  assert.equal(web?.kind, 'Deployment');
  assert.equal(web?.pods.count, 2);
  assert.equal(inv.workloads.filter((w) => w.namespace === ns && w.kind === 'Pod').length, 0, 'no pod reported on its own');
});

test('an identity with exactly the rbac-requirements role reads everything the admin reads, with no gap', { timeout: 120_000 }, async () => {
  // The role comes from the command's own output, as a user would apply it.
  const io = captureIO();
  assert.equal(await rbacRequirementsRun(['-o', 'json', '--no-binding'], io), 0);
  const printed = JSON.parse(io.out()).items[0];
  const { kubeconfig } = await identityWithRequiredRole(cp);
  const admin = await read(cp.kubeconfig, { namespace: ns });
  const reader = await read(kubeconfig, { namespace: ns });
  assert.deepEqual(reader.result.gaps, []);
  assert.deepEqual(inNs(reader.objects), inNs(admin.objects));
  // The role the helper bound is the printed one.
  const { requiredClusterRole } = await import('../../src/sources/cluster/resources.ts');
  assert.deepEqual(printed.rules, (requiredClusterRole() as { rules: unknown }).rules);
  // Without the role nothing can be listed: the same identity minus the binding gets gaps everywhere.
  const nobody = await cp.kubeconfigFor({ user: `ksa-nobody-${Math.random().toString(36).slice(2, 8)}` });
  const none = await read(nobody, { namespace: ns });
  assert.ok(none.result.gaps.length >= 10, `gaps: ${none.result.gaps.map((g) => g.resource).join(',')}`);
});

test('lacking list on rolebindings: partial read, the gap names what it weakens, snapshot exits 4 and records it', { timeout: 120_000 }, async () => {
  const { kubeconfig } = await identityWithRequiredRole(cp, { without: ['rolebindings'] });
  const { result, objects } = await read(kubeconfig, { namespace: ns });
  assert.equal(result.gaps.length, 1);
  const gap = result.gaps[0]!;
  assert.equal(gap.resource, 'rolebindings.rbac.authorization.k8s.io');
  assert.equal(gap.namespace, ns);
  assert.match(gap.reason, /forbidden \(403\)/);
  assert.ok(gap.weakens.some((w) => /permissions/.test(w)));
  assert.ok(gap.weakens.some((w) => /token\.needed/.test(w)));
  assert.ok(objects.some((o) => o.kind === 'Deployment' && o.metadata?.name === 'web'), 'the rest was still read');
  assert.equal(objects.filter((o) => o.kind === 'RoleBinding').length, 0);

  const io = captureIO();
  const code = await snapshotRun(['--kubeconfig', kubeconfig, '-n', ns, '-q'], io);
  assert.equal(code, 4);
  assert.match(io.err(), /incomplete: cannot read rolebindings\.rbac\.authorization\.k8s\.io in live-\w+: forbidden/);
  const snap = JSON.parse(io.out());
  assert.equal(snap.kind, 'List');
  assert.equal(snapshotInfo(snap)?.gaps[0]?.resource, 'rolebindings.rbac.authorization.k8s.io');
  assert.equal(snapshotInfo(snap)?.serverVersion, cp.version);
});

test('Secrets: metadata-only list requests (audit log), no value ever received or kept', { timeout: 120_000 }, async () => {
  const { user, kubeconfig } = await identityWithRequiredRole(cp, { secretsMetadata: true });
  const started = new Date(Date.now() - 1000);
  const { result, objects, raw } = await read(kubeconfig, { secretsMetadata: true });
  assert.deepEqual(result.gaps, []);
  const secrets = objects.filter((o) => o.kind === 'Secret');
  const mine = secrets.find((s) => s.metadata?.namespace === ns && s.metadata.name === 'app-token');
  assert.ok(mine, 'the legacy token Secret is listed');
  assert.equal((mine as { type?: string }).type, 'kubernetes.io/service-account-token');
  assert.equal(mine.metadata?.annotations?.['kubernetes.io/service-account.name'], 'app');
  assert.ok(!secrets.some((s) => s.metadata?.name === 'opaque'), 'the field selector keeps other Secret types out');
  // Instrumented reader: no raw Secret item had a value field; the kept objects hold no value at all.
  const rawSecrets = raw.filter((r) => r.resource === 'secrets');
  assert.ok(rawSecrets.length >= 1);
  for (const r of rawSecrets) {
    assert.equal('data' in r.item, false);
    assert.equal('stringData' in r.item, false);
    assert.equal(r.item.kind, 'PartialObjectMetadata');
  }
  assert.doesNotMatch(JSON.stringify(rawSecrets), /OPAQUE-CANARY-VALUE|TEVBSy1DQU5BUlktVkFMVUU|T1BBUVVFLUNBTkFSWS1WQUxVRQ/);
  // kubectl apply stored the whole Secret in last-applied-configuration; the metadata list necessarily carries it,
  // and the reader drops it before the object goes anywhere.
  const rawMine = rawSecrets.find((r) => (r.item.metadata as { name?: string }).name === 'app-token');
  assert.ok(rawMine && /LEAK-CANARY-VALUE/.test(JSON.stringify(rawMine.item)), 'precondition: the annotation holds the value');
  assert.doesNotMatch(JSON.stringify(objects), /LEAK-CANARY-VALUE|last-applied-configuration/);

  // The API server's audit log: this user only listed secrets, with the type field selector; never a get.
  let events: { verb: string; requestURI: string; objectRef?: { resource?: string; name?: string } }[] = [];
  await waitFor('audit events of the reader', async () => {
    events = fs.readFileSync(cp.auditLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.user?.username === user && e.stage === 'ResponseComplete' && Date.parse(e.requestReceivedTimestamp) >= started.getTime());
    return events.some((e) => e.objectRef?.resource === 'secrets');
  }, 15_000);
  const secretEvents = events.filter((e) => e.objectRef?.resource === 'secrets');
  assert.ok(secretEvents.length >= 1);
  for (const e of secretEvents) {
    assert.equal(e.verb, 'list', e.requestURI);
    assert.equal(e.objectRef?.name, undefined);
    assert.match(e.requestURI, /fieldSelector=type%3Dkubernetes\.io%2Fservice-account-token/);
  }
  assert.ok(events.every((e) => e.verb === 'list' || e.verb === 'get'), 'read-only');
  assert.ok(!events.some((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets'));
});

test('no kubeconfig and no in-cluster service account: exit 5, never localhost:8080', async () => {
  const io = captureIO({ HOME: '/nonexistent-home', KUBECONFIG: '' });
  const { main } = await import('../../src/cli/main.ts');
  const code = await main(['snapshot'], { io });
  assert.equal(code, 5);
  assert.match(io.err(), /no cluster configured/);
  assert.equal(io.out(), '');
});

test('scan with an identity lacking list on rolebindings: exit 4, the gap in the report', { timeout: 120_000 }, async () => {
  const { kubeconfig } = await identityWithRequiredRole(cp, { without: ['rolebindings'] });
  const { main } = await import('../../src/cli/main.ts');
  const io = captureIO();
  const code = await main(['scan', '--kubeconfig', kubeconfig, '-n', ns, '-o', 'json', '-q'], { io });
  assert.equal(code, 4);
  const report = JSON.parse(io.out());
  assert.deepEqual(report.gaps.map((g: { resource: string }) => g.resource), ['rolebindings.rbac.authorization.k8s.io']);
  assert.ok(report.workloads.some((w: { name: string }) => w.name === 'web'), 'the rest of the scan still ran');
});

// The reader records the gap; the analysis (src/rbac/index.ts, analyzeRbac) turns the dependent verdicts to `unknown`.
test('scan with a rolebindings gap: permissions and token.needed of every workload are unknown', { timeout: 120_000 }, async () => {
  const { kubeconfig } = await identityWithRequiredRole(cp, { without: ['rolebindings'] });
  const { main } = await import('../../src/cli/main.ts');
  const io = captureIO();
  await main(['scan', '--kubeconfig', kubeconfig, '-n', ns, '-o', 'json', '-q'], { io });
  const report = JSON.parse(io.out());
  const web = report.workloads.find((w: { name: string }) => w.name === 'web');
  assert.equal(web.token.needed, 'unknown');
  // Permissions are reported once per ServiceAccount.
  const sa = report.serviceAccounts.find((s: { namespace: string; name: string }) => s.namespace === web.namespace && s.name === web.serviceAccount);
  assert.ok(sa, 'the workload\'s ServiceAccount is in the serviceAccounts section');
  assert.equal(sa.permissions.onlyDefaults, false, 'the RoleBinding granting configmaps was not read: "only defaults" would be a false pass');
  assert.match(sa.permissions.incomplete, /lower bound/);
});

test('-l selector narrows pods and workloads only; service accounts and RBAC are still read whole', { timeout: 60_000 }, async () => {
  const { objects } = await read(cp.kubeconfig, { namespace: ns, selector: 'app=nothing-has-this' });
  assert.equal(objects.filter((o) => o.kind === 'Pod' || o.kind === 'Deployment' || o.kind === 'ReplicaSet').length, 0);
  assert.ok(objects.some((o) => o.kind === 'ServiceAccount' && o.metadata?.name === 'app'));
  assert.ok(objects.some((o) => o.kind === 'RoleBinding' && o.metadata?.name === 'app'));
  const web = await read(cp.kubeconfig, { namespace: ns, selector: 'app=web' });
  assert.equal(web.objects.filter((o) => o.kind === 'Pod').length, 2);
});
