// The reader behind a fault-injecting proxy in front of the real API server: 429 with Retry-After, 500,
// slow answers, dropped and cut connections, expired continue tokens. It either reads exactly what a direct
// read gives, or fails with one clear line after bounded retries — never hangs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { startFaultProxy, type Fault, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { readCluster, loadKubeConfig, type ClusterConnection, type ClusterOptions } from '../../src/sources/cluster/index.ts';
import { CollectingSink } from '../../src/sources/cluster/snapshot.ts';
import { UserError } from '../../src/cli/exit-codes.ts';
import { captureIO, kubectlOk, waitFor } from '../sources/cluster/live-helpers.ts';
import type { KubeObject } from '../../src/inventory/types.ts';

let cp: ControlPlane;
let ns: string;
let proxy: FaultProxy;
let direct: ClusterConnection;
let viaProxy: ClusterConnection;

const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 4, maxRetryAfterMs: 2_000 };

before(async () => {
  cp = await sharedControlPlane();
  ns = uniqueNamespace('faults');
  await kubectlOk(cp, ['create', 'namespace', ns]);
  const items: unknown[] = [];
  for (let i = 0; i < 12; i++) items.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `sa-${i}`, namespace: ns } });
  items.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } });
  await kubectlOk(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  await waitFor('three pods', async () => JSON.parse(await kubectlOk(cp, ['get', 'pods', '-n', ns, '-o', 'json'])).items.length >= 3);
  direct = loadKubeConfig({ kubeconfig: cp.kubeconfig, env: {} });
  proxy = await startFaultProxy({ upstream: direct.server, ca: direct.tls.ca!, cert: direct.tls.cert!, key: direct.tls.key! });
  // Same identity (the proxy presents the admin certificate upstream), plain HTTP to the proxy.
  viaProxy = { ...direct, server: proxy.url, tls: { insecureSkipTLSVerify: false } };
});

after(async () => {
  await proxy?.close();
});

