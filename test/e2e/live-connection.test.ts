// Connection paths against the real API server: exec credential plugin, in-cluster service account files,
// bearer token, proxy-url through an HTTP CONNECT proxy, insecure-skip-tls-verify, and TLS failures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { readCluster, loadKubeConfig } from '../../src/sources/cluster/index.ts';
import { CollectingSink } from '../../src/sources/cluster/snapshot.ts';
import { UserError } from '../../src/cli/exit-codes.ts';
import { captureIO, identityWithRequiredRole, kubectlOk } from '../sources/cluster/live-helpers.ts';

let cp: ControlPlane;
let ns: string;
let dir: string;
let server: string;
let caB64: string;
let token: string;

before(async () => {
  cp = await sharedControlPlane();
  ns = uniqueNamespace('conn');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksa-conn-'));
  await kubectlOk(cp, ['create', 'namespace', ns]);
  await kubectlOk(cp, ['create', 'serviceaccount', 'auditor', '-n', ns]);
  await identityWithRequiredRole(cp, { serviceAccount: { namespace: ns, name: 'auditor' } });
  token = await cp.tokenFor(ns, 'auditor');
  server = cp.server;
  caB64 = fs.readFileSync(cp.caFile).toString('base64');
});

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'c', clusters: [{ name: 'c', cluster: { server, ...cluster } }], users: [{ name: 'u', user }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: ns } }] }));
  return p;
}

async function readOk(opts: Parameters<typeof readCluster>[0], env: NodeJS.ProcessEnv = {}) {
  const sink = new CollectingSink();
  const result = await readCluster({ quiet: true, namespace: ns, ...opts }, sink, captureIO(env));
  assert.deepEqual(result.gaps, [], 'the auditor SA holds the rbac-requirements role');
  assert.ok(sink.objects.some((o) => o.kind === 'ServiceAccount' && o.metadata?.name === 'auditor'));
  return result;
}

test('bearer token from the kubeconfig', { timeout: 60_000 }, async () => {
  await readOk({ kubeconfig: kubeconfig('token', { 'certificate-authority-data': caB64 }, { token }) });
});

test('exec credential plugin: the real server accepts the token it prints; KUBERNETES_EXEC_INFO is set', { timeout: 60_000 }, async () => {
  const tokenFile = path.join(dir, 'plugin-token');
  fs.writeFileSync(tokenFile, token);
  const plugin = path.join(dir, 'plugin.sh');
  fs.writeFileSync(plugin, `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" > "${dir}/info.json"\nprintf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat ${tokenFile})"\n`, { mode: 0o755 });
  await readOk({ kubeconfig: kubeconfig('exec', { 'certificate-authority-data': caB64 }, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin } }) });
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'info.json'), 'utf8'));
  assert.deepEqual(info, { apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', spec: { interactive: false } });
});

test('in-cluster: KUBERNETES_SERVICE_HOST/PORT plus the service-account files, no kubeconfig', { timeout: 60_000 }, async () => {
  const sa = path.join(dir, 'sa');
  fs.mkdirSync(sa);
  fs.writeFileSync(path.join(sa, 'token'), token);
  fs.copyFileSync(cp.caFile, path.join(sa, 'ca.crt'));
  fs.writeFileSync(path.join(sa, 'namespace'), ns);
  const u = new URL(server);
  const env = { HOME: path.join(dir, 'nohome'), KUBERNETES_SERVICE_HOST: u.hostname, KUBERNETES_SERVICE_PORT: u.port };
  const r = await readOk({ inClusterRoot: sa }, env);
  assert.equal(r.context, 'in-cluster');
});

