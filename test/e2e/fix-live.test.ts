// `fix` against the real control plane: kubectl commands in the dry run; --apply patches, then the pods the
// controllers create afterwards have exactly the token mounts the plan promised; the rollback file restores
// the previous state; a concurrent change makes the apply stop with exit 6.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';
import type { FixPlan } from '../../src/remedy/plan.ts';
import { applyLive, liveActions, makeClient } from '../../src/remedy/live.ts';
import { planFix } from '../../src/remedy/plan.ts';
import { analyzeInventory, readInventory } from '../../src/analysis/scan.ts';
import { captureCliIO } from '../helpers/cli-io.ts';

let cp: ControlPlane;
const ns = uniqueNamespace('fix');
const nsConflict = uniqueNamespace('fix-409');
let work: string;

const captureIO = () => captureCliIO(work);

async function k(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input !== undefined ? { input } : {});
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const getJson = async (args: string[]): Promise<any> => JSON.parse(await k([...args, '-o', 'json']));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const deploy = (name: string, namespace: string, podSpec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...podSpec } } },
});

function bundle(namespace: string): string {
  const objs = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-sa', namespace } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader-view', namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }] },
    deploy('web', namespace, { serviceAccountName: 'web-sa' }), // needs nothing → SA off
    deploy('frontend', namespace), // default, needs nothing → default SA off
    deploy('pinned', namespace, { automountServiceAccountToken: true }), // default, opts in but needs nothing → pod off
    deploy('reader', namespace, { serviceAccountName: 'reader' }), // has permissions, need unknown → untouched
  ];
  return objs.map((o) => JSON.stringify(o)).join('\n');
}

async function waitForDefaultSa(namespace: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await cp.kubectl(['get', 'serviceaccount', 'default', '-n', namespace])).code === 0) return;
    await sleep(200);
  }
  throw new Error(`no default service account in ${namespace}`);
}

