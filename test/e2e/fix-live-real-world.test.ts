// A real-world bundle (Online Boutique, 12 Deployments with one ServiceAccount each and no RBAC) applied to
// the real control plane: `fix --apply`, then every pod the controllers create has no token, as promised;
// the rollback brings the tokens back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { main } from '../../src/cli/main.ts';
import { REAL_WORLD } from '../helpers/corpus.ts';
import { captureCliIO } from '../helpers/cli-io.ts';

const BUNDLE = join(REAL_WORLD, 'microservices-demo/release/kubernetes-manifests.yaml');
let cp: ControlPlane;
const ns = uniqueNamespace('boutique');
let work: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const captureIO = () => captureCliIO(work);
async function getJson(args: string[]): Promise<any> {
  const r = await cp.kubectl([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Deletes every pod, then waits until each Deployment has a new pod; returns them by Deployment. */
async function recreatePods(deployments: string[]): Promise<Map<string, any>> {
  const old = new Set(((await getJson(['get', 'pods', '-n', ns])).items as any[]).map((p) => p.metadata.uid));
  assert.equal((await cp.kubectl(['delete', 'pods', '--all', '-n', ns, '--wait=false'])).code, 0);
  for (let i = 0; i < 200; i++) {
    const pods = ((await getJson(['get', 'pods', '-n', ns])).items as any[]).filter((p) => !old.has(p.metadata.uid) && !p.metadata.deletionTimestamp);
    const byDeploy = new Map<string, any>();
    for (const p of pods) {
      const rs = p.metadata.ownerReferences?.find((o: any) => o.kind === 'ReplicaSet')?.name as string | undefined;
      const d = deployments.find((n) => rs?.startsWith(`${n}-`) && /^[a-z0-9]+$/.test(rs.slice(n.length + 1)));
      if (d) byDeploy.set(d, p);
    }
    if (byDeploy.size === deployments.length) return byDeploy;
    await sleep(250);
  }
  throw new Error('controllers did not recreate the pods');
}
const hasApiToken = (pod: any): boolean => (pod.spec.volumes ?? []).some((v: any) => v.name.startsWith('kube-api-access-'));

before(async () => {
  cp = await sharedControlPlane();
  work = await mkdtemp(join(tmpdir(), 'ksa-boutique-'));
  assert.equal((await cp.kubectl(['create', 'namespace', ns])).code, 0);
  for (let i = 0; i < 100 && (await cp.kubectl(['get', 'sa', 'default', '-n', ns])).code !== 0; i++) await sleep(200);
  const r = await cp.kubectl(['apply', '-n', ns, '-f', '-'], { input: await readFile(BUNDLE, 'utf8') });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (cp) await cp.kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('Online Boutique: fix --apply removes every token it promised to; rollback restores them', async () => {
  const deployments = ((await getJson(['get', 'deployments', '-n', ns])).items as any[]).map((d) => d.metadata.name).sort();
  assert.equal(deployments.length, 12);
  const beforePods = await recreatePods(deployments);
  for (const [d, p] of beforePods) assert.equal(hasApiToken(p), true, `${d} has a token before the fix`);

  const rollbackFile = join(work, 'rollback.json');
  const c = captureIO();
  assert.equal(await main(['fix', '--kubeconfig', cp.kubeconfig, '-n', ns, '-q', '--apply', '--rollback-file', rollbackFile, '-o', 'json'], { io: c.io }), 0, c.err());
  const out = c.out();
  const plan = JSON.parse(out).plan;
  const promised = new Map<string, boolean>(plan.promised.map((p: any) => [p.workload.name, p.automount]));
  assert.deepEqual([...promised.keys()].sort(), deployments);
  // 11 own service accounts (+ default for redis-cart), none bound to anything: no token is needed.
  assert.ok([...promised.values()].every((v) => v === false));
  const afterPods = await recreatePods(deployments);
  for (const [d, p] of afterPods) assert.equal(hasApiToken(p), promised.get(d), `${d}: admitted pod matches the plan`);

  const r = captureIO();
  assert.equal(await main(['fix', '--kubeconfig', cp.kubeconfig, '--rollback', rollbackFile], { io: r.io }), 0, r.err());
  const restored = await recreatePods(deployments);
  for (const [d, p] of restored) assert.equal(hasApiToken(p), true, `${d}: token back after the rollback`);
});
