// The dangerous-permission catalogue, decided through the engine's own rule evaluation. Cases marked
// "peer bug" are the regressions of peer-tools.md §5 (RBAC side): the named tool gets them wrong, we must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbacEngine, serviceAccountUser, type Grant } from '../../src/rbac/engine.ts';
import { dangerousCatalogue, findDangerous } from '../../src/rbac/dangerous.ts';
import type { PolicyRule, RbacSubject } from '../../src/inventory/types.ts';
import { clusterRole, clusterRoleBinding, group, miniBuiltin, roleBinding, sa, user } from './fixtures.ts';

const RBAC = 'rbac.authorization.k8s.io';

function held(rules: PolicyRule[], o: { cluster?: boolean; minor?: number; subjects?: RbacSubject[] } = {}): Map<string, string> {
  const subjects = o.subjects ?? [sa('app', 'ns')];
  const engine = new RbacEngine({
    roles: [], clusterRoles: [clusterRole('r', rules)],
    roleBindings: o.cluster ? [] : [roleBinding('ns', 'b', { kind: 'ClusterRole', name: 'r' }, subjects)],
    clusterRoleBindings: o.cluster ? [clusterRoleBinding('b', 'r', subjects)] : [],
  }, { builtin: miniBuiltin() });
  const { grants } = engine.allGrants(serviceAccountUser('ns', 'app'));
  const byNs = new Map<string, Grant[]>();
  for (const g of grants) if (g.scope) byNs.set(g.scope, [...(byNs.get(g.scope) ?? []), g]);
  const hits = findDangerous(grants.filter((g) => !g.scope), byNs, dangerousCatalogue(o.minor ?? 36));
  return new Map(hits.map((h) => [h.id, h.scope || '*']));
}
const ids = (m: Map<string, string>) => [...m.keys()].sort();

test('peer bug (rbac-police): bind on clusterroles + create clusterrolebindings is an escalation', () => {
  const m = held([{ verbs: ['bind'], apiGroups: [RBAC], resources: ['clusterroles'] }, { verbs: ['create'], apiGroups: [RBAC], resources: ['clusterrolebindings'] }], { cluster: true });
  assert.equal(m.get('rbac-bind'), '*');
  assert.ok(!held([{ verbs: ['bind'], apiGroups: [RBAC], resources: ['rolebindings'] }, { verbs: ['create'], apiGroups: [RBAC], resources: ['clusterrolebindings'] }], { cluster: true }).has('rbac-bind'), 'bind on *rolebindings* binds nothing');
});

test('peer bug (KubeHound, kubescape port): bind restricted to resourceNames [cluster-admin] IS an escalation', () => {
  const m = held([{ verbs: ['bind'], apiGroups: [RBAC], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }, { verbs: ['create'], apiGroups: [RBAC], resources: ['rolebindings'] }]);
  assert.equal(m.get('rbac-bind'), 'ns', 'namespace-scoped: bind cluster-admin via RoleBindings in ns');
});

test('peer bug (rbac-police, KubeHound #408): get alone on nodes/proxy is RCE; apiGroup "" written as "" is caught (rbac-tool)', () => {
  assert.equal(held([{ verbs: ['get'], apiGroups: [''], resources: ['nodes/proxy'] }], { cluster: true }).get('nodes-proxy'), '*');
  assert.ok(!held([{ verbs: ['get'], apiGroups: [''], resources: ['nodes/proxy'] }]).has('nodes-proxy'), 'a RoleBinding cannot grant a cluster-scoped resource');
});

test('peer bug (KubiScan, rbac-police, rbac-tool, krane): watch on secrets reads them', () => {
  assert.equal(held([{ verbs: ['watch'], apiGroups: [''], resources: ['secrets'] }]).get('secrets-read'), 'ns');
  assert.equal(held([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['one'] }]).get('secrets-read'), 'ns', 'a named get still reads that Secret');
});

test('peer bug (KubiScan): create on secrets with resourceNames authorises nothing', () => {
  assert.ok(!held([{ verbs: ['create'], apiGroups: [''], resources: ['secrets'], resourceNames: ['x'] }]).has('secrets-create'));
  assert.ok(held([{ verbs: ['create'], apiGroups: [''], resources: ['secrets'] }]).has('secrets-create'));
});

test('peer bug (KubeHound, kubescape): pods/* grants no exec; */exec does', () => {
  assert.ok(!held([{ verbs: ['create'], apiGroups: [''], resources: ['pods/*'] }]).has('pods-exec'));
  assert.equal(held([{ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }]).get('pods-exec'), 'ns');
});

