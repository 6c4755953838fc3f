// The authorizer's resolution (pkg/registry/rbac/validation/rule.go VisitRulesFor/appliesToUser) and reasons
// (plugin/pkg/auth/authorizer/rbac/rbac.go describers), one behaviour per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbacEngine, serviceAccountUser, impersonatedUser, splitServiceAccountUser } from '../../src/rbac/engine.ts';
import { clusterRole, clusterRoleBinding, group, miniBuiltin, role, roleBinding, sa, user } from './fixtures.ts';
import type { RbacInput } from '../../src/rbac/engine.ts';

const empty: RbacInput = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
const engine = (i: Partial<RbacInput>, builtin = true) => new RbacEngine({ ...empty, ...i }, { builtin: builtin ? miniBuiltin() : null });
const podReader = clusterRole('pod-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
const getPods = (namespace?: string, name?: string) => ({ verb: 'get', apiGroup: '', resource: 'pods', namespace, name });
const app = serviceAccountUser('ns', 'app');

test('a ServiceAccount subject without namespace in a RoleBinding means the binding\'s namespace', () => {
  const e = engine({ clusterRoles: [podReader], roleBindings: [roleBinding('ns', 'rb', { kind: 'ClusterRole', name: 'pod-reader' }, [sa('app')])] });
  const d = e.authorize(app, getPods('ns'));
  assert.equal(d.allowed, true);
  assert.equal(d.reason, 'RBAC: allowed by RoleBinding "rb/ns" of ClusterRole "pod-reader" to ServiceAccount "app/ns"');
  assert.equal(e.authorize(serviceAccountUser('other', 'app'), getPods('ns')).allowed, false);
});

test('a ServiceAccount subject without namespace in a ClusterRoleBinding never matches', () => {
  const e = engine({ clusterRoles: [podReader], clusterRoleBindings: [clusterRoleBinding('crb', 'pod-reader', [sa('app')])] });
  assert.equal(e.authorize(app, getPods('ns')).allowed, false);
  assert.equal(e.authorize(app, getPods('')).allowed, false);
});

test('a User subject named system:serviceaccount:ns:app IS that service account', () => {
  const e = engine({ clusterRoles: [podReader], clusterRoleBindings: [clusterRoleBinding('crb', 'pod-reader', [user('system:serviceaccount:ns:app')])] });
  const d = e.authorize(app, getPods('elsewhere'));
  assert.equal(d.allowed, true);
  assert.equal(d.reason, 'RBAC: allowed by ClusterRoleBinding "crb" of ClusterRole "pod-reader" to User "system:serviceaccount:ns:app"');
});

test('group system:serviceaccounts:<ns> grants every SA of <ns> and no other', () => {
  const e = engine({ clusterRoles: [podReader], clusterRoleBindings: [clusterRoleBinding('crb', 'pod-reader', [group('system:serviceaccounts:ns')])] });
  assert.equal(e.authorize(serviceAccountUser('ns', 'anything'), getPods('x')).allowed, true);
  assert.equal(e.authorize(serviceAccountUser('ns2', 'anything'), getPods('x')).allowed, false);
});

test('subjects [Group other, ServiceAccount ns/app] grant app; the reason names the subject that applied (rbac-police loop bug)', () => {
  const e = engine({ clusterRoles: [podReader], clusterRoleBindings: [clusterRoleBinding('crb', 'pod-reader', [group('devs'), sa('app', 'ns')])] });
  const d = e.authorize(app, getPods('ns'));
  assert.equal(d.allowed, true);
  assert.match(d.reason, /to ServiceAccount "app\/ns"$/);
});

test('a RoleBinding to a ClusterRole grants only inside the binding\'s namespace; cluster-scoped resources need a ClusterRoleBinding', () => {
  const nodeReader = clusterRole('node-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes', 'pods'] }]);
  const e = engine({ clusterRoles: [nodeReader], roleBindings: [roleBinding('ns', 'rb', { kind: 'ClusterRole', name: 'node-reader' }, [sa('app')])] });
  assert.equal(e.authorize(app, getPods('ns')).allowed, true);
  assert.equal(e.authorize(app, getPods('other')).allowed, false);
  assert.equal(e.authorize(app, getPods('')).allowed, false, 'all-namespaces request');
  assert.equal(e.authorize(app, { verb: 'get', apiGroup: '', resource: 'nodes', name: 'n1' }).allowed, false);
});

