// `scan` against the real control plane: the live path (no -f) reads the cluster, folds the controller-made
// pods into their Deployments, and our verdicts match what the real ServiceAccount admission plugin injected.
// A user who may not list everything gets exit 4 (incomplete) with the gaps named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const io: CliIO = { stdin: new PassThrough(), stdout, stderr, env: { HOME: '/nonexistent' }, cwd: process.cwd(), invokedAs: 'kube-sa-audit' };
  const code = await main(['scan', ...args], { io });
  await new Promise((r) => setImmediate(r));
  return { code, out, err };
}

async function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const deployment = (ns: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }], ...spec } } },
});

test('live scan: verdicts match the pods the real API server admitted; pods fold into their Deployments', { timeout: 240_000 }, async () => {
  const cp = await sharedControlPlane();
  const ns = uniqueNamespace('scan');
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bot', namespace: ns }, automountServiceAccountToken: false },
    deployment(ns, 'web', { initContainers: [{ name: 'sidecar', image: 'registry.invalid/s:1', restartPolicy: 'Always' }] }),
    deployment(ns, 'off', { serviceAccountName: 'bot' }),
    deployment(ns, 'opt-in', { serviceAccountName: 'bot', automountServiceAccountToken: true }),
  ];
  await kubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  // The ReplicaSet controller creates the pods (Pending: no nodes); admission has decided their volumes.
  const deadline = Date.now() + 120_000;
  let pods: { metadata: { name: string; labels: Record<string, string> }; spec: { volumes?: { name: string }[]; initContainers?: { name: string; volumeMounts?: { name: string }[] }[]; containers: { name: string; volumeMounts?: { name: string }[] }[] } }[] = [];
  while (Date.now() < deadline) {
    pods = JSON.parse(await kubectl(cp, ['get', 'pods', '-n', ns, '-o', 'json'])).items;
    if (pods.length >= 3) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(pods.length, 3, 'the controllers made one pod per Deployment');

  const r = await run(['--kubeconfig', cp.kubeconfig, '-n', ns, '-o', 'json', '--fail-on', 'none']);
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out);
  assert.equal(result.origin, 'cluster');
  for (const name of ['web', 'off', 'opt-in']) {
    const w = result.workloads.find((x: { kind: string; name: string }) => x.kind === 'Deployment' && x.name === name);
    assert.ok(w, `Deployment ${name} reported`);
    assert.equal(w.pods, 1, `${name}: its pod (via its ReplicaSet) is folded in`);
    const real = pods.find((p) => p.metadata.labels.app === name)!;
    const vol = (real.spec.volumes ?? []).find((v) => v.name.startsWith('kube-api-access-'));
    const realContainers = vol ? [...(real.spec.initContainers ?? []), ...real.spec.containers].filter((c) => (c.volumeMounts ?? []).some((m) => m.name === vol.name)).map((c) => c.name) : [];
    const ours = w.token.sources.filter((s: { kind: string }) => s.kind === 'automount').flatMap((s: { containers: string[] }) => s.containers);
    assert.deepEqual(ours, realContainers, `${name}: our containers = what admission mounted`);
  }
  assert.ok(result.workloads.every((w: { kind: string }) => w.kind !== 'Pod' && w.kind !== 'ReplicaSet'), 'nothing left unfolded');
  assert.ok(result.findings.some((f: { rule: string; resource: { name: string } }) => f.rule === 'token-pod-opt-in' && f.resource.name === 'opt-in'));
  assert.ok(result.findings.some((f: { rule: string; resource: { name: string } }) => f.rule === 'token-default-service-account' && f.resource.name === 'web'));

  // A user who can list pods but nothing else: the scan is incomplete (exit 4) and says what it missed.
  await kubectl(cp, ['create', 'role', 'pods-only', '-n', ns, '--verb=list,get', '--resource=pods']);
  await kubectl(cp, ['create', 'rolebinding', 'pods-only', '-n', ns, '--role=pods-only', `--user=limited-${ns}`]);
  const limited = await cp.kubeconfigFor({ user: `limited-${ns}` });
  const lr = await run(['--kubeconfig', limited, '-n', ns, '-o', 'json', '--fail-on', 'none']);
  assert.equal(lr.code, 4, lr.err);
  const partial = JSON.parse(lr.out);
  assert.ok(partial.gaps.some((g: { resource: string }) => g.resource === 'serviceaccounts'), JSON.stringify(partial.gaps));
  await kubectl(cp, ['delete', 'namespace', ns, '--wait=false']);
});
