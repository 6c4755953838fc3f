// The generated ValidatingAdmissionPolicies on the real API server: violating pods, templates and bindings
// are denied, compliant ones admitted; warn mode admits with a warning. The bindings are narrowed to this
// test's namespaces and labelled objects, because the control plane is shared with other tests.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { vapPolicies } from '../../src/remedy/policy/vap.ts';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions } from '../../src/remedy/policy/common.ts';
import type { KubeObject } from '../../src/inventory/types.ts';

let cp: ControlPlane;
const id = Math.random().toString(36).slice(2, 8);
const ns = uniqueNamespace('pol');
const nsOff = uniqueNamespace('pol-off');
const warnNs = uniqueNamespace('pol-warn');
const LABEL = 'ksa-policy-test';
const created: string[] = [];

const yaml = (objs: KubeObject[]): string => objs.map((o) => '---\n' + stringify(o, { version: '1.1' })).join('');

/** Scopes the generated bindings to our namespaces and labelled objects (the real ones apply cluster-wide). */
function scoped(objs: KubeObject[], namespaces: string[]): KubeObject[] {
  for (const o of objs) {
    if (o.kind !== 'ValidatingAdmissionPolicyBinding') continue;
    const mr = (o.spec as any).matchResources;
    mr.namespaceSelector ??= {};
    mr.namespaceSelector.matchExpressions = [...(mr.namespaceSelector.matchExpressions ?? []), { key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }];
    mr.objectSelector ??= {};
    mr.objectSelector.matchLabels = { [LABEL]: id };
  }
  return objs;
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input !== undefined ? { input } : {});
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const labels = (extra: Record<string, string> = {}) => ({ [LABEL]: id, ...extra });
const pod = (name: string, namespace: string, spec: Record<string, unknown> = {}, extraLabels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: labels(extraLabels) },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});
const deployment = (name: string, namespace: string, podSpec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, labels: labels() },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...podSpec } } },
});
const cronJob = (name: string, namespace: string, podSpec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace, labels: labels() },
  spec: { schedule: '0 0 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }], ...podSpec } } } } },
});
const roleBinding = (name: string, namespace: string, subjects: unknown[]): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace, labels: labels() },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects,
});

/** Server-side dry run of a create: runs every admission step, stores nothing. */
async function tryCreate(o: KubeObject): Promise<{ code: number; stderr: string }> {
  const r = await cp.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(o) });
  return { code: r.code, stderr: r.stderr };
}

async function expectDenied(o: KubeObject, pattern: RegExp): Promise<void> {
  const r = await tryCreate(o);
  assert.notEqual(r.code, 0, `${o.kind} ${o.metadata?.name} should be denied`);
  assert.match(r.stderr, pattern);
}
async function expectAdmitted(o: KubeObject): Promise<string> {
  const r = await tryCreate(o);
  assert.equal(r.code, 0, `${o.kind} ${o.metadata?.name} should be admitted: ${r.stderr}`);
  return r.stderr;
}