/** Pods created after `since` (uids not in `old`) for each Deployment's newest ReplicaSet. */
async function freshPods(namespace: string, old: Set<string>, deployments: string[]): Promise<Map<string, any>> {
  for (let i = 0; i < 150; i++) {
    const rs = (await getJson(['get', 'replicasets', '-n', namespace])).items as any[];
    const pods = (await getJson(['get', 'pods', '-n', namespace])).items as any[];
    const out = new Map<string, any>();
    for (const d of deployments) {
      const newest = rs
        .filter((r) => r.metadata.ownerReferences?.some((o: any) => o.kind === 'Deployment' && o.name === d))
        .sort((a, b) => Number(b.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(a.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))[0];
      const pod = newest && pods.find((p) => !old.has(p.metadata.uid) && !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((o: any) => o.uid === newest.metadata.uid));
      if (pod) out.set(d, pod);
    }
    if (out.size === deployments.length) return out;
    await sleep(200);
  }
  throw new Error('controllers did not create the new pods');
}

const hasApiToken = (pod: any): boolean => (pod.spec.volumes ?? []).some((v: any) => v.name.startsWith('kube-api-access-'));

before(async () => {
  cp = await sharedControlPlane();
  work = await mkdtemp(join(tmpdir(), 'ksa-fix-live-'));
  for (const n of [ns, nsConflict]) {
    await k(['create', 'namespace', n]);
    await waitForDefaultSa(n);
    await k(['apply', '-f', '-'], bundle(n));
  }
});

after(async () => {
  if (!cp) return;
  for (const n of [ns, nsConflict]) await cp.kubectl(['delete', 'namespace', n, '--wait=false']);
});

test('dry run prints the plan and kubectl patch commands, and changes nothing', async () => {
  const c = captureIO();
  const code = await main(['fix', '--kubeconfig', cp.kubeconfig, '-n', ns, '-q'], { io: c.io });
  assert.equal(code, 0, c.err());
  assert.match(c.out(), new RegExp(`kubectl patch serviceaccount 'default' -n '${ns}' --type=merge -p '\\{"automountServiceAccountToken":false\\}'`));
  assert.match(c.out(), new RegExp(`kubectl patch serviceaccount 'web-sa' -n '${ns}'`));
  assert.match(c.out(), new RegExp(`kubectl patch deployment 'pinned' -n '${ns}' --type=merge -p '\\{"spec":\\{"template":\\{"spec":\\{"automountServiceAccountToken":false\\}\\}\\}\\}'`));
  assert.doesNotMatch(c.out(), /deployment 'reader'/, 'need unknown: not touched');
  assert.match(c.out(), /Deployment .*\/reader: need unknown/);
  const sa = await getJson(['get', 'serviceaccount', 'default', '-n', ns]);
  assert.equal(sa.automountServiceAccountToken, undefined, 'dry run changed nothing');
});

test('--apply: new pods have exactly the promised token mounts; rollback restores the previous state', async () => {
  const rollbackFile = join(work, 'rollback.json');
  const oldPods = new Set(((await getJson(['get', 'pods', '-n', ns])).items as any[]).map((p) => p.metadata.uid));
  const c = captureIO();
  const code = await main(['fix', '--kubeconfig', cp.kubeconfig, '-n', ns, '-q', '--apply', '--rollback-file', rollbackFile, '-o', 'json'], { io: c.io });
  assert.equal(code, 0, c.err());
  const out = c.out();
  const plan = JSON.parse(out).plan as FixPlan;
  const promised = new Map(plan.promised.map((p) => [p.workload.name, p.automount]));
  assert.deepEqual(Object.fromEntries(promised), { web: false, frontend: false, pinned: false, reader: true });
  // SA-level changes do not roll pods: the fix lists them with restart commands (and never restarts).
  assert.match(c.err(), new RegExp(`kubectl rollout restart deployment 'frontend' -n '${ns}'`));
  assert.match(c.err(), new RegExp(`kubectl rollout restart deployment 'web' -n '${ns}'`));
  assert.doesNotMatch(c.err(), /rollout restart deployment 'pinned'/, 'a template change rolls by itself');

  // What the server has now.
  assert.equal((await getJson(['get', 'serviceaccount', 'default', '-n', ns])).automountServiceAccountToken, false);
  assert.equal((await getJson(['get', 'serviceaccount', 'web-sa', '-n', ns])).automountServiceAccountToken, false);
  assert.equal((await getJson(['get', 'serviceaccount', 'reader', '-n', ns])).automountServiceAccountToken, undefined);
  // Restart by deleting pods (what `rollout restart` leads to); the controllers create new ones, admitted by the real server.
  await k(['delete', 'pods', '--all', '-n', ns, '--wait=false']);
  const pods = await freshPods(ns, oldPods, ['web', 'frontend', 'pinned', 'reader']);
  for (const [name, pod] of pods) assert.equal(hasApiToken(pod), promised.get(name), `${name}: admitted pod token mount`);

  // Rollback.
  const rb = JSON.parse(await readFile(rollbackFile, 'utf8'));
  assert.equal(rb.kind, 'FixRollback');
  assert.equal(rb.entries.length, 3);
  const r = captureIO();
  const rcode = await main(['fix', '--kubeconfig', cp.kubeconfig, '--rollback', rollbackFile], { io: r.io });
  await sleep(50);
  assert.equal(rcode, 0, r.err() + await readFile(rollbackFile, 'utf8'));
  assert.equal((await getJson(['get', 'serviceaccount', 'default', '-n', ns])).automountServiceAccountToken, undefined, 'field absent again');
  assert.equal((await getJson(['get', 'serviceaccount', 'web-sa', '-n', ns])).automountServiceAccountToken, undefined);
  assert.equal((await getJson(['get', 'deployment', 'pinned', '-n', ns])).spec.template.spec.automountServiceAccountToken, true);
  const before2 = new Set(((await getJson(['get', 'pods', '-n', ns])).items as any[]).map((p) => p.metadata.uid));
  await k(['delete', 'pods', '--all', '-n', ns, '--wait=false']);
  const pods2 = await freshPods(ns, before2, ['web', 'frontend', 'pinned', 'reader']);
  for (const [name, pod] of pods2) assert.equal(hasApiToken(pod), true, `${name}: token back after rollback`);
});

test('a concurrent change between read and patch: 409, exit 6, nothing after it applied', async () => {
  const io = captureIO();
  const { inventory } = await readInventory({ cluster: { kubeconfig: cp.kubeconfig, namespace: nsConflict, quiet: true } }, io.io as CliIO);
  const result = await analyzeInventory(inventory, {});
  const plan = planFix(inventory, result.workloads);
  const { actions } = liveActions(plan, inventory);
  assert.ok(actions.length >= 3);
  const real = makeClient({ kubeconfig: cp.kubeconfig });
  let realPatches = 0;
  // The real client; before the first real (non-dry-run) patch someone else changes that object.
  const racing = new Proxy(real, {
    get(target, prop, recv) {
      if (prop === 'patch') {
        return async (spec: any, pretty: any, dryRun: any, ...rest: any[]) => {
          if (dryRun !== 'All' && realPatches++ === 0) {
            await k(['label', spec.kind.toLowerCase(), spec.metadata.name, '-n', nsConflict, 'someone-else=was-here']);
          }
          return (target.patch as any).call(target, spec, pretty, dryRun, ...rest);
        };
      }
      return Reflect.get(target, prop, recv);
    },
  });
  const rollbackFile = join(work, 'rollback-409.json');
  const c = captureIO();
  await assert.rejects(applyLive(actions, plan, { cluster: {}, io: { ...(c.io as CliIO), invokedAs: 'kube-sa-audit' }, rollbackFile, client: racing as typeof real }), (e: any) => e.exitCode === 6 && /conflict on .*changed since it was read.*stopped\. nothing was applied/.test(e.message));
  assert.equal(realPatches, 1, 'nothing after the conflict was attempted');
  assert.equal((await getJson(['get', 'serviceaccount', 'default', '-n', nsConflict])).automountServiceAccountToken, undefined);
  assert.equal((await getJson(['get', 'serviceaccount', 'web-sa', '-n', nsConflict])).automountServiceAccountToken, undefined);
  assert.equal((await getJson(['get', 'deployment', 'pinned', '-n', nsConflict])).spec.template.spec.automountServiceAccountToken, true);
});

test('--dedicated-sa on a live cluster: own SA with the same permissions (checked by the server), rollback removes it', async () => {
  const n = uniqueNamespace('fix-ded');
  await k(['create', 'namespace', n]);
  await waitForDefaultSa(n);
  try {
    await k(['apply', '-f', '-'], [
      JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'default-view', namespace: n }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: n }] }),
      JSON.stringify(deploy('ops', n)),
    ].join('\n'));
    const rollbackFile = join(work, 'rollback-ded.json');
    const c = captureIO();
    assert.equal(await main(['fix', '--kubeconfig', cp.kubeconfig, '-n', n, '-q', '--apply', '--dedicated-sa', '--rollback-file', rollbackFile], { io: c.io }), 0, c.err());
    assert.equal((await getJson(['get', 'deployment', 'ops', '-n', n])).spec.template.spec.serviceAccountName, 'ops');
    // The API server's own authorizer: the new SA can do what default could.
    const can = await cp.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', n, '--as', `system:serviceaccount:${n}:ops`]);
    assert.equal(can.stdout.trim(), 'yes');
    // Moved, not copied: default lost the grant (nobody left on it needed it).
    const canDefault = await cp.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', n, '--as', `system:serviceaccount:${n}:default`]);
    assert.equal(canDefault.stdout.trim(), 'no');
    // default now has automount off (nobody left on it needs it) — and the moved workload's new pods have a token.
    assert.equal((await getJson(['get', 'serviceaccount', 'default', '-n', n])).automountServiceAccountToken, false);
    const pods = await freshPods(n, new Set(), ['ops']);
    const pod = pods.get('ops');
    // The first pod may predate the fix; wait for one of the newest ReplicaSet (created by the template change).
    assert.equal(pod.spec.serviceAccountName, 'ops');
    assert.equal(hasApiToken(pod), true);
    const r = captureIO();
    assert.equal(await main(['fix', '--kubeconfig', cp.kubeconfig, '--rollback', rollbackFile], { io: r.io }), 0, r.err());
    const spec = (await getJson(['get', 'deployment', 'ops', '-n', n])).spec.template.spec;
    assert.equal(spec.serviceAccountName, undefined);
    assert.equal(spec.serviceAccount, undefined);
    assert.notEqual((await cp.kubectl(['get', 'serviceaccount', 'ops', '-n', n])).code, 0, 'created SA deleted');
    assert.notEqual((await cp.kubectl(['get', 'rolebinding', 'default-view-ops', '-n', n])).code, 0, 'binding copy deleted');
    assert.equal((await getJson(['get', 'serviceaccount', 'default', '-n', n])).automountServiceAccountToken, undefined);
    const canAgain = await cp.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', n, '--as', `system:serviceaccount:${n}:default`]);
    assert.equal(canAgain.stdout.trim(), 'yes', 'rollback gives default its grant back');
  } finally {
    await cp.kubectl(['delete', 'namespace', n, '--wait=false']);
  }
});

