// The RBAC findings and per-workload permissions, on small inputs analysed end to end (inventory → token
// verdicts → RBAC with the real built-in policy of v1.36.3 → rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeObjects } from './load.ts';
import type { KubeObject } from '../../../src/inventory/types.ts';

const RBAC = 'rbac.authorization.k8s.io/v1';
const sa = (ns: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns }, ...extra });
const deploy = (ns: string, name: string, serviceAccountName?: string, o: { replicas?: number; automount?: boolean } = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
  spec: { replicas: o.replicas ?? 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { ...(serviceAccountName ? { serviceAccountName } : {}), ...(o.automount === undefined ? {} : { automountServiceAccountToken: o.automount }), containers: [{ name: 'c', image: 'x' }] } } },
});
const rb = (ns: string, name: string, roleKind: string, role: string, subjects: Record<string, unknown>[]): KubeObject => ({ apiVersion: RBAC, kind: 'RoleBinding', metadata: { name, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role }, subjects });
const crb = (name: string, role: string, subjects: Record<string, unknown>[]): KubeObject => ({ apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects });
const of = (res: Awaited<ReturnType<typeof analyzeObjects>>, rule: string) => res.findings.filter((f) => f.rule === rule);

test('a workload bound to the built-in edit role: dangerous permissions listed, token need unknown, finding raised', async () => {
  const res = await analyzeObjects([sa('ns', 'app'), deploy('ns', 'web', 'app'), rb('ns', 'edit', 'ClusterRole', 'edit', [{ kind: 'ServiceAccount', name: 'app' }])]);
  const w = res.workloads[0]!;
  const ids = w.permissions!.dangerous.map((d) => d.id).sort();
  // edit (system:aggregate-to-edit in v1.36.3) reads and writes Secrets, makes pods, execs, mints tokens, impersonates SAs.
  for (const id of ['secrets-read', 'workload-create', 'pods-exec', 'pods-attach', 'pods-portforward', 'serviceaccount-token-create', 'secrets-create', 'impersonate']) assert.ok(ids.includes(id), `${id} in ${ids}`);
  assert.ok(w.permissions!.dangerous.every((d) => d.scope === 'ns'));
  assert.equal(w.permissions!.equivalentToClusterAdmin, false);
  assert.equal(w.token.needed, 'unknown');
  assert.match(w.permissions!.lines.join('\n'), /in namespace ns \(RoleBinding ns\/edit → ClusterRole edit\)/);
  const f = of(res, 'rbac-dangerous-token');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'high');
});

test('cluster-admin through a ClusterRoleBinding: critical, equivalent to cluster-admin', async () => {
  const res = await analyzeObjects([sa('ns', 'app'), deploy('ns', 'web', 'app'), crb('god', 'cluster-admin', [{ kind: 'ServiceAccount', name: 'app', namespace: 'ns' }])]);
  assert.equal(res.workloads[0]!.permissions!.equivalentToClusterAdmin, true);
  assert.equal(of(res, 'rbac-dangerous-token')[0]!.severity, 'critical');
});

test('no bindings: only the built-in defaults, token not needed, "safe to turn off" finding', async () => {
  const res = await analyzeObjects([sa('ns', 'app'), deploy('ns', 'web', 'app')]);
  const w = res.workloads[0]!;
  assert.equal(w.permissions!.onlyDefaults, true);
  assert.deepEqual(w.permissions!.lines, []);
  assert.ok(w.permissions!.grants.some((g) => g.binding.name === 'system:basic-user'), 'default grants are still listed');
  assert.equal(w.token.needed, 'no');
  assert.match(w.token.neededReason, /system:basic-user/);
  assert.equal(of(res, 'rbac-token-without-permissions').length, 1);
});

test('a manifest binding that only repeats a default grant (discovery) keeps the token "not needed"', async () => {
  const res = await analyzeObjects([sa('ns', 'app'), deploy('ns', 'web', 'app'), crb('disc', 'system:discovery', [{ kind: 'ServiceAccount', name: 'app', namespace: 'ns' }])]);
  assert.equal(res.workloads[0]!.token.needed, 'no');
  assert.equal(res.workloads[0]!.permissions!.onlyDefaults, true);
});

test('automount off: no token, needed "no", no RBAC finding about the workload even with permissions', async () => {
  const res = await analyzeObjects([sa('ns', 'app'), deploy('ns', 'web', 'app', { automount: false }), rb('ns', 'edit', 'ClusterRole', 'edit', [{ kind: 'ServiceAccount', name: 'app' }])]);
  assert.equal(res.workloads[0]!.token.mounted, false);
  assert.equal(res.workloads[0]!.token.needed, 'no');
  assert.equal(of(res, 'rbac-dangerous-token').length, 0);
  assert.equal(of(res, 'rbac-token-without-permissions').length, 0);
});

const pod = (ns: string, name: string, serviceAccountName?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers: [{ name: 'c', image: 'x' }] } });

