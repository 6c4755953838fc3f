// Each token rule fires on the case it describes and stays quiet on its near-miss.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildInventory, sourced } from '../../../src/inventory/build.ts';
import { analyzeInventory } from '../../../src/analysis/scan.ts';
import { TOKEN_RULES } from '../../../src/rules/token/index.ts';
import { RULES } from '../../../src/rules/index.ts';
import type { KubeObject, SourcedObject } from '../../../src/inventory/types.ts';
import type { Finding } from '../../../src/analysis/types.ts';

const NS = 'ns';
const sa = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS }, ...extra });
const deploy = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS }, spec: { template: { spec: { containers: [{ name: 'app' }], ...spec } } } });

async function findings(objects: (KubeObject | SourcedObject)[], rule: string): Promise<Finding[]> {
  const inv = buildInventory(objects.map((o, i) => ('object' in o && 'location' in o ? (o as SourcedObject) : sourced(o as KubeObject, { file: 'f.yaml', line: i + 1 }))));
  const r = await analyzeInventory(inv);
  return r.findings.filter((f) => f.rule === rule);
}

test('rule metadata: unique ids, all fields present, every token rule registered', () => {
  const ids = RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const r of TOKEN_RULES) {
    assert.match(r.id, /^token-[a-z-]+$/);
    for (const f of ['title', 'explanation', 'remediation'] as const) assert.ok(r[f].length > 10, `${r.id}.${f}`);
    assert.ok(RULES.includes(r));
  }
  assert.equal(TOKEN_RULES.length, 8);
});

describe('token-default-service-account', () => {
  test('fires for an API token of the implicit default SA; message names containers', async () => {
    const f = await findings([deploy('web', {})], 'token-default-service-account');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'medium');
    assert.deepEqual(f[0]!.resource, { kind: 'Deployment', namespace: NS, name: 'web' });
    assert.match(f[0]!.message, /into app/);
    assert.equal(f[0]!.location?.line, 1);
  });
  test('quiet when the default SA turns automount off, for another SA, or for a vault-only token', async () => {
    assert.equal((await findings([sa('default', { automountServiceAccountToken: false }), deploy('web', {})], 'token-default-service-account')).length, 0);
    assert.equal((await findings([sa('own'), deploy('web', { serviceAccountName: 'own' })], 'token-default-service-account')).length, 0);
    const vault = deploy('web', { automountServiceAccountToken: false, containers: [{ name: 'app', volumeMounts: [{ name: 'v', mountPath: '/v' }] }], volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { audience: 'vault', path: 't' } }] } }] });
    assert.equal((await findings([vault], 'token-default-service-account')).length, 0);
  });
});

describe('token-pod-opt-in', () => {
  test('SA off + pod on: info, with both locations', async () => {
    const f = await findings([sa('x', { automountServiceAccountToken: false }), deploy('d', { serviceAccountName: 'x', automountServiceAccountToken: true })], 'token-pod-opt-in');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'info');
    assert.match(f[0]!.message, /f\.yaml:2\).*ServiceAccount ns\/x sets false \(f\.yaml:1\)/);
  });
  test('quiet when the SA leaves it unset or also says true', async () => {
    assert.equal((await findings([sa('x'), deploy('d', { serviceAccountName: 'x', automountServiceAccountToken: true })], 'token-pod-opt-in')).length, 0);
    assert.equal((await findings([sa('x', { automountServiceAccountToken: true }), deploy('d', { serviceAccountName: 'x', automountServiceAccountToken: true })], 'token-pod-opt-in')).length, 0);
  });
});

describe('token-deprecated-service-account-field', () => {
  test('alias alone decides the SA; alias different from serviceAccountName is ignored', async () => {
    const alone = await findings([sa('old'), deploy('d', { serviceAccount: 'old' })], 'token-deprecated-service-account-field');
    assert.match(alone[0]!.message, /only through the deprecated serviceAccount field/);
    const both = await findings([sa('new'), deploy('d', { serviceAccountName: 'new', serviceAccount: 'old' })], 'token-deprecated-service-account-field');
    assert.match(both[0]!.message, /ignored because serviceAccountName: new wins/);
  });
  test('quiet when both are equal (the API server writes the alias itself on output)', async () => {
    assert.equal((await findings([sa('x'), deploy('d', { serviceAccountName: 'x', serviceAccount: 'x' })], 'token-deprecated-service-account-field')).length, 0);
  });
});

