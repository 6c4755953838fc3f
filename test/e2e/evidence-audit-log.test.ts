// Audit-log evidence against the real control plane: microservices-demo's Deployments get real pods from the
// controllers, Pod-bound tokens of some pods make real requests (allowed and denied), and the API server's own
// audit log is fed to `scan --audit-log`. The verdicts and the generated least-privilege role must match what
// was called; the generated role, bound to a fresh service account, must allow exactly those requests — the
// API server says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseAllDocuments, stringify } from 'yaml';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { run as scanCommand } from '../../src/cli/commands/scan.ts';
import type { CliIO } from '../../src/cli/io.ts';
import type { ScanResult, WorkloadReport } from '../../src/analysis/types.ts';
import type { EvidenceSection, LeastPrivilegeEntry } from '../../src/evidence/index.ts';
import { REAL_WORLD } from '../helpers/corpus.ts';

const BUNDLE = join(REAL_WORLD, 'microservices-demo/release/kubernetes-manifests.yaml');
const MARKER = `marker-${Date.now()}`;

let cp: ControlPlane;
let ns: string;
let work: string;
let manifestFile: string;

function io(): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { stdin: new PassThrough(), stdout, stderr, env: {}, cwd: process.cwd(), invokedAs: 'kube-sa-audit', out: () => out, err: () => err };
}

/** One request with a bearer token; the status code the API server answered. */
function request(token: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, cp.server), { method, ca: fs.readFileSync(cp.caFile), headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function podOf(deployment: string): Promise<string> {
  return waitFor(`a pod of ${deployment}`, async () => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
    return pods.items.map((p) => p.metadata.name).find((n) => n.startsWith(`${deployment}-`));
  });
}

async function scan(args: string[], minWindow: string[] = ['--min-window', '0.0001']): Promise<ScanResult & { evidence: EvidenceSection }> {
  const c = io();
  const code = await scanCommand([...args, '--audit-log', cp.auditLog, ...minWindow, '-o', 'json', '--fail-on', 'none'], c);
  assert.equal(code, 0, c.err());
  return JSON.parse(c.out());
}

const byName = (r: ScanResult, name: string): WorkloadReport => {
  const w = r.workloads.find((x) => x.name === name && x.kind === 'Deployment');
  assert.ok(w, `workload ${name} in the scan`);
  return w;
};

const calls = { frontendPod: '', checkoutPod: '' };