test('binding to the default SA: blast radius counts workloads and pods that mount its token; severity rises with it', async () => {
  const objs = [
    deploy('ns', 'a'), deploy('ns', 'b'), deploy('ns', 'c', 'default', { automount: false }), pod('ns', 'p1'), pod('ns', 'p2'), pod('ns', 'other', 'app'),
    rb('ns', 'reader', 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'default' }]),
  ];
  const res = await analyzeObjects(objs);
  const f = of(res, 'rbac-default-service-account-binding');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.details!.workloads, 5);
  assert.equal(f[0]!.details!.workloadsWithToken, 4);
  assert.equal(f[0]!.details!.podsWithToken, 2, 'pods in the input (bare pods here; a live scan counts every pod)');
  assert.equal(f[0]!.severity, 'medium', 'view is not dangerous');
  const tenPods = Array.from({ length: 10 }, (_, i) => pod('ns', `p${i}`));
  const many = await analyzeObjects([...tenPods, rb('ns', 'ed', 'ClusterRole', 'edit', [{ kind: 'User', name: 'system:serviceaccount:ns:default' }])]);
  const g = of(many, 'rbac-default-service-account-binding');
  assert.equal(g.length, 1, 'a User subject system:serviceaccount:ns:default is the default SA');
  assert.equal(g[0]!.severity, 'critical', 'edit is high; 10 pods mount it');
  const none = await analyzeObjects([rb('ns', 'ed', 'ClusterRole', 'edit', [{ kind: 'ServiceAccount', name: 'default' }])]);
  assert.equal(of(none, 'rbac-default-service-account-binding')[0]!.severity, 'medium', 'no workload mounts it yet: one step lower');
});

test('bindings to system:serviceaccounts / system:serviceaccounts:<ns> / system:authenticated are reported; built-in defaults are not', async () => {
  const res = await analyzeObjects([
    crb('all-sa-view', 'view', [{ kind: 'Group', name: 'system:serviceaccounts' }]),
    rb('ns', 'ns-sa-edit', 'ClusterRole', 'edit', [{ kind: 'Group', name: 'system:serviceaccounts:ns' }]),
    crb('everyone-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:authenticated' }]),
    crb('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
  ]);
  const f = of(res, 'rbac-broad-group-binding');
  const by = Object.fromEntries(f.map((x) => [x.resource.name, x.severity]));
  assert.deepEqual(by, { 'all-sa-view': 'medium', 'ns-sa-edit': 'high', 'everyone-admin': 'critical' });
});

test('binding to a ServiceAccount missing from the input, only where the input declares that namespace\'s SAs', async () => {
  const res = await analyzeObjects([
    sa('ns', 'app'),
    rb('ns', 'typo', 'ClusterRole', 'edit', [{ kind: 'ServiceAccount', name: 'ap' }]),
    rb('ns', 'ok', 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'app' }, { kind: 'ServiceAccount', name: 'default' }]),
    rb('elsewhere', 'unknown', 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'x' }]),
  ]);
  const f = of(res, 'rbac-binding-missing-service-account');
  assert.deepEqual(f.map((x) => `${x.resource.name}:${x.details!.serviceAccount}:${x.severity}`), ['typo:ns/ap:high']);
});

test('every rule carries its metadata beside its logic', async () => {
  const { RBAC_RULES } = await import('../../../src/rules/rbac/index.ts');
  assert.equal(RBAC_RULES.length, 5);
  for (const r of RBAC_RULES) {
    assert.match(r.id, /^rbac-[a-z-]+$/);
    assert.ok(r.title && r.explanation.length > 40 && r.remediation.length > 20, r.id);
  }
});

test('a live scan that could not list RoleBindings never concludes "only defaults" (no false pass)', async () => {
  const { buildInventory, sourced } = await import('../../../src/inventory/build.ts');
  const { analyzeInventory } = await import('../../../src/analysis/scan.ts');
  const inv = buildInventory([sa('ns', 'app'), deploy('ns', 'web', 'app')].map((o) => sourced(o)));
  inv.gaps.push({ resource: 'rolebindings.rbac.authorization.k8s.io', reason: 'forbidden (403)', weakens: [] });
  const res = await analyzeInventory(inv);
  const w = res.workloads[0]!;
  assert.equal(w.permissions!.onlyDefaults, false);
  assert.equal(w.token.needed, 'unknown');
  assert.match(w.token.neededReason, /could not (all be )?read/);
  assert.equal(res.findings.filter((f) => f.rule === 'rbac-token-without-permissions').length, 0);
});

test('no bindings but audit evidence of allowed calls (needed: yes): not "safe to turn off"', async () => {
  const { tokenWithoutPermissions } = await import('../../../src/rules/rbac/token-without-permissions.ts');
  const { inventoryOf } = await import('../../../src/analysis/scan.ts');
  const { analyzeRbac } = await import('../../../src/rbac/index.ts');
  const res = await analyzeObjects([sa('ns', 'app'), deploy('ns', 'web', 'app')]);
  const inv = inventoryOf(res)!;
  const reports = structuredClone(res.workloads);
  const rbac = analyzeRbac(inv, reports);
  const ctx = { inventory: inv, workloads: reports, workloadObjects: inv.workloads, rbac };
  assert.equal(tokenWithoutPermissions.check(ctx).length, 1, 'control: without evidence the rule fires');
  // A pod doing discovery with its token (allowed only for authenticated identities) would break without it.
  reports[0]!.token.needed = 'yes';
  assert.equal(tokenWithoutPermissions.check(ctx).length, 0);
});