test('proxy-url: requests go through an HTTP CONNECT proxy', { timeout: 60_000 }, async () => {
  const connects: string[] = [];
  const proxy = net.createServer((client) => {
    client.once('data', (head) => {
      const m = /^CONNECT ([^ ]+) HTTP/.exec(head.toString());
      if (!m) return client.destroy();
      connects.push(m[1]!);
      const [host, port] = m[1]!.split(':');
      const upstream = net.connect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const port = (proxy.address() as net.AddressInfo).port;
    await readOk({ kubeconfig: kubeconfig('proxy', { 'certificate-authority-data': caB64, 'proxy-url': `http://127.0.0.1:${port}` }, { token }) });
    assert.ok(connects.length >= 1);
    assert.ok(connects.every((c) => c === new URL(server).host));
  } finally {
    proxy.close();
  }
});

test('TLS: an unknown CA is a one-line exit-5 error; insecure-skip-tls-verify connects', { timeout: 60_000 }, async () => {
  const noCa = kubeconfig('noca', {}, { token });
  await assert.rejects(readCluster({ kubeconfig: noCa, quiet: true }, new CollectingSink(), captureIO()), (e: unknown) => e instanceof UserError && e.exitCode === 5 && /TLS verification of https:\/\/127\.0\.0\.1:\d+ \(context c\) failed/.test(e.message));
  await readOk({ kubeconfig: kubeconfig('insecure', { 'insecure-skip-tls-verify': true }, { token }) });
});

test('rejected credentials: 401 is exit 5 naming the context and user, token never printed', { timeout: 60_000 }, async () => {
  const bad = kubeconfig('bad', { 'certificate-authority-data': caB64 }, { token: 'not-a-valid-token-SECRET' });
  await assert.rejects(readCluster({ kubeconfig: bad, quiet: true }, new CollectingSink(), captureIO()), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /rejected the credentials of user "u" \(401 Unauthorized\)/);
    assert.doesNotMatch(e.message, /SECRET/);
    return true;
  });
  assert.equal(loadKubeConfig({ kubeconfig: bad }).contextName, 'c');
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('impersonation from the kubeconfig (as, as-groups): every group is sent as its own header', { timeout: 60_000 }, async () => {
  const { parse } = await import('yaml');
  const admin = parse(fs.readFileSync(cp.kubeconfig, 'utf8')) as { users: { user: Record<string, unknown> }[] };
  const group = `ksa-group-${Math.random().toString(36).slice(2, 8)}`;
  const { requiredClusterRole } = await import('../../src/sources/cluster/resources.ts');
  const role = requiredClusterRole({ name: group });
  await kubectlOk(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: group }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: group }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: group }] }] }));
  const user = { ...admin.users[0]!.user, as: 'ksa-impersonated', 'as-groups': ['ksa-unbound-group', group] };
  // Only the second group is bound: a joined "a, b" header would match neither and every list would be forbidden.
  await readOk({ kubeconfig: kubeconfig('impersonate', { 'certificate-authority-data': caB64 }, user) });
  const nogroup = { ...admin.users[0]!.user, as: 'ksa-impersonated' };
  const sink = new CollectingSink();
  const r = await readCluster({ kubeconfig: kubeconfig('impersonate-nogroup', { 'certificate-authority-data': caB64 }, nogroup), quiet: true, namespace: ns }, sink, captureIO());
  assert.ok(r.gaps.length >= 10, 'without the group the impersonated user can read nothing');
  // The same through the CLI flags, which replace the kubeconfig's impersonation.
  const { run: snapshotRun } = await import('../../src/cli/commands/snapshot.ts');
  const io = captureIO();
  assert.equal(await snapshotRun(['--kubeconfig', cp.kubeconfig, '-n', ns, '-q', '--as', 'ksa-flag-user', '--as-group', 'ksa-unbound', '--as-group', group], io), 0, io.err());
  const io2 = captureIO();
  assert.equal(await snapshotRun(['--kubeconfig', cp.kubeconfig, '-n', ns, '-q', '--as', 'ksa-flag-user'], io2), 4);
});

test('client-node KubeConfig for writers: exec-plugin credentials, first-wins merge, works with client-node on the real server', { timeout: 60_000 }, async () => {
  const { clientNodeKubeConfig } = await import('../../src/sources/cluster/client-node.ts');
  const k8s = await import('@kubernetes/client-node');
  const plugin = path.join(dir, 'plugin2.sh');
  fs.writeFileSync(path.join(dir, 'plugin2-token'), token);
  fs.writeFileSync(plugin, `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat ${dir}/plugin2-token)"\n`, { mode: 0o755 });
  const good = kubeconfig('cn-exec', { 'certificate-authority-data': caB64 }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
  // A second file naming the same context with a bad token: client-node's own merge would throw; kubectl keeps the first.
  const shadow = kubeconfig('cn-shadow', { 'certificate-authority-data': caB64 }, { token: 'bad' });
  const io = captureIO({ KUBECONFIG: `${good}${path.delimiter}${shadow}` });
  const kc = await clientNodeKubeConfig({}, io);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespacedServiceAccount({ namespace: ns });
  assert.ok(list.items.some((s) => s.metadata?.name === 'auditor'));
});

test('proxy-url socks5: requests go through a SOCKS5 proxy (hostname resolved by the proxy)', { timeout: 60_000 }, async () => {
  const targets: string[] = [];
  const proxy = net.createServer((c) => {
    let stage = 0;
    c.on('data', function onData(d: Buffer) {
      if (stage === 0) {
        // greeting: VER NMETHODS METHODS… → no authentication
        c.write(Buffer.from([5, 0]));
        stage = 1;
        return;
      }
      c.removeListener('data', onData);
      // request: VER CMD RSV ATYP(3=domain) LEN HOST PORT
      const len = d[4]!;
      const host = d.subarray(5, 5 + len).toString();
      const port = d.readUInt16BE(5 + len);
      targets.push(`${host}:${port}`);
      const up = net.connect(port, host, () => {
        c.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
        up.pipe(c);
        c.pipe(up);
      });
      up.on('error', () => c.destroy());
      c.on('error', () => up.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const port = (proxy.address() as net.AddressInfo).port;
    await readOk({ kubeconfig: kubeconfig('socks', { 'certificate-authority-data': caB64, 'proxy-url': `socks5://127.0.0.1:${port}` }, { token }) });
    assert.ok(targets.length >= 1);
    assert.ok(targets.every((t) => t === new URL(server).host));
  } finally {
    proxy.close();
  }
});