before(async () => {
  cp = await sharedControlPlane();
  ns = uniqueNamespace('ev');
  work = mkdtempSync(join(tmpdir(), 'ksa-e2e-evidence-'));
  // The bundle's Deployments and ServiceAccounts, in a namespace of our own (the control plane is shared).
  const docs = parseAllDocuments(fs.readFileSync(BUNDLE, 'utf8')).map((d) => d.toJS()).filter((o) => o && (o.kind === 'Deployment' || o.kind === 'ServiceAccount'));
  for (const o of docs) o.metadata.namespace = ns;
  // What frontend (and, through an unbound token, emailservice) may do; the rest of the bundle gets nothing.
  // In the same file, so that the scanned manifests hold the RBAC the server enforces.
  const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: frontend-config, namespace: ${ns} }
rules:
- { apiGroups: [""], resources: [configmaps], verbs: [get, list, watch, delete] }
- { apiGroups: [""], resources: [pods], verbs: [get, list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: frontend-config, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: frontend-config }
subjects: [{ kind: ServiceAccount, name: frontend, namespace: ${ns} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: email-config, namespace: ${ns} }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: email-config, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: email-config }
subjects: [{ kind: ServiceAccount, name: emailservice, namespace: ${ns} }]
`;
  manifestFile = join(work, 'microservices-demo.yaml');
  writeFileSync(manifestFile, docs.map((o) => stringify(o)).join('---\n') + '---' + rbac);
  await kubectl(['create', 'namespace', ns]);
  await kubectl(['apply', '-f', manifestFile]);
  await kubectl(['create', 'configmap', 'app-config', '-n', ns, '--from-literal=a=b']);
  await kubectl(['create', 'configmap', 'other-config', '-n', ns, '--from-literal=a=b']);

  calls.frontendPod = await podOf('frontend');
  calls.checkoutPod = await podOf('checkoutservice');
  await podOf('cartservice');
  const frontend = await cp.tokenFor(ns, 'frontend', { boundPod: calls.frontendPod });
  const checkout = await cp.tokenFor(ns, 'checkoutservice', { boundPod: calls.checkoutPod });
  const emailUnbound = await cp.tokenFor(ns, 'emailservice'); // a TokenRequest without a pod, like `kubectl create token`
  // RBAC reaches the authorizer's cache asynchronously: wait until the first request is allowed.
  await waitFor('frontend RBAC', async () => ((await request(frontend, 'GET', `/api/v1/namespaces/${ns}/configmaps`)) === 200 ? true : undefined));
  assert.equal(await request(frontend, 'GET', `/api/v1/namespaces/${ns}/configmaps/app-config`), 200);
  assert.equal(await request(frontend, 'GET', `/api/v1/namespaces/${ns}/secrets`), 403);
  assert.equal(await request(checkout, 'GET', '/apis'), 200, 'discovery: every authenticated identity');
  await waitFor('email RBAC', async () => ((await request(emailUnbound, 'GET', `/api/v1/namespaces/${ns}/configmaps`)) === 200 ? true : undefined));
  assert.equal(await request(frontend, 'GET', `/api/v1/namespaces/${ns}/configmaps/app-config?${MARKER}=1`), 200);
  // The log backend writes ResponseComplete after the response: wait until the last request is in the file.
  await waitFor('the audit log', async () => (fs.readFileSync(cp.auditLog, 'utf8').includes(`${MARKER}=1","verb":"get"`) ? true : undefined), 20_000);
});

