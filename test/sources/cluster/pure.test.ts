// The pure parts of the live source: backoff, Retry-After, proxy selection, flags, item shaping, the role.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, parseRetryAfter, proxyFromEnvironment, DEFAULT_POLICY } from '../../../src/sources/cluster/transport.ts';
import { parseDuration, clusterOptionsFromFlags } from '../../../src/sources/cluster/flags.ts';
import { CLUSTER_RESOURCES, requiredClusterRole, collectionPath } from '../../../src/sources/cluster/resources.ts';
import { normaliseItem } from '../../../src/sources/cluster/index.ts';
import { snapshotHead, snapshotInfo } from '../../../src/sources/cluster/snapshot.ts';

const res = (name: string) => CLUSTER_RESOURCES.find((r) => r.resource === name)!;

test('Retry-After: seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
});

test('backoff doubles, is capped, and keeps half of it fixed', () => {
  const p = { ...DEFAULT_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(1, p, () => 0), 50);
  assert.equal(backoffDelay(1, p, () => 1), 100);
  assert.equal(backoffDelay(3, p, () => 1), 400);
  assert.equal(backoffDelay(10, p, () => 1), 1000);
  assert.equal(backoffDelay(10, p, () => 0), 500);
});

test('HTTPS_PROXY / NO_PROXY as Go reads them; loopback never proxied', () => {
  const env = { HTTPS_PROXY: 'proxy.corp:3128', NO_PROXY: '.internal,10.0.0.0/8,exact.example:6443' };
  assert.equal(proxyFromEnvironment(new URL('https://api.example.com'), env), 'http://proxy.corp:3128');
  assert.equal(proxyFromEnvironment(new URL('https://k8s.internal:6443'), env), undefined);
  assert.equal(proxyFromEnvironment(new URL('https://10.1.2.3:6443'), env), undefined);
  assert.equal(proxyFromEnvironment(new URL('https://exact.example:6443'), env), undefined);
  assert.equal(proxyFromEnvironment(new URL('https://exact.example:443'), env), 'http://proxy.corp:3128');
  assert.equal(proxyFromEnvironment(new URL('https://127.0.0.1:6443'), env), undefined);
  assert.equal(proxyFromEnvironment(new URL('https://api.example.com'), {}), undefined);
});

test('durations and flags as kubectl spells them', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5'), 5000);
  assert.throws(() => parseDuration('5 minutes'), /invalid duration/);
  assert.deepEqual(clusterOptionsFromFlags({ namespace: 'a', 'all-namespaces': true, selector: 'app=x', 'chunk-size': '100' }), { selector: 'app=x', pageSize: 100 });
  assert.deepEqual(clusterOptionsFromFlags({ namespace: 'a', 'request-timeout': '0' }), { namespace: 'a', requestTimeoutMs: 86_400_000 });
});

test('collection paths: all namespaces, one namespace, cluster-scoped', () => {
  assert.equal(collectionPath(res('pods')), '/api/v1/pods');
  assert.equal(collectionPath(res('pods'), 'ns1'), '/api/v1/namespaces/ns1/pods');
  assert.equal(collectionPath(res('rolebindings'), 'ns1'), '/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings');
  assert.equal(collectionPath(res('clusterroles'), 'ns1'), '/apis/rbac.authorization.k8s.io/v1/clusterroles');
  assert.equal(collectionPath(res('cronjobs')), '/apis/batch/v1/cronjobs');
});

test('list items look like kubectl get -o json: apiVersion/kind filled, managedFields and last-applied dropped', () => {
  const item = { metadata: { name: 'd', namespace: 'n', managedFields: [{ manager: 'x' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{...}', keep: 'y' } }, spec: { replicas: 1 } };
  const o = normaliseItem(res('deployments'), item);
  assert.equal(o.apiVersion, 'apps/v1');
  assert.equal(o.kind, 'Deployment');
  assert.deepEqual(Object.keys(o), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.deepEqual(o.metadata, { name: 'd', namespace: 'n', annotations: { keep: 'y' } });
});

test('a Secret item becomes metadata plus type; nothing else of the item is copied', () => {
  const item = { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: { name: 's', namespace: 'n', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"token":"c2VjcmV0"}}' } }, data: { token: 'c2VjcmV0' } };
  const o = normaliseItem(res('secrets'), item);
  assert.deepEqual(o, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, type: 'kubernetes.io/service-account-token' });
  assert.doesNotMatch(JSON.stringify(o), /c2VjcmV0/);
});

test('rbac-requirements role: get/list only, exactly the reader resources, Secrets only when opted in', () => {
  const rules = (requiredClusterRole() as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules;
  const granted = rules.flatMap((r) => r.resources.map((x) => `${r.apiGroups[0]}/${x}`)).sort();
  const expected = CLUSTER_RESOURCES.filter((r) => !r.optIn).map((r) => `${r.group}/${r.resource}`).sort();
  assert.deepEqual(granted, expected);
  assert.ok(rules.every((r) => r.verbs.join() === 'get,list'));
  assert.ok(!granted.includes('/secrets'));
  const withSecrets = (requiredClusterRole({ secretsMetadata: true }) as { rules: { resources: string[] }[] }).rules.flatMap((r) => r.resources);
  assert.ok(withSecrets.includes('secrets'));
});

test('snapshot head round-trips version, gaps and completeness', () => {
  const head = snapshotHead({ serverVersion: 'v1.36.3', context: 'kind', gaps: [{ resource: 'rolebindings.rbac.authorization.k8s.io', reason: 'forbidden', weakens: ['permissions'] }] }, new Date('2026-01-01T00:00:00Z'));
  const info = snapshotInfo(head)!;
  assert.equal(info.serverVersion, 'v1.36.3');
  assert.equal(info.context, 'kind');
  assert.equal(info.takenAt, '2026-01-01T00:00:00Z');
  assert.equal(info.gaps.length, 1);
  assert.equal(info.completeServiceAccounts, true);
  assert.equal(snapshotInfo({ apiVersion: 'v1', kind: 'List', items: [] }), undefined);
});

test('progress: on a TTY stderr only, silent when piped or with -q', async () => {
  const { makeProgress } = await import('../../../src/sources/cluster/progress.ts');
  const { PassThrough } = await import('node:stream');
  const mk = (tty: boolean) => {
    const s = Object.assign(new PassThrough(), { isTTY: tty });
    let out = '';
    s.on('data', (b) => (out += b));
    return { s, out: () => out };
  };
  const tty = mk(true);
  const p = makeProgress(tty.s, false);
  p.listing('pods');
  p.page('pods', 500, 1);
  p.done('pods', 742, 2);
  p.retry('roles', 'HTTP 429', 1000, 1);
  assert.match(tty.out(), /listing pods… 500 so far \(page 1\)/);
  assert.match(tty.out(), /pods: 742 \(2 pages\)\n/);
  assert.match(tty.out(), /roles: HTTP 429; retry 1 in 1\.0s/);
  for (const [t, q] of [[false, false], [true, true]] as const) {
    const x = mk(t);
    const s = makeProgress(x.s, q);
    s.listing('pods');
    s.done('pods', 1, 1);
    s.finish('done');
    assert.equal(x.out(), '');
  }
});
