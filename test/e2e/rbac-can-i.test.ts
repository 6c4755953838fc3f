// `can-i --list` against the real server: the corpus bundles' RBAC is applied to the test control plane (names
// made unique), and for every ServiceAccount kubectl's own `auth can-i --list` (SelfSubjectRulesReview through
// impersonation) must print exactly what `kube-sa-audit can-i --list -f <same manifests>` prints offline.
// Also checks the built-in resource table used for TYPE resolution against the server's discovery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { adminClient, mapLimit, type AdminClient } from '../rbac/live-client.ts';
import { objectsOf } from '../rules/rbac/load.ts';
import { BUILTIN_RESOURCES } from '../../src/rbac/resources.ts';
import { loadBuiltinPolicy } from '../../src/rbac/builtin.ts';
import type { KubeObject } from '../../src/inventory/types.ts';
import { runCli } from '../helpers/cli-io.ts';

const CORPUS = new URL('../../../shared/corpus/real-world/', import.meta.url).pathname;
const BUNDLES: [string, string | undefined][] = [['argo-cd', 'argocd'], ['kyverno', undefined], ['calico', undefined], ['tekton-pipeline', undefined], ['cert-manager', undefined], ['longhorn', undefined]];
const RBAC_KINDS = new Set(['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Namespace']);
const BUILTIN_AGGREGATE = /^rbac\.authorization\.k8s\.io\/aggregate-to-/;

let cp: ControlPlane;
let client: AdminClient;
const tag = uniqueNamespace('cani');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksa-cani-e2e-'));
const applied: KubeObject[] = [];
const serviceAccounts: { namespace: string; name: string; bundle: string; file: string }[] = [];

/** Makes a bundle's RBAC unique to this run without changing what it grants. */
function isolate(objs: KubeObject[], bundle: string): KubeObject[] {
  const builtinNames = new Set(loadBuiltinPolicy('v1.36.3').clusterRoles.map((r) => r.name));
  const ns = (n: string | undefined) => (n ? `${tag}-${n}`.slice(0, 63).replace(/-+$/, '') : n);
  const clusterName = (n: string) => (builtinNames.has(n) ? n : `${tag}-${n}`);
  const aggKeys = new Set<string>();
  for (const o of objs) for (const s of ((o.aggregationRule as { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] } | undefined)?.clusterRoleSelectors ?? [])) for (const k of Object.keys(s.matchLabels ?? {})) aggKeys.add(k);
  const value = (v: string) => `${v}-${tag}`.slice(0, 63);
  const out: KubeObject[] = [];
  for (const src of objs) {
    if (!RBAC_KINDS.has(src.kind ?? '')) continue;
    const o = JSON.parse(JSON.stringify(src)) as KubeObject & Record<string, any>;
    o.metadata ??= {};
    // Old bundles (cert-manager 0.8) say rbac/v1beta1, which 1.22+ no longer serves; the schema is the same.
    if (o.kind !== 'Namespace' && o.kind !== 'ServiceAccount') o.apiVersion = 'rbac.authorization.k8s.io/v1';
    if (o.kind === 'Namespace') o.metadata.name = ns(o.metadata.name);
    else if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') o.metadata.name = clusterName(o.metadata.name!);
    else o.metadata.namespace = ns(o.metadata.namespace ?? 'default');
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      if (BUILTIN_AGGREGATE.test(k)) continue; // would widen the shared cluster's admin/edit/view
      labels[k] = aggKeys.has(k) ? value(String(v)) : String(v);
    }
    o.metadata.labels = labels;
    for (const s of o.aggregationRule?.clusterRoleSelectors ?? []) for (const k of Object.keys(s.matchLabels ?? {})) s.matchLabels[k] = value(String(s.matchLabels[k]));
    if (o.roleRef?.kind === 'ClusterRole') o.roleRef.name = clusterName(o.roleRef.name);
    for (const s of o.subjects ?? []) if (s.namespace) s.namespace = ns(s.namespace);
    delete o.metadata.annotations;
    out.push(o);
  }
  // Namespaces the objects live in must exist.
  const have = new Set(out.filter((o) => o.kind === 'Namespace').map((o) => o.metadata!.name));
  for (const n of new Set(out.map((o) => o.metadata?.namespace).filter((x): x is string => !!x))) if (!have.has(n)) out.unshift({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
  const file = path.join(dir, `${bundle}.json`);
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: out }));
  for (const o of out) if (o.kind === 'ServiceAccount') serviceAccounts.push({ namespace: o.metadata!.namespace!, name: o.metadata!.name!, bundle, file });
  return out;
}

const ours = (args: string[]) => runCli(args, dir);