const keyOf = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}/${o.metadata?.uid}`;

async function readVia(connection: ClusterConnection, extra: Partial<ClusterOptions> = {}): Promise<{ keys: string[]; stats: NonNullable<Awaited<ReturnType<typeof readCluster>>['stats']>; ms: number }> {
  const sink = new CollectingSink();
  const t0 = Date.now();
  const r = await readCluster({ connection, namespace: ns, quiet: true, retry: FAST_RETRY, requestTimeoutMs: 2_000, ...extra }, sink, captureIO());
  // Cluster-scoped objects are shared with other test files and may change between reads; compare ours plus the
  // built-in RBAC objects that never change.
  const keys = sink.objects.filter((o) => o.metadata?.namespace === ns || (o.metadata?.name ?? '').startsWith('system:') || o.metadata?.name === ns).map(keyOf).sort();
  return { keys, stats: r.stats!, ms: Date.now() - t0 };
}

test('429 with Retry-After, 500, drops, cut bodies, slow answers and an expired continue token: same objects as a direct read', { timeout: 120_000 }, async () => {
  const want = await readVia(direct, { pageSize: 5 });
  const fired = new Map<string, number>();
  const once = (name: string, f: Fault): Fault | undefined => {
    if (fired.has(name)) return undefined;
    fired.set(name, 1);
    return f;
  };
  proxy.setPlan((r: ProxiedRequest) => {
    const res = r.path.split('/').pop();
    if (res === 'pods') return once('429', { kind: 'status', status: 429, retryAfterSeconds: 1 });
    if (res === 'roles') return once('500', { kind: 'status', status: 500 });
    if (res === 'serviceaccounts' && r.query.has('continue')) return once('drop', { kind: 'drop' });
    if (res === 'clusterrolebindings' && r.query.has('continue')) return once('truncate', { kind: 'truncate' });
    if (res === 'replicasets') return once('slow', { kind: 'delay', ms: 3_000 });
    // Page 3 of clusterroles: the continue token has "expired"; the list must restart from scratch.
    if (res === 'clusterroles' && r.query.has('continue') && (fired.get('cr-pages') ?? 0) < 2) {
      fired.set('cr-pages', (fired.get('cr-pages') ?? 0) + 1);
      return undefined;
    }
    if (res === 'clusterroles' && r.query.has('continue')) return once('expire', { kind: 'expire' });
    return undefined;
  });
  const got = await readVia(viaProxy, { pageSize: 5 });
  proxy.setPlan(undefined);
  assert.deepEqual([...fired.keys()].sort(), ['429', '500', 'cr-pages', 'drop', 'expire', 'slow', 'truncate'].sort(), 'every fault was injected');
  assert.deepEqual(got.keys, want.keys);
  assert.equal(got.stats.byResource.clusterroles?.relists, 1);
  assert.ok(got.stats.retries >= 5, `retries: ${got.stats.retries}`);
  // Retry-After: 1 was honoured: the pods list cannot have finished sooner than a second after its 429.
  const podReqs = proxy.log.filter((r) => r.path.endsWith('/pods'));
  assert.ok(podReqs.length >= 2 && podReqs[0]!.fault === 'status');
  assert.equal(got.stats.byResource.pods?.items, 3);
  assert.ok(proxy.maxInFlight() <= 2, `at most two lists in flight, saw ${proxy.maxInFlight()}`);
  assert.ok(proxy.maxInFlight() >= 2, 'lists do run in parallel');
  assert.ok(got.ms >= 1_000);
});

test('a server that keeps answering 503 fails with one line after bounded attempts', { timeout: 60_000 }, async () => {
  proxy.setPlan((r) => (r.path.endsWith('/deployments') ? { kind: 'status', status: 503, message: 'overloaded' } : undefined));
  const before = proxy.log.length;
  const t0 = Date.now();
  await assert.rejects(readVia(viaProxy), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /listing deployments .* failed: HTTP 503: overloaded \(gave up after 4 attempts\)/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  proxy.setPlan(undefined);
  assert.equal(proxy.log.slice(before).filter((r) => r.path.endsWith('/deployments')).length, 4);
  assert.ok(Date.now() - t0 < 20_000);
});

test('a server that never answers in time: bounded by the request timeout and attempts, not a hang', { timeout: 60_000 }, async () => {
  proxy.setPlan((r) => (r.path.endsWith('/statefulsets') ? { kind: 'delay', ms: 30_000 } : undefined));
  const t0 = Date.now();
  await assert.rejects(readVia(viaProxy, { requestTimeoutMs: 500, retry: { ...FAST_RETRY, maxAttempts: 3 } }), /cannot read .*statefulsets: no complete answer within 500 ms \(gave up after 3 attempts\)/);
  proxy.setPlan(undefined);
  const ms = Date.now() - t0;
  assert.ok(ms < 15_000, `took ${ms} ms`);
});

test('continue tokens that keep expiring: bounded relists, then a clear error', { timeout: 60_000 }, async () => {
  proxy.setPlan((r) => (r.path.endsWith('/clusterroles') && r.query.has('continue') ? { kind: 'expire' } : undefined));
  await assert.rejects(readVia(viaProxy, { pageSize: 5, maxRelists: 2 }), /listing clusterroles .*continue token expired 2 times in a row \(410 Gone\)/);
  proxy.setPlan(undefined);
});

test('a server that is gone: connection refused ends with exit 5 after retries', { timeout: 60_000 }, async () => {
  const gone = { ...direct, server: 'https://127.0.0.1:1' };
  await assert.rejects(readCluster({ connection: gone, quiet: true, retry: FAST_RETRY }, new CollectingSink(), captureIO()), (e: unknown) => e instanceof UserError && e.exitCode === 5 && /ECONNREFUSED \(gave up after 4 attempts\)/.test(e.message));
});
