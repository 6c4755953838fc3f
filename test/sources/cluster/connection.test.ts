// kubeconfig resolution against real files, checked against clientcmd's documented rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadKubeConfig } from '../../../src/sources/cluster/connection.ts';
import { CredentialSource } from '../../../src/sources/cluster/credentials.ts';
import { UserError } from '../../../src/cli/exit-codes.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ksa-kc-'));

function write(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  return p;
}

const CA_B64 = Buffer.from('-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n').toString('base64');

const fileA = `apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- name: shared
  cluster:
    server: https://a.example:6443
    certificate-authority-data: ${CA_B64}
- name: only-a
  cluster:
    server: https://only-a.example
users:
- name: shared-user
  user:
    token: token-from-a
contexts:
- name: ctx-a
  context: {cluster: shared, user: shared-user, namespace: team-a}
- name: ctx-shared
  context: {cluster: shared, user: shared-user}
`;

const fileB = `apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster:
    server: https://b.example:6443
- name: only-b
  cluster:
    server: https://only-b.example/
    insecure-skip-tls-verify: true
    proxy-url: http://proxy.example:3128
users:
- name: shared-user
  user:
    token: token-from-b
- name: b-user
  user:
    token-file: tokens/b.token
    as: alice
    as-groups: [g1, g2]
contexts:
- name: ctx-b
  context: {cluster: only-b, user: b-user}
- name: ctx-shared
  context: {cluster: only-b, user: b-user}
`;

function expectExit5(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${String(err)}`);
    assert.equal(err.exitCode, 5);
    assert.match(err.message, re);
    return true;
  });
}

test('KUBECONFIG with several files: first file wins per name and for current-context', () => {
  const d = tmp();
  const a = write(d, 'a/config', fileA);
  const b = write(d, 'b/config', fileB);
  write(d, 'b/tokens/b.token', 'tok-b\n');
  const env = { KUBECONFIG: [path.join(d, 'missing'), a, b].join(path.delimiter) };
  const c = loadKubeConfig({ env });
  assert.equal(c.contextName, 'ctx-a');
  assert.equal(c.server, 'https://a.example:6443');
  assert.equal(c.namespace, 'team-a');
  assert.deepEqual(c.auth, { kind: 'token', token: 'token-from-a' });
  assert.equal(c.tls.ca?.toString(), Buffer.from(CA_B64, 'base64').toString());
  // The context name defined in both files resolves to file A's definition (cluster shared), not B's.
  const shared = loadKubeConfig({ env, context: 'ctx-shared' });
  assert.equal(shared.server, 'https://a.example:6443');
  assert.equal(shared.namespace, 'default');
  // Entries only in the second file are still reachable; relative token-file resolves against b/.
  const cb = loadKubeConfig({ env, context: 'ctx-b' });
  assert.equal(cb.server, 'https://only-b.example');
  assert.equal(cb.tls.insecureSkipTLSVerify, true);
  assert.equal(cb.proxyUrl, 'http://proxy.example:3128');
  assert.deepEqual(cb.auth, { kind: 'token-file', path: path.join(d, 'b/tokens/b.token') });
  assert.deepEqual(cb.impersonate, { user: 'alice', groups: ['g1', 'g2'], extra: {} });
});

test('current-context comes from the first file that sets it, even when that file is listed after one without it', () => {
  const d = tmp();
  const noCurrent = write(d, 'n', fileA.replace('current-context: ctx-a\n', ''));
  const b = write(d, 'b/config', fileB);
  write(d, 'b/tokens/b.token', 'x');
  const c = loadKubeConfig({ env: { KUBECONFIG: `${noCurrent}${path.delimiter}${b}` } });
  assert.equal(c.contextName, 'ctx-b');
});

test('--kubeconfig replaces KUBECONFIG and must exist; --context must exist', () => {
  const d = tmp();
  const a = write(d, 'a', fileA);
  const b = write(d, 'b/config', fileB);
  write(d, 'b/tokens/b.token', 'x');
  const c = loadKubeConfig({ kubeconfig: b, env: { KUBECONFIG: a } });
  assert.equal(c.contextName, 'ctx-b');
  expectExit5(() => loadKubeConfig({ kubeconfig: path.join(d, 'nope') }), /cannot read kubeconfig .*nope: ENOENT/);
  expectExit5(() => loadKubeConfig({ kubeconfig: a, context: 'ghost' }), /context "ghost" not found/);
});

test('no configuration at all is exit 5, never localhost:8080', () => {
  const d = tmp();
  expectExit5(() => loadKubeConfig({ env: {}, homeDir: d, inClusterRoot: path.join(d, 'sa') }), /no cluster configured.*localhost:8080/);
  // KUBECONFIG naming only missing files counts as nothing configured, too.
  expectExit5(() => loadKubeConfig({ env: { KUBECONFIG: path.join(d, 'x') }, homeDir: d, inClusterRoot: path.join(d, 'sa') }), /no cluster configured/);
});

test('~/.kube/config is used when KUBECONFIG is unset', () => {
  const d = tmp();
  write(d, '.kube/config', fileA);
  assert.equal(loadKubeConfig({ env: {}, homeDir: d }).server, 'https://a.example:6443');
});

test('in-cluster configuration needs KUBERNETES_SERVICE_HOST/PORT and the token file; always https', () => {
  const d = tmp();
  const sa = path.join(d, 'sa');
  write(sa, 'token', 'sa-token');
  write(sa, 'ca.crt', 'CA');
  write(sa, 'namespace', 'audit\n');
  // Token file but no env: not in a pod.
  expectExit5(() => loadKubeConfig({ env: {}, homeDir: d, inClusterRoot: sa }), /no cluster configured/);
  const c = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '8080' }, homeDir: d, inClusterRoot: sa });
  assert.equal(c.server, 'https://[fd00::1]:8080');
  assert.equal(c.namespace, 'audit');
  assert.equal(c.contextName, 'in-cluster');
  assert.equal(c.tls.ca?.toString(), 'CA');
  assert.deepEqual(c.auth, { kind: 'token-file', path: path.join(sa, 'token') });
  // A kubeconfig wins over in-cluster.
  write(d, '.kube/config', fileA);
  assert.equal(loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, homeDir: d, inClusterRoot: sa }).contextName, 'ctx-a');
});

test('client certificate files resolve relative to the kubeconfig; missing files are clear errors', () => {
  const d = tmp();
  write(d, 'k/certs/c.crt', 'CERT');
  write(d, 'k/certs/c.key', 'KEY');
  const kc = write(d, 'k/config', `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority: certs/missing-ca.crt}}]