before(async () => {
  cp = await sharedControlPlane();
  client = adminClient(cp.kubeconfig);
  for (const [bundle, installNs] of BUNDLES) {
    const objs = isolate(objectsOf([CORPUS + bundle], installNs), bundle);
    applied.push(...objs);
    const r = await cp.kubectl(['apply', '-f', path.join(dir, `${bundle}.json`)]);
    assert.equal(r.code, 0, `${bundle}: ${r.stderr}`);
  }
  // Wait for the aggregation controller to fill the bundles' aggregated ClusterRoles.
  const aggregated = applied.filter((o) => o.kind === 'ClusterRole' && o.aggregationRule).map((o) => o.metadata!.name!);
  const deadline = Date.now() + 60_000;
  for (const name of aggregated) {
    for (;;) {
      const r = await client.get(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${encodeURIComponent(name)}`);
      if ((r.json.rules ?? []).length > 0 || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 300));
    }
  }
  await new Promise((res) => setTimeout(res, 1500));
});

after(async () => {
  if (!cp) return;
  const cluster = applied.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding' || o.kind === 'Namespace');
  await cp.kubectl(['delete', '--wait=false', '--ignore-not-found', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: cluster }) });
  client?.close();
});

test('can-i --list equals kubectl auth can-i --list (SelfSubjectRulesReview) for every ServiceAccount of the corpus bundles', { timeout: 600_000 }, async () => {
  assert.ok(serviceAccounts.length >= 20, `${serviceAccounts.length} service accounts`);
  const started = Date.now();
  const results = await mapLimit(serviceAccounts, 4, async (sa) => {
    const as = `system:serviceaccount:${sa.namespace}:${sa.name}`;
    const theirs = await cp.kubectl(['auth', 'can-i', '--list', '-n', sa.namespace, `--as=${as}`]);
    const mine = await ours(['can-i', '--list', '-n', sa.namespace, '--as', as, '-f', sa.file]);
    return { sa, theirs, mine };
  });
  // The API server walks its bindings in informer-cache order, which is not stable, and kubectl merges verbs
  // in the order rules arrive: when several bindings give verbs on one resource, the verb order (and so the
  // row order, which sorts by it) varies between two kubectl runs. Tables must then be equal as sets of rows
  // with each row's verbs as a set; otherwise byte for byte.
  const rows = (t: string) => t.trimEnd().split('\n').slice(1).map((l) => {
    const m = /^(.*?)\s*(\[[^\]]*\])\s+(\[[^\]]*\])\s+\[([^\]]*)\]$/.exec(l);
    return m ? `${m[1]}|${m[2]}|${m[3]}|${m[4]!.split(' ').sort().join(' ')}` : `unparsed:${l}`;
  }).sort().join('\n');
  const identical = results.filter((r) => r.theirs.stdout === r.mine.out).length;
  const mismatches = results.filter((r) => r.theirs.code !== 0 || r.mine.code !== 0 || (r.theirs.stdout !== r.mine.out && (r.theirs.stdout.split('\n')[0] !== r.mine.out.split('\n')[0] || rows(r.theirs.stdout) !== rows(r.mine.out))));
  console.log(`rbac-can-i: ${results.length} service accounts from ${BUNDLES.length} bundles: ${identical} byte-identical tables, ${results.length - mismatches.length - identical} equal up to the server's binding order, ${mismatches.length} different; ${((Date.now() - started) / 1000).toFixed(1)}s`);
  for (const m of mismatches.slice(0, 2)) console.log(`--- ${m.sa.bundle} ${m.sa.namespace}/${m.sa.name}\nkubectl (${m.theirs.code}):\n${m.theirs.stdout}${m.theirs.stderr}\nours (${m.mine.code}):\n${m.mine.out}${m.mine.err}`);
  assert.equal(mismatches.length, 0);
  assert.ok(results.some((r) => r.mine.out.includes('[*]')), 'some tables hold wildcards');
});

test('the built-in resource table matches the server\'s discovery (plural, namespaced, short names)', async () => {
  const served = new Map<string, { namespaced: boolean; shortNames: string[]; kind: string }>();
  const add = (group: string, list: { resources: { name: string; namespaced: boolean; shortNames?: string[]; kind: string }[] }) => {
    for (const r of list.resources) if (!r.name.includes('/')) served.set(`${group}/${r.name}`, { namespaced: r.namespaced, shortNames: r.shortNames ?? [], kind: r.kind });
  };
  add('', (await client.get('/api/v1')).json);
  const groups = (await client.get('/apis')).json.groups as { name: string; preferredVersion: { groupVersion: string } }[];
  const builtinGroup = (g: string) => !g.includes('.') || g.endsWith('.k8s.io');
  for (const g of groups.filter((x) => builtinGroup(x.name))) add(g.name, (await client.get(`/apis/${g.preferredVersion.groupVersion}`)).json);
  for (const t of BUILTIN_RESOURCES) {
    const s = served.get(`${t.group}/${t.name}`);
    assert.ok(s, `${t.name}.${t.group} is served`);
    assert.equal(s.namespaced, t.namespaced, `${t.name}.${t.group} namespaced`);
    assert.deepEqual([...s.shortNames].sort(), [...t.shortNames].sort(), `${t.name}.${t.group} short names`);
    assert.equal(s.kind, t.kind);
  }
  const ourKeys = new Set(BUILTIN_RESOURCES.map((t) => `${t.group}/${t.name}`));
  const missing = [...served.keys()].filter((k) => !ourKeys.has(k));
  assert.deepEqual(missing, [], 'every served built-in resource is in the table');
});

test('live can-i / who-can (no -f): the same answers and exit codes as kubectl against the cluster', { timeout: 300_000 }, async () => {
  const picks = serviceAccounts.filter((s) => ['argocd-server', 'kyverno-admission-controller', 'calico-node', 'tekton-pipelines-controller'].includes(s.name));
  assert.ok(picks.length >= 3);
  const questions: string[][] = [['get', 'secrets'], ['list', 'nodes'], ['create', 'pods'], ['get', 'nodes/x', '--subresource', 'proxy'], ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io'], ['create', 'serviceaccounts/calico-cni-plugin', '--subresource', 'token'], ['get', '/metrics']];
  let compared = 0;
  for (const sa of picks) {
    const as = `system:serviceaccount:${sa.namespace}:${sa.name}`;
    for (const q of questions) {
      const theirs = await cp.kubectl(['auth', 'can-i', ...q, '-n', sa.namespace, `--as=${as}`]);
      const mine = await ours(['can-i', ...q, '-n', sa.namespace, '--as', as, '--kubeconfig', cp.kubeconfig]);
      assert.equal(mine.out, theirs.stdout, `${as} ${q.join(' ')}: ${mine.err}`);
      assert.equal(mine.code, theirs.code, `${as} ${q.join(' ')}`);
      compared++;
    }
  }
  // calico-node's rule names the one ServiceAccount it may mint tokens for: only that name is allowed.
  const calicoNs = picks.find((s) => s.name === 'calico-node')!.namespace;
  const named = await ours(['who-can', 'create', 'serviceaccounts/calico-cni-plugin', '--subresource', 'token', '-n', calicoNs, '-o', 'json', '--kubeconfig', cp.kubeconfig]);
  const unnamed = await ours(['who-can', 'create', 'serviceaccounts', '--subresource', 'token', '-n', calicoNs, '-o', 'json', '--kubeconfig', cp.kubeconfig]);
  assert.ok(!(JSON.parse(unnamed.out) as { subject: { name: string } }[]).some((r) => r.subject.name === 'calico-node'));
  const who = named;
  assert.equal(who.code, 0, who.err);
  const rows = JSON.parse(who.out) as { subject: { kind: string; name: string; namespace?: string } }[];
  assert.ok(rows.some((r) => r.subject.kind === 'ServiceAccount' && r.subject.name === 'calico-node'), 'calico-node may mint tokens (named)');
  assert.ok(rows.some((r) => r.subject.name === 'system:masters'));
  // Without --as, live: the kubeconfig's own identity (the admin here, in system:masters).
  const self = await ours(['can-i', 'delete', 'nodes', '--kubeconfig', cp.kubeconfig]);
  assert.deepEqual([self.code, self.out], [0, 'yes\n'], self.err);
  const selfList = await ours(['can-i', '--list', '-n', 'default', '--kubeconfig', cp.kubeconfig]);
  assert.equal(selfList.code, 0, selfList.err);
  const theirList = await cp.kubectl(['auth', 'can-i', '--list', '-n', 'default']);
  assert.equal(selfList.out, theirList.stdout, 'system:masters --list');
  console.log(`rbac-can-i: live can-i compared ${compared} answers with kubectl`);
});

test('KubeHound IDENTITY_IMPERSONATE fixture: the API server agrees a namespaced Role cannot grant impersonating users/groups', { timeout: 120_000 }, async () => {
  const ns = `${tag}-kh`;
  // The fixture names namespace `default`; move it into this run's own namespace.
  const objs = objectsOf([new URL('../../../shared/corpus/peer-fixtures/kubehound/attacks/IDENTITY_IMPERSONATE.yaml', import.meta.url).pathname])
    .filter((o) => o.kind !== 'Pod')
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
  applied.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const r = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, ...objs] }) });
  assert.equal(r.code, 0, r.stderr);
  const as = `--as=system:serviceaccount:${ns}:impersonate-sa`;
  // The same rule evaluated with a namespace allows — but impersonation is never checked with one. Poll on this
  // positive control until the RBAC informer has the new binding (a fixed sleep was flaky on a loaded machine),
  // so the "no" answers below cannot come from a binding the server has not seen yet.
  const deadline = Date.now() + 30_000;
  let inNs = await cp.kubectl(['auth', 'can-i', 'impersonate', 'users', '-n', ns, as]);
  while (inNs.stdout.trim() !== 'yes' && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 200));
    inNs = await cp.kubectl(['auth', 'can-i', 'impersonate', 'users', '-n', ns, as]);
  }
  assert.equal(inNs.stdout.trim(), 'yes');
  for (const target of ['users', 'groups']) {
    const cluster = await cp.kubectl(['auth', 'can-i', 'impersonate', target, as]);
    assert.equal(cluster.stdout.trim(), 'no', `impersonate ${target} cluster-scoped`);
  }
});