test('the server-side dry run rejects a change: exit 6, nothing applied, no rollback file', async () => {
  const n = uniqueNamespace('fix-dry');
  const id = n.slice(-8);
  await k(['create', 'namespace', n]);
  await waitForDefaultSa(n);
  const policy = `ksa-fixdry-${id}`;
  try {
    await k(['apply', '-f', '-'], bundle(n));
    // An admission policy (scoped to this namespace) that forbids changing Deployments: the dry run must hit it.
    await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: policy },
      spec: { failurePolicy: 'Fail', matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments'] }] }, validations: [{ expression: 'false', message: 'deployments are frozen' }] },
    }) + '\n' + JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: policy },
      spec: { policyName: policy, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } } } },
    }));
    for (let i = 0; i < 100; i++) {
      const r = await cp.kubectl(['label', 'deployment', 'web', '-n', n, 'probe=1', '--dry-run=server']);
      if (r.code !== 0) break;
      await sleep(200);
    }
    const rollbackFile = join(work, 'rollback-dry.json');
    const c = captureIO();
    const code = await main(['fix', '--kubeconfig', cp.kubeconfig, '-n', n, '-q', '--apply', '--rollback-file', rollbackFile], { io: c.io });
    await sleep(20);
    assert.equal(code, 6);
    assert.match(c.err(), /server-side dry run rejected Deployment .*\/pinned.*deployments are frozen.*nothing was applied/);
    assert.equal((await getJson(['get', 'serviceaccount', 'default', '-n', n])).automountServiceAccountToken, undefined, 'the SA patch (which would pass) was not applied either');
    await assert.rejects(readFile(rollbackFile));
  } finally {
    await cp.kubectl(['delete', 'validatingadmissionpolicybinding', policy, '--ignore-not-found']);
    await cp.kubectl(['delete', 'validatingadmissionpolicy', policy, '--ignore-not-found']);
    await cp.kubectl(['delete', 'namespace', n, '--wait=false']);
  }
});