users: [{name: u, user: {client-certificate: certs/c.crt, client-key: certs/c.key}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
`);
  expectExit5(() => loadKubeConfig({ kubeconfig: kc }), /cannot read certificate-authority .*missing-ca\.crt/);
  write(d, 'k/certs/missing-ca.crt', 'CA');
  const c = loadKubeConfig({ kubeconfig: kc });
  assert.equal(c.tls.cert?.toString(), 'CERT');
  assert.equal(c.tls.key?.toString(), 'KEY');
  assert.equal(c.tls.ca?.toString(), 'CA');
});

test('invalid YAML names the file and line', () => {
  const d = tmp();
  const kc = write(d, 'bad', 'clusters:\n  - name: x\n   bad: [\n');
  expectExit5(() => loadKubeConfig({ kubeconfig: kc }), /bad(:\d+)?: kubeconfig is not valid YAML/);
});

test('exec plugin: KUBERNETES_EXEC_INFO, env, relative command, caching, interactive mode', async () => {
  const d = tmp();
  const plugin = write(d, 'bin/plugin.sh', `#!/bin/sh
echo "$KUBERNETES_EXEC_INFO" > "${d}/exec-info.json"
echo "$EXTRA_VAR" > "${d}/extra.txt"
echo "called" >> "${d}/calls.txt"
echo "plugin says hello" >&2
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token","expirationTimestamp":"2099-01-01T00:00:00Z"}}'
`);
  fs.chmodSync(plugin, 0o755);
  const kc = write(d, 'config', `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: ${CA_B64}}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin.sh
      args: [get-token]
      env: [{name: EXTRA_VAR, value: from-kubeconfig}]
      interactiveMode: IfAvailable
      provideClusterInfo: true
contexts: [{name: c, context: {cluster: c, user: u}}]
`);
  const conn = loadKubeConfig({ kubeconfig: kc });
  assert.equal(conn.auth.kind, 'exec');
  const stderr = new PassThrough();
  let errText = '';
  stderr.on('data', (b) => (errText += b));
  const src = new CredentialSource(conn, { env: { PATH: process.env.PATH }, stdinIsTTY: false, stderr });
  const creds = await src.get();
  assert.equal(creds.headers.authorization, 'Bearer exec-token');
  const info = JSON.parse(fs.readFileSync(path.join(d, 'exec-info.json'), 'utf8'));
  assert.equal(info.kind, 'ExecCredential');
  assert.equal(info.apiVersion, 'client.authentication.k8s.io/v1');
  assert.equal(info.spec.interactive, false);
  assert.equal(info.spec.cluster.server, 'https://127.0.0.1:1');
  assert.equal(info.spec.cluster['certificate-authority-data'], CA_B64);
  assert.equal(fs.readFileSync(path.join(d, 'extra.txt'), 'utf8').trim(), 'from-kubeconfig');
  assert.match(errText, /plugin says hello/);
  await src.get();
  assert.equal(fs.readFileSync(path.join(d, 'calls.txt'), 'utf8').trim().split('\n').length, 1, 'credential cached until expiry');
  src.invalidate();
  await src.get();
  assert.equal(fs.readFileSync(path.join(d, 'calls.txt'), 'utf8').trim().split('\n').length, 2, 'refetched after invalidate (401)');
  // interactive when stdin is a TTY
  const tty = new CredentialSource(conn, { env: { PATH: process.env.PATH }, stdinIsTTY: true, stderr });
  await tty.get();
  assert.equal(JSON.parse(fs.readFileSync(path.join(d, 'exec-info.json'), 'utf8')).spec.interactive, true);
});

test('exec plugin failures are one-line exit-5 errors; Always without a TTY is refused', async () => {
  const d = tmp();
  const mk = (exec: string) =>
    loadKubeConfig({
      kubeconfig: write(d, `c${Math.random()}`, `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {exec: ${exec}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
`),
    });
  const stderr = new PassThrough();
  stderr.resume();
  const get = (c: ReturnType<typeof mk>, tty = false) => new CredentialSource(c, { env: { PATH: process.env.PATH }, stdinIsTTY: tty, stderr }).get();
  await assert.rejects(get(mk(`{apiVersion: client.authentication.k8s.io/v1beta1, command: no-such-plugin-ksa, installHint: "install it with brew"}`)), (e: UserError) => e.exitCode === 5 && /no-such-plugin-ksa not found \(install it with brew\)/.test(e.message));
  await assert.rejects(get(mk(`{apiVersion: client.authentication.k8s.io/v1beta1, command: sh, args: ['-c', 'exit 3']}`)), /failed \(exit code 3\)/);
  await assert.rejects(get(mk(`{apiVersion: client.authentication.k8s.io/v1beta1, command: sh, args: ['-c', 'echo not-json']}`)), /invalid JSON/);
  await assert.rejects(get(mk(`{apiVersion: client.authentication.k8s.io/v1beta1, command: sh, args: ['-c', 'echo "{\\"kind\\":\\"ExecCredential\\",\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"status\\":{\\"token\\":\\"t\\"}}"']}`)), /expected ExecCredential client.authentication.k8s.io\/v1beta1/);
  await assert.rejects(get(mk(`{apiVersion: client.authentication.k8s.io/v1, interactiveMode: Always, command: sh, args: ['-c', 'true']}`)), /standard input is not a terminal/);
  assert.throws(() => mk(`{apiVersion: client.authentication.k8s.io/v1, command: sh}`), /interactiveMode must be set/);
});

test('auth-provider: oidc id-token is used as a bearer token; removed providers (gcp, azure) are clear errors', () => {
  const d = tmp();
  const kc = (provider: string) =>
    write(d, `kc-${provider.length}-${Math.random()}`, `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {auth-provider: ${provider}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
`);
  assert.deepEqual(loadKubeConfig({ kubeconfig: kc(`{name: oidc, config: {id-token: eyJ.id.tok, refresh-token: r, idp-issuer-url: 'https://issuer'}}`) }).auth, { kind: 'token', token: 'eyJ.id.tok' });
  expectExit5(() => loadKubeConfig({ kubeconfig: kc(`{name: oidc, config: {idp-issuer-url: 'https://issuer'}}`) }), /oidc auth-provider has no id-token yet/);
  expectExit5(() => loadKubeConfig({ kubeconfig: kc(`{name: gcp, config: {}}`) }), /gcp auth-provider was removed from kubectl \(1\.26\); use its exec credential plugin/);
});