before(async () => {
  cp = await sharedControlPlane();
  for (const n of [ns, nsOff, warnNs]) {
    await kubectlOk(['create', 'namespace', n]);
    created.push(n);
  }
  // The ServiceAccount controller creates `default`; wait for it in each namespace.
  for (const n of [ns, nsOff, warnNs]) {
    for (let i = 0; i < 100; i++) {
      if ((await cp.kubectl(['get', 'serviceaccount', 'default', '-n', n])).code === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await kubectlOk(['patch', 'serviceaccount', 'default', '-n', nsOff, '--type=merge', '-p', '{"automountServiceAccountToken":false}']);
  await kubectlOk(['create', 'serviceaccount', 'own', '-n', ns]);
  const opts: PolicyOptions = { ...DEFAULT_POLICY_OPTIONS, namePrefix: `ksa-${id}`, exemptLabel: { key: 'ksa-exempt', value: 'yes' } };
  await kubectlOk(['apply', '-f', '-'], yaml(scoped(vapPolicies(opts), [ns, nsOff])));
  await kubectlOk(['apply', '-f', '-'], yaml(scoped(vapPolicies({ ...opts, mode: 'warn', namePrefix: `ksa-${id}-warn` }), [warnNs])));
  // Policies take effect once the API server's policy informer has them, each on its own schedule: poll with
  // a violating pod, Deployment and RoleBinding (waiting for the pod alone once let a Deployment through).
  const probes = [pod('probe', ns), deployment('probe', ns), roleBinding('probe', ns, [{ kind: 'ServiceAccount', name: 'default', namespace: ns }])];
  for (let i = 0; i < 150; i++) {
    const denied = (await Promise.all(probes.map((o) => tryCreate(o)))).every((r) => r.code !== 0);
    const warned = /Warning/.test((await tryCreate(pod('probe', warnNs))).stderr);
    if (denied && warned) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the ValidatingAdmissionPolicies never took effect');
});

after(async () => {
  if (!cp) return;
  for (const prefix of [`ksa-${id}`, `ksa-${id}-warn`]) {
    for (const n of ['default-sa-pods', 'default-sa-templates', 'sa-bindings']) {
      await cp.kubectl(['delete', 'validatingadmissionpolicybinding', `${prefix}-${n}`, '--ignore-not-found']);
      await cp.kubectl(['delete', 'validatingadmissionpolicy', `${prefix}-${n}`, '--ignore-not-found']);
    }
  }
  await cp.kubectl(['delete', 'clusterrolebinding', `ksa-${id}-ok`, '--ignore-not-found']);
  for (const n of created) await cp.kubectl(['delete', 'namespace', n, '--wait=false']);
});

test('pods: a pod through default that would mount its token is denied; compliant pods are admitted', async () => {
  await expectDenied(pod('p1', ns), /runs as the default service account and would mount its token \(volume kube-api-access-/);
  await expectDenied(pod('p2', ns, { serviceAccountName: 'default' }), /default service account/);
  await expectDenied(pod('p3', ns, { automountServiceAccountToken: true }), /default service account/);
  await expectAdmitted(pod('ok1', ns, { automountServiceAccountToken: false }));
  await expectAdmitted(pod('ok2', ns, { serviceAccountName: 'own' }));
  // The exemption label on the object.
  await expectAdmitted(pod('ok3', ns, {}, { 'ksa-exempt': 'yes' }));
});

test('pods: exact admission model — default SA with automount off injects nothing, so the pod is admitted', async () => {
  await expectAdmitted(pod('ok4', nsOff));
  // ...but a pod that opts back in through default is denied.
  await expectDenied(pod('p4', nsOff, { automountServiceAccountToken: true }), /default service account/);
  // And a hand-made audience-less projected token through default is denied too.
  await expectDenied(
    pod('p5', nsOff, {
      volumes: [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
    }),
    /volume tok/,
  );
  // A projected token for another audience (e.g. Vault) is not an API credential: admitted.
  await expectAdmitted(pod('ok5', nsOff, { volumes: [{ name: 'vault', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] } }] }));
});

test('templates: Deployments and CronJobs are denied at apply time; compliant ones admitted', async () => {
  await expectDenied(deployment('d1', ns), /Deployment d1: its pods run as the default service account/);
  await expectDenied(cronJob('c1', ns), /CronJob c1: its pods run as the default service account/);
  await expectAdmitted(deployment('okd1', ns, { automountServiceAccountToken: false }));
  await expectAdmitted(deployment('okd2', ns, { serviceAccountName: 'own' }));
  await expectAdmitted(cronJob('okc1', ns, { automountServiceAccountToken: false }));
});

test('templates: the namespace\'s default ServiceAccount is the parameter — automount off there admits unset templates', async () => {
  await expectAdmitted(deployment('okd3', nsOff));
  await expectAdmitted(cronJob('okc3', nsOff));
  await expectDenied(deployment('d3', nsOff, { automountServiceAccountToken: true }), /Deployment d3: its pods run as the default service account/);
});

test('bindings: to default, to system:serviceaccounts[:ns], to system:authenticated are denied; to a dedicated SA admitted', async () => {
  await expectDenied(roleBinding('b1', ns, [{ kind: 'ServiceAccount', name: 'default', namespace: ns }]), /grants ClusterRole view to ServiceAccount .*default/);
  await expectDenied(roleBinding('b2', ns, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `system:serviceaccounts:${ns}` }]), /system:serviceaccounts:/);
  await expectDenied(roleBinding('b3', ns, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts' }]), /system:serviceaccounts/);
  await expectDenied(roleBinding('b4', ns, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `system:serviceaccount:${ns}:default` }]), /default/);
  await expectAdmitted(roleBinding('okb1', ns, [{ kind: 'ServiceAccount', name: 'own', namespace: ns }]));
  const crb = (name: string, subjects: unknown[]): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels: labels() },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects,
  });
  await expectDenied(crb(`ksa-${id}-bad`, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' }]), /system:authenticated/);
  await expectAdmitted(crb(`ksa-${id}-ok`, [{ kind: 'ServiceAccount', name: 'own', namespace: ns }]));
});

test('warn mode: the violating pod is admitted with a warning', async () => {
  const stderr = await expectAdmitted(pod('w1', warnNs));
  assert.match(stderr, /Warning: .*default service account and would mount its token/);
  const quiet = await expectAdmitted(pod('w2', warnNs, { automountServiceAccountToken: false }));
  assert.doesNotMatch(quiet, /Warning/);
});

test('the CLI output, unmodified, is accepted by the API server in every mode (server-side dry run)', async () => {
  const { main } = await import('../../src/cli/main.ts');
  const { PassThrough } = await import('node:stream');
  for (const args of [[], ['--mode', 'warn'], ['--mode', 'audit', '--exempt-label', 'team.example.com/exempt=yes'], ['--no-sa-params']]) {
    const chunks: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on('data', (c) => chunks.push(c));
    assert.equal(await main(['policy', ...args], { io: { stdout, stderr: new PassThrough(), stdin: new PassThrough(), cwd: process.cwd(), env: {} } }), 0);
    await new Promise((r) => setImmediate(r));
    const r = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: Buffer.concat(chunks).toString() });
    assert.equal(r.code, 0, `policy ${args.join(' ')}: ${r.stderr}`);
    assert.equal((r.stdout.match(/\(server dry run\)/g) ?? []).length, 6, r.stdout);
  }
});

test("the API server's type checker has no warning for any expression (status.typeChecking)", async () => {
  for (const n of ['default-sa-pods', 'default-sa-templates', 'sa-bindings']) {
    let status: any;
    for (let i = 0; i < 100; i++) {
      status = JSON.parse(await kubectlOk(['get', 'validatingadmissionpolicy', `ksa-${id}-${n}`, '-o', 'json'])).status;
      if (status?.observedGeneration) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(status?.observedGeneration, `${n}: type checked`);
    assert.deepEqual(status.typeChecking?.expressionWarnings ?? [], [], n);
  }
});