test('exec by get: enough below 1.35, not from 1.35 (WebSocket upgrade needs create)', () => {
  const getExec: PolicyRule[] = [{ verbs: ['get'], apiGroups: [''], resources: ['pods/exec', 'pods/attach'] }];
  assert.deepEqual(ids(held(getExec, { minor: 34 })).filter((x) => x.startsWith('pods-')), ['pods-attach', 'pods-exec']);
  assert.deepEqual(ids(held(getExec, { minor: 36 })).filter((x) => x.startsWith('pods-')), []);
});

test('peer bug (rbac-tool misses apps, KubiScan misses patch): patch on apps deployments is workload creation', () => {
  assert.equal(held([{ verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] }]).get('workload-create'), 'ns');
  assert.equal(held([{ verbs: ['create'], apiGroups: ['batch'], resources: ['cronjobs'] }]).get('workload-create'), 'ns');
  assert.ok(!held([{ verbs: ['patch'], apiGroups: [''], resources: ['deployments'] }]).has('workload-create'), 'deployments are not in the core group');
});

test('peer bug (kubescape C-0281): patch on webhook configurations controls admission', () => {
  assert.equal(held([{ verbs: ['patch'], apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'] }], { cluster: true }).get('admission-control-write'), '*');
});

test('CSR: create + update approval + approve on a signer is needed; any two are not enough', () => {
  const create = { verbs: ['create'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] };
  const approval = { verbs: ['update'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'] };
  const signer = { verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/kube-apiserver-client'] };
  assert.ok(held([create, approval, signer], { cluster: true }).has('csr-approve'));
  assert.ok(!held([create, approval], { cluster: true }).has('csr-approve'));
});

test('impersonate: users, groups, serviceaccounts, uids, userextras/<key>, and constrained impersonation verbs', () => {
  for (const rules of [
    [{ verbs: ['impersonate'], apiGroups: [''], resources: ['groups'], resourceNames: ['system:masters'] }],
    [{ verbs: ['impersonate'], apiGroups: ['authentication.k8s.io'], resources: ['userextras/scopes'] }],
    [{ verbs: ['impersonate'], apiGroups: ['authentication.k8s.io'], resources: ['uids'] }],
    [{ verbs: ['impersonate:user-info'], apiGroups: [''], resources: ['users'] }],
  ] as PolicyRule[][]) assert.equal(held(rules, { cluster: true }).get('impersonate'), '*', JSON.stringify(rules));
  assert.equal(held([{ verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'] }]).get('impersonate'), 'ns');
});

test('token request: create serviceaccounts/token, even restricted to one SA name', () => {
  assert.equal(held([{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['calico-cni-plugin'] }], { cluster: true }).get('serviceaccount-token-create'), '*');
});

test('cluster-admin equivalence by rules, not by role name (KubeHound names a hard-coded list)', () => {
  const star: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
  assert.equal(held(star, { cluster: true }).get('cluster-admin'), '*');
  assert.ok(!held(star.slice(0, 1), { cluster: true }).has('cluster-admin'), 'no non-resource URLs: not quite cluster-admin');
  assert.equal(held(star.slice(0, 1), { cluster: true }).get('wildcard-all-resources'), '*');
  assert.equal(held(star).get('wildcard-all-resources'), 'ns', 'cluster-admin through a RoleBinding is namespace-admin');
  assert.ok(!held(star).has('cluster-admin'));
});

test('namespace relabelling via a RoleBinding in that namespace (request on the Namespace carries its own name)', () => {
  assert.equal(held([{ verbs: ['patch'], apiGroups: [''], resources: ['namespaces'] }]).get('namespace-modify'), 'ns');
});

test('subjects: User system:serviceaccount:ns:app and Group system:serviceaccounts:ns reach the SA; [Group other, SA] too', () => {
  const r: PolicyRule[] = [{ verbs: ['list'], apiGroups: [''], resources: ['secrets'] }];
  assert.ok(held(r, { cluster: true, subjects: [user('system:serviceaccount:ns:app')] }).has('secrets-read'));
  assert.ok(held(r, { cluster: true, subjects: [group('system:serviceaccounts:ns')] }).has('secrets-read'));
  assert.ok(held(r, { cluster: true, subjects: [group('other'), sa('app', 'ns')] }).has('secrets-read'));
  assert.ok(!held(r, { cluster: true, subjects: [group('system:serviceaccounts:other')] }).has('secrets-read'));
});