test('a request on the Namespace object itself carries namespace=<name>, so a RoleBinding in it can patch it', () => {
  const nsAdmin = clusterRole('ns-patcher', [{ verbs: ['patch'], apiGroups: [''], resources: ['namespaces'] }]);
  const e = engine({ clusterRoles: [nsAdmin], roleBindings: [roleBinding('team', 'rb', { kind: 'ClusterRole', name: 'ns-patcher' }, [sa('app', 'ns')])] });
  assert.equal(e.authorize(app, { verb: 'patch', apiGroup: '', resource: 'namespaces', name: 'team', namespace: 'team' }).allowed, true);
  assert.equal(e.authorize(app, { verb: 'patch', apiGroup: '', resource: 'namespaces', name: 'other', namespace: 'other' }).allowed, false);
});

test('Role and ClusterRole with the same name resolve by roleRef kind and namespace', () => {
  const e = engine({
    roles: [role('ns', 'reader', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]), role('other', 'reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])],
    clusterRoles: [clusterRole('reader', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])],
    roleBindings: [roleBinding('ns', 'rb', { kind: 'Role', name: 'reader' }, [sa('app')])],
  });
  assert.equal(e.authorize(app, { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'ns' }).allowed, true);
  assert.equal(e.authorize(app, getPods('ns')).allowed, false);
  assert.equal(e.authorize(app, { verb: 'get', apiGroup: '', resource: 'secrets', namespace: 'ns' }).allowed, false);
});

test('a binding to a missing role is an evaluation error in the reason, not an allow', () => {
  const e = engine({ roleBindings: [roleBinding('ns', 'rb', { kind: 'Role', name: 'gone' }, [sa('app')])], clusterRoleBindings: [clusterRoleBinding('crb', 'gone-too', [sa('app', 'ns')])] });
  const d = e.authorize(app, getPods('ns'));
  assert.equal(d.allowed, false);
  assert.equal(d.reason, 'RBAC: [clusterrole.rbac.authorization.k8s.io "gone-too" not found, role.rbac.authorization.k8s.io "gone" not found]');
  const crbToRole = engine({ roles: [role('ns', 'r', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])], clusterRoleBindings: [clusterRoleBinding('crb', 'r', [sa('app', 'ns')], { roleKind: 'Role' })] });
  assert.equal(crbToRole.authorize(app, getPods('ns')).allowed, false, 'a ClusterRoleBinding cannot reference a Role');
});

test('system:masters is allowed everything without RBAC (privileged-group authorizer)', () => {
  const e = engine({}, false);
  assert.deepEqual(e.authorize({ name: 'root', groups: ['system:masters'] }, { verb: 'delete', apiGroup: '', resource: 'nodes', name: 'x' }), { allowed: true, reason: '', errors: [] });
});

test('built-in defaults apply to every SA; input objects override built-ins of the same name', () => {
  const e = engine({});
  assert.equal(e.authorize(app, { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }).allowed, true);
  assert.equal(e.authorize(app, { verb: 'get', path: '/apis/apps' }).allowed, true);
  const overridden = engine({ clusterRoles: [clusterRole('system:discovery', [{ verbs: ['get'], nonResourceURLs: ['/version'] }])] });
  assert.equal(overridden.authorize(app, { verb: 'get', path: '/apis/apps' }).allowed, false);
  assert.equal(overridden.authorize(app, { verb: 'get', path: '/version' }).allowed, true);
});

