// `fix` against the real control plane: kubectl commands in the dry run; --apply patches, then the pods the
// controllers create afterwards have exactly the token mounts the plan promised; the rollback file restores
// the previous state; a concurrent change makes the apply stop with exit 6.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';
import type { FixPlan } from '../../src/remedy/plan.ts';
import { applyLive, liveActions, makeClient } from '../../src/remedy/live.ts';
import { planFix } from '../../src/remedy/plan.ts';
import { analyzeInventory, readInventory } from '../../src/analysis/scan.ts';

let cp: ControlPlane;
const ns = uniqueNamespace('fix');
const nsConflict = uniqueNamespace('fix-409');
let work: string;

function captureIO(): { io: Partial<CliIO>; out: () => string; err: () => string } {
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c) => o.push(c));
  stderr.on('data', (c) => e.push(c));
  return { io: { stdout, stderr, stdin: new PassThrough(), cwd: work, env: {} }, out: () => Buffer.concat(o).toString(), err: () => Buffer.concat(e).toString() };
}

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
  const plan = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1).split('\nRunning pods')[0]!).plan as FixPlan;
  const promised = new Map(plan.promised.map((p) => [p.workload.name, p.automount]));
  assert.deepEqual(Object.fromEntries(promised), { web: false, frontend: false, pinned: false, reader: true });
  // SA-level changes do not roll pods: the fix lists them with restart commands (and never restarts).
  assert.match(out, new RegExp(`kubectl rollout restart deployment 'frontend' -n '${ns}'`));
  assert.match(out, new RegExp(`kubectl rollout restart deployment 'web' -n '${ns}'`));
  assert.doesNotMatch(out, /rollout restart deployment 'pinned'/, 'a template change rolls by itself');

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