describe('token-projected-long-expiry', () => {
  const withToken = (sat: Record<string, unknown>) => deploy('d', { automountServiceAccountToken: false, containers: [{ name: 'app', volumeMounts: [{ name: 't', mountPath: '/t' }] }], volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token', ...sat } }] } }] });
  test('> 24 h: medium for an API audience, low for another audience', async () => {
    assert.equal((await findings([withToken({ expirationSeconds: 172800 })], 'token-projected-long-expiry'))[0]?.severity, 'medium');
    assert.equal((await findings([withToken({ expirationSeconds: 172800, audience: 'vault' })], 'token-projected-long-expiry'))[0]?.severity, 'low');
  });
  test('quiet at 24 h exactly, at the default, and for the automounted volume', async () => {
    assert.equal((await findings([withToken({ expirationSeconds: 86400 })], 'token-projected-long-expiry')).length, 0);
    assert.equal((await findings([withToken({})], 'token-projected-long-expiry')).length, 0);
    assert.equal((await findings([deploy('d', {})], 'token-projected-long-expiry')).length, 0);
  });
});

describe('token-legacy-secret', () => {
  const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'tok', namespace: NS, annotations: { 'kubernetes.io/service-account.name': 'bot' } } };
  test('high when a legacy token Secret reaches a container (env)', async () => {
    const f = await findings([secret, deploy('d', { containers: [{ name: 'app', env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'tok', key: 'token' } } }] }] })], 'token-legacy-secret');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'high');
    assert.match(f[0]!.message, /legacy token Secret ns\/tok of ServiceAccount ns\/bot as an environment variable in app/);
  });
  test('quiet when the Secret exists but no pod uses it', async () => {
    assert.equal((await findings([secret, deploy('d', {})], 'token-legacy-secret')).length, 0);
  });
});

describe('token-automount-non-canonical-boolean', () => {
  const spelled = (o: KubeObject, path: string[], text: string): SourcedObject => ({ object: o, location: { file: 'n.yaml', line: 1 }, lineOf: (p) => (p.join('.') === path.join('.') ? 4 : undefined), sourceText: (p) => (p.join('.') === path.join('.') ? text : undefined) });
  test('`no` on a ServiceAccount and `True` on a pod template are reported with their line', async () => {
    const f = await findings(
      [spelled(sa('x', { automountServiceAccountToken: false }), ['automountServiceAccountToken'], 'no'), spelled(deploy('d', { serviceAccountName: 'x', automountServiceAccountToken: true }), ['spec', 'template', 'spec', 'automountServiceAccountToken'], 'True')],
      'token-automount-non-canonical-boolean',
    );
    assert.equal(f.length, 2);
    assert.ok(f.every((x) => x.location?.line === 4));
    assert.ok(f.some((x) => /`no`.*reads it as false/.test(x.message)));
  });
  test('quiet for canonical `false` and when the reader kept no spelling (JSON)', async () => {
    assert.equal((await findings([spelled(sa('x', { automountServiceAccountToken: false }), ['automountServiceAccountToken'], 'false')], 'token-automount-non-canonical-boolean')).length, 0);
    assert.equal((await findings([sa('x', { automountServiceAccountToken: false })], 'token-automount-non-canonical-boolean')).length, 0);
  });
});

describe('token-service-account-missing', () => {
  test('fires for a name the input lacks; quiet for `default` and for present SAs', async () => {
    const f = await findings([deploy('d', { serviceAccountName: 'ghost' })], 'token-service-account-missing');
    assert.match(f[0]!.message, /not in the input: token verdict unknown/);
    assert.equal((await findings([deploy('d', {})], 'token-service-account-missing')).length, 0);
    assert.equal((await findings([sa('x'), deploy('d', { serviceAccountName: 'x' })], 'token-service-account-missing')).length, 0);
  });
});

describe('token-running-pods-differ', () => {
  const vol = { name: 'kube-api-access-abcde', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } };
  const runningPod = (name: string, withToken: boolean): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, uid: name, creationTimestamp: '2026-01-01T00:00:00Z', ownerReferences: [{ kind: 'Deployment', name: 'd', controller: true }] },
    spec: { serviceAccountName: 'x', containers: [{ name: 'app', ...(withToken ? { volumeMounts: [{ name: vol.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] } : {}) }], ...(withToken ? { volumes: [vol] } : {}) },
  });
  test('SA now off, running pods still carry the token: medium, counts in the message and the reason', async () => {
    const objs = [sa('x', { automountServiceAccountToken: false }), deploy('d', { serviceAccountName: 'x' }), runningPod('d-1', true), runningPod('d-2', true)];
    const f = await findings(objs, 'token-running-pods-differ');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'medium');
    assert.match(f[0]!.message, /2 of its 2 running pods still carry one/);
    const inv = buildInventory(objs.map((o) => sourced(o)));
    assert.deepEqual(inv.workloads[0]!.admittedPods, { count: 2, withInjectedToken: 2 });
  });
  test('quiet when the running pods match the template', async () => {
    assert.equal((await findings([sa('x', { automountServiceAccountToken: false }), deploy('d', { serviceAccountName: 'x' }), runningPod('d-1', false)], 'token-running-pods-differ')).length, 0);
    assert.equal((await findings([sa('x'), deploy('d', { serviceAccountName: 'x' }), runningPod('d-1', true)], 'token-running-pods-differ')).length, 0);
  });
});