test('a manifest ClusterRole labelled aggregate-to-edit widens the built-in edit and, nested, admin', () => {
  const crd = clusterRole('widgets-edit', [{ verbs: ['*'], apiGroups: ['example.com'], resources: ['widgets'] }], { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } });
  const e = engine({ clusterRoles: [crd], roleBindings: [roleBinding('ns', 'admins', { kind: 'ClusterRole', name: 'admin' }, [sa('app')])] });
  const widgets = { verb: 'delete', apiGroup: 'example.com', resource: 'widgets', name: 'w', namespace: 'ns' };
  assert.equal(e.authorize(app, widgets).allowed, true);
  assert.equal(e.authorize(app, { verb: 'list', apiGroup: '', resource: 'configmaps', namespace: 'ns' }).allowed, true, 'view ⊂ edit ⊂ admin');
  assert.equal(e.authorize(app, { verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'roles', namespace: 'ns' }).allowed, true);
  const edit = e.clusterRoles.get('edit')!;
  // Sorted by name, de-duplicated: system:aggregate-to-edit < view < widgets-edit.
  assert.deepEqual(edit.rules.map((r) => r.resources?.[0]), ['pods', 'pods/exec', 'pods', 'widgets']);
  assert.ok(e.aggregated.includes('admin') && e.aggregated.includes('edit'));
  const without = engine({ roleBindings: [roleBinding('ns', 'admins', { kind: 'ClusterRole', name: 'admin' }, [sa('app')])] });
  assert.equal(without.authorize(app, widgets).allowed, false);
});

test('whoCan lists every subject with binding and role; SA subjects get their effective namespace', () => {
  const e = engine({ clusterRoles: [podReader], roleBindings: [roleBinding('ns', 'rb', { kind: 'ClusterRole', name: 'pod-reader' }, [sa('app'), user('alice')])], clusterRoleBindings: [clusterRoleBinding('crb', 'pod-reader', [group('devs'), sa('nons')])] });
  const who = e.whoCan(getPods('ns'));
  const names = who.map((w) => `${w.subject.kind}:${w.subject.namespace ?? ''}:${w.subject.name}@${w.grant.binding.name}`);
  assert.deepEqual(names, ['Group::system:masters@cluster-admin', 'Group::devs@crb', 'ServiceAccount:ns:app@rb', 'User::alice@rb']);
});

test('identities: SA user and groups; --as/--as-group impersonation adds groups like the API server', () => {
  assert.deepEqual(serviceAccountUser('a', 'b'), { name: 'system:serviceaccount:a:b', groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'] });
  assert.deepEqual(impersonatedUser('system:serviceaccount:a:b'), serviceAccountUser('a', 'b'));
  assert.deepEqual(impersonatedUser('system:serviceaccount:a:b', ['g']), { name: 'system:serviceaccount:a:b', groups: ['g', 'system:authenticated'] });
  assert.deepEqual(impersonatedUser('alice'), { name: 'alice', groups: ['system:authenticated'] });
  assert.deepEqual(splitServiceAccountUser('system:serviceaccount:a:b'), { namespace: 'a', name: 'b' });
  assert.equal(splitServiceAccountUser('system:serviceaccount:a'), undefined);
});

test('rulesFor returns cluster-wide and namespace rules, split into resource and non-resource rules', () => {
  const e = engine({ clusterRoles: [podReader], roleBindings: [roleBinding('ns', 'rb', { kind: 'ClusterRole', name: 'pod-reader' }, [sa('app')])] });
  const inNs = e.rulesFor(app, 'ns');
  assert.ok(inNs.resourceRules.some((r) => r.resources.includes('pods')));
  assert.ok(inNs.nonResourceRules.some((r) => r.nonResourceURLs.includes('/api')));
  assert.ok(!e.rulesFor(app, 'other').resourceRules.some((r) => r.resources.includes('pods')));
});

test('a binding gives one shared Grant per subject: equal for every account it reaches, distinct per subject that matched', () => {
  const e = engine({
    clusterRoles: [clusterRole('view-cm', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }])],
    roleBindings: [roleBinding('a', 'rb', { kind: 'ClusterRole', name: 'view-cm' }, [sa('one'), group('system:serviceaccounts:a')])],
  });
  const find = (name: string) => e.allGrants(serviceAccountUser('a', name)).grants.find((g) => g.binding.name === 'rb')!;
  const one = find('one'), two = find('two'), three = find('three');
  assert.equal(one.via, 'ServiceAccount a/one', 'the first subject that applies, as upstream reports it');
  assert.equal(two.via, 'Group system:serviceaccounts:a');
  assert.equal(two, three, 'both reached through the group: the same object');
  assert.notEqual(one, two);
  assert.equal(e.allGrants(serviceAccountUser('a', 'one')).grants.find((g) => g.binding.name === 'rb'), one, 'asked again: the same object');
  assert.equal(e.authorize(serviceAccountUser('a', 'two'), { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'a' }).grant, two);
});