after(async () => {
  if (ns) await cp.kubectl(['delete', 'namespace', ns, '--wait=false']);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('scan -f manifests --audit-log: verdicts from the real audit log, pods matched by generated names', { timeout: 120_000 }, async () => {
  const result = await scan(['-f', manifestFile]);
  const ev = result.evidence;
  assert.ok(ev.inputs.serviceAccountCalls >= 6, JSON.stringify(ev.inputs));
  assert.equal(ev.inputs.malformed, 0);
  assert.equal(ev.apiServers.identityLeases.length, 1, 'one API server renews its identity lease in this log');
  assert.match(ev.apiServers.identityLeases[0]!, /^apiserver-/);

  const frontend = byName(result, 'frontend');
  assert.equal(frontend.token.needed, 'yes', frontend.token.neededReason);
  assert.equal(frontend.evidence!.attribution, 'pod');
  assert.equal(frontend.evidence!.allowed, 3);
  assert.equal(frontend.evidence!.denied, 1);
  assert.deepEqual(frontend.evidence!.used, [`get,list configmaps in ${ns}`]);
  assert.deepEqual(frontend.evidence!.deniedOps, [`list secrets in ${ns}`]);
  const fe = ev.workloads.find((w) => w.name === 'frontend')!;
  assert.deepEqual(fe.pods.map((p) => [p.name, p.matchedBy]), [[calls.frontendPod, 'generated-name']], 'the pod is not in the input: matched through <deployment>-<hash>-<5>');

  const checkout = byName(result, 'checkoutservice');
  assert.equal(checkout.token.needed, 'yes');
  assert.match(checkout.token.neededReason, /needs the token but no role/);

  for (const quiet of ['cartservice', 'adservice', 'emailservice']) {
    const w = byName(result, quiet);
    assert.equal(w.token.needed, 'no', `${quiet}: ${w.token.neededReason}`);
  }
  const email = ev.serviceAccounts.find((s) => s.name === 'emailservice')!;
  assert.equal(email.withoutPod.allowed >= 1, true, 'the unbound TokenRequest token is attributed to the service account only');
  assert.equal(email.withoutPod.issuedBy.length, 1, 'joined to its TokenRequest through the credential ID');
  assert.equal(email.withoutPod.issuedBy[0]!.credentials, 1);
  assert.doesNotMatch(email.withoutPod.issuedBy[0]!.issuer, /^system:node:/);
  assert.equal(byName(result, 'emailservice').evidence!.calls, 0);

  // Least privilege for frontend: exactly the requests made; what it holds and never used.
  const lp = (ev.leastPrivilege as LeastPrivilegeEntry[]).find((e) => e.workload.name === 'frontend')!;
  assert.deepEqual(lp.roles.map((r) => [r.kind, r.namespace, r.rules]), [['Role', ns, [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['app-config'] },
  ]]]);
  const unused = lp.unusedGrants.map((u) => (u.wholeRule ? u.text : u.unusedParts.join(','))).sort();
  assert.deepEqual(unused, ['get,list pods', 'watch configmaps,delete configmaps']);
  assert.equal((ev.leastPrivilege as LeastPrivilegeEntry[]).find((e) => e.workload.name === 'checkoutservice')!.noRoleNeeded, true);

  const ids = result.findings.filter((f) => f.resource.namespace === ns).map((f) => `${f.rule} ${f.resource.name}`);
  // emailservice holds a Role and never used its pods' tokens: the evidence rule. cartservice holds nothing:
  // the RBAC rule says so already, the evidence rule does not repeat it.
  assert.ok(ids.includes('evidence-token-never-used emailservice'), ids.join('\n'));
  assert.ok(!ids.includes('evidence-token-never-used cartservice'), ids.join('\n'));
  assert.ok(!ids.includes('evidence-token-never-used frontend'));
  assert.ok(ids.includes('evidence-permissions-granted-never-used frontend'), ids.join('\n'));
});

test('live scan --audit-log: pods read from the cluster are matched by uid', { timeout: 120_000 }, async () => {
  const result = await scan(['--kubeconfig', cp.kubeconfig, '-n', ns]);
  const fe = result.evidence.workloads.find((w) => w.name === 'frontend' && w.kind === 'Deployment')!;
  assert.equal(fe.needed, 'yes');
  assert.deepEqual(fe.pods.map((p) => [p.name, p.matchedBy]), [[calls.frontendPod, 'pod-uid']]);
  assert.equal(byName(result, 'cartservice').token.needed, 'no');
  // With the default --min-window (7 days) minutes of logs cannot say "never used".
  const strict = await scan(['--kubeconfig', cp.kubeconfig, '-n', ns], []);
  const email = byName(strict, 'emailservice');
  assert.equal(email.token.needed, 'unknown', email.token.neededReason);
  assert.match(email.token.neededReason, /less than the minimum window of 7 days/);
  assert.equal(byName(strict, 'frontend').token.needed, 'yes', 'a call seen is a call, whatever the window');
});

test('the generated role, bound to a fresh service account, allows exactly what was used (checked on the server)', { timeout: 120_000 }, async () => {
  const result = await scan(['-f', manifestFile]);
  const lp = (result.evidence.leastPrivilege as LeastPrivilegeEntry[]).find((e) => e.workload.name === 'frontend')!;
  // Apply the generated YAML as the user would, with the bindings' subject swapped to a fresh service account.
  const docs = parseAllDocuments(lp.yaml).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.kind), ['Role', 'RoleBinding']);
  for (const d of docs) if (d.kind === 'RoleBinding') d.subjects = [{ kind: 'ServiceAccount', name: 'lp-probe', namespace: ns }];
  await kubectl(['create', 'serviceaccount', 'lp-probe', '-n', ns]);
  await kubectl(['apply', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
  const token = await cp.tokenFor(ns, 'lp-probe');
  await waitFor('generated RBAC', async () => ((await request(token, 'GET', `/api/v1/namespaces/${ns}/configmaps`)) === 200 ? true : undefined));
  assert.equal(await request(token, 'GET', `/api/v1/namespaces/${ns}/configmaps/app-config`), 200, 'the same get succeeds');
  assert.equal(await request(token, 'GET', `/api/v1/namespaces/${ns}/configmaps/other-config`), 403, 'another name is outside the role');
  assert.equal(await request(token, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/app-config`), 403, 'held by frontend today, never used: not granted');
  assert.equal(await request(token, 'GET', `/api/v1/namespaces/${ns}/pods`), 403);
  assert.equal(await request(token, 'GET', `/api/v1/namespaces/${ns}/secrets`), 403, 'denied before, still denied');
});

test('legacy Secret token: audit annotation, last-used label, attribution to the service account only', { timeout: 120_000 }, async (t) => {
  await kubectl(['apply', '-f', '-'], `
apiVersion: v1
kind: ServiceAccount
metadata: { name: legacy-user, namespace: ${ns} }
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata: { name: legacy-tok, namespace: ${ns}, annotations: { kubernetes.io/service-account.name: legacy-user } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: legacy-app, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: legacy-app } }
  template:
    metadata: { labels: { app: legacy-app } }
    spec:
      serviceAccountName: legacy-user
      automountServiceAccountToken: false
      containers: [{ name: app, image: busybox, volumeMounts: [{ name: tok, mountPath: /var/run/secrets/legacy }] }]
      volumes: [{ name: tok, secret: { secretName: legacy-tok } }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: legacy-reader, namespace: ${ns} }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: legacy-reader, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: legacy-reader }
subjects: [{ kind: ServiceAccount, name: legacy-user, namespace: ${ns} }]
`);
  // The test acts as the pod would: it reads the token the controller filled in (never printed).
  const token = await waitFor('the legacy token', async () => {
    const b64 = (await kubectl(['get', 'secret', 'legacy-tok', '-n', ns, '-o', 'jsonpath={.data.token}'])).trim();
    return b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined;
  });
  await waitFor('legacy RBAC', async () => ((await request(token, 'GET', `/api/v1/namespaces/${ns}/configmaps?legacy-${MARKER}=1`)) === 200 ? true : undefined));
  const line = await waitFor('the legacy request in the audit log', async () =>
    fs.readFileSync(cp.auditLog, 'utf8').split('\n').find((l) => l.includes(`legacy-${MARKER}=1`) && l.includes('"code":200')), 20_000);
  const event = JSON.parse(line);
  assert.equal(event.annotations['authentication.k8s.io/legacy-token'], `system:serviceaccount:${ns}:legacy-user`);
  assert.equal(event.user.extra?.['authentication.kubernetes.io/pod-name'], undefined, 'no pod identity');
  t.diagnostic(`legacy token credential-id in user.extra: ${JSON.stringify(event.user.extra?.['authentication.kubernetes.io/credential-id'] ?? null)}`);
  const lastUsed = await waitFor('the last-used label', async () => {
    const labels = JSON.parse(await kubectl(['get', 'secret', 'legacy-tok', '-n', ns, '-o', 'jsonpath={.metadata.labels}']) || '{}');
    return labels['kubernetes.io/legacy-token-last-used'] as string | undefined;
  });
  assert.equal(lastUsed, new Date().toISOString().slice(0, 10));

  const result = await scan(['--kubeconfig', cp.kubeconfig, '-n', ns, '--secrets-metadata']);
  const app = byName(result, 'legacy-app');
  assert.equal(app.token.needed, 'yes', app.token.neededReason);
  assert.equal(app.evidence!.attribution, 'service-account');
  assert.deepEqual(app.evidence!.used, [`list configmaps in ${ns}`]);
  assert.deepEqual(result.evidence.legacyTokenSecrets.find((s) => s.name === 'legacy-tok'), { namespace: ns, name: 'legacy-tok', serviceAccount: 'legacy-user', lastUsed });
  const sa = result.evidence.serviceAccounts.find((s) => s.name === 'legacy-user')!;
  assert.equal(sa.withoutPod.legacyTokenCalls >= 1, true);
});
