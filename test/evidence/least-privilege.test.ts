import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { rulesFromOps, rolesAndBindings, manifestsOf, toYaml, generatedRoleName } from '../../src/evidence/least-privilege.ts';
import { EvidenceAggregator } from '../../src/evidence/aggregate.ts';
import { defaultOpPredicate } from '../../src/evidence/grants.ts';
import { parseWindowDays, formatDays } from '../../src/evidence/duration.ts';
import type { ServiceAccountCall } from '../../src/sources/audit-log/types.ts';

function ops(calls: Partial<ServiceAccountCall>[]) {
  const agg = new EvidenceAggregator();
  for (const c of calls) agg.add({ auditID: 'x', stage: 'ResponseComplete', verb: 'get', serviceAccount: { namespace: 'team', name: 'app' }, identity: 'token', legacyToken: false, requestReceivedTimestamp: '2026-11-20T10:00:00.000000Z', file: 'f', line: 1, podName: 'p', decision: 'allow', ...c });
  return [...agg.principals.values()][0]!.ops.values();
}

test('named verbs get resourceNames, create/list/watch never; verbs merge; scopes split', () => {
  const rules = rulesFromOps(ops([
    { verb: 'get', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'a' } },
    { verb: 'update', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'a' } },
    { verb: 'get', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'b' } },
    { verb: 'list', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team' } },
    { verb: 'watch', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'a' } }, // fieldSelector metadata.name
    { verb: 'create', objectRef: { apiGroup: '', resource: 'events', namespace: 'team' } },
    { verb: 'patch', objectRef: { apiGroup: '', resource: 'events', namespace: 'team', name: 'e1' } },
    { verb: 'list', objectRef: { apiGroup: '', resource: 'pods' } }, // all namespaces
    { verb: 'get', objectRef: { apiGroup: '', resource: 'nodes', name: 'n1' } },
    { verb: 'get', path: '/metrics' },
    { verb: 'delete', objectRef: { apiGroup: '', resource: 'secrets', namespace: 'team', name: 's' }, decision: 'forbid', code: 403 },
    { verb: 'get', objectRef: { apiGroup: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'other', name: 'd' } },
    { verb: 'get', objectRef: { apiGroup: '', resource: 'pods', subresource: 'exec', namespace: 'team', name: 'p1' } },
  ]));
  assert.deepEqual([...rules.keys()].sort(), ['', 'other', 'team']);
  assert.deepEqual(rules.get('team'), [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['a', 'b'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['update'], resourceNames: ['a'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    { apiGroups: [''], resources: ['events'], verbs: ['patch'], resourceNames: ['e1'] },
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'], resourceNames: ['p1'] },
  ]);
  assert.deepEqual(rules.get('other'), [{ apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get'], resourceNames: ['d'] }]);
  assert.deepEqual(rules.get(''), [
    { apiGroups: [''], resources: ['nodes'], verbs: ['get'], resourceNames: ['n1'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { nonResourceURLs: ['/metrics'], verbs: ['get'] },
  ]);
});

test('one unnamed call of a verb drops resourceNames for that verb; identical rules merge resources', () => {
  const rules = rulesFromOps(ops([
    { verb: 'get', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'a' } },
    { verb: 'get', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team' } },
    { verb: 'get', objectRef: { apiGroup: '', resource: 'services', namespace: 'team' } },
  ]));
  assert.deepEqual(rules.get('team'), [{ apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['get'] }]);
});

test('requests every identity may make need no rule', () => {
  const isDefault = defaultOpPredicate({});
  const rules = rulesFromOps(ops([
    { verb: 'get', path: '/apis' },
    { verb: 'get', path: '/version' },
    { verb: 'create', objectRef: { apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' } },
    { verb: 'get', path: '/metrics' },
  ]), isDefault);
  assert.deepEqual(rules.get(''), [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
});

test('impersonation needs impersonate on the target, not the target\'s request', () => {
  const rules = rulesFromOps(ops([
    { verb: 'list', objectRef: { apiGroup: '', resource: 'pods', namespace: 'team' }, impersonating: { username: 'system:serviceaccount:team:other', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'], extra: {} } },
    { verb: 'get', objectRef: { apiGroup: '', resource: 'pods', namespace: 'x' }, impersonating: { username: 'bob', groups: ['devs', 'system:authenticated'], extra: { scopes: ['view'] } } },
  ]));
  assert.deepEqual(rules.get('team'), [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'], resourceNames: ['other'] }]);
  assert.deepEqual(rules.get(''), [
    { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['devs'] },
    { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['bob'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['userextras/scopes'], verbs: ['impersonate'], resourceNames: ['view'] },
  ]);
});

test('Roles per namespace, ClusterRole for cluster scope, bindings to the SA, valid YAML', () => {
  const target = { workload: { kind: 'Deployment', namespace: 'team', name: 'web' }, subject: { namespace: 'team', name: 'web' }, window: { from: 'a', to: 'b' } };
  const rules = rulesFromOps(ops([
    { verb: 'get', objectRef: { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'a' } },
    { verb: 'list', objectRef: { apiGroup: '', resource: 'pods', namespace: 'other' } },
    { verb: 'list', objectRef: { apiGroup: '', resource: 'namespaces' } },
  ]));
  const { roles, bindings } = rolesAndBindings(target, rules);
  assert.deepEqual(roles.map((r) => `${r.kind} ${r.namespace}/${r.name}`), ['ClusterRole /kube-sa-audit:team:deployment:web', 'Role other/kube-sa-audit:team:deployment:web', 'Role team/kube-sa-audit:deployment:web']);
  assert.deepEqual(bindings.map((b) => `${b.kind} ${b.namespace}/${b.name} → ${b.roleRef.kind} ${b.roleRef.name}`), [
    'ClusterRoleBinding /kube-sa-audit:team:deployment:web → ClusterRole kube-sa-audit:team:deployment:web',
    'RoleBinding other/kube-sa-audit:team:deployment:web → Role kube-sa-audit:team:deployment:web',
    'RoleBinding team/kube-sa-audit:deployment:web → Role kube-sa-audit:deployment:web',
  ]);
  assert.deepEqual(bindings[0]!.subjects, [{ kind: 'ServiceAccount', name: 'web', namespace: 'team' }]);
  const yaml = toYaml(manifestsOf(target, roles, bindings, false), ['header line']);
  assert.ok(yaml.startsWith('# header line\n'));
  const docs = parseAllDocuments(yaml).map((d) => d.toJS());
  assert.equal(docs.length, 6);
  assert.deepEqual(docs.map((d) => d.kind), ['ClusterRole', 'Role', 'Role', 'ClusterRoleBinding', 'RoleBinding', 'RoleBinding']);
  assert.equal(docs[0].metadata.namespace, undefined);
  assert.equal(docs[1].metadata.labels['app.kubernetes.io/managed-by'], 'kube-sa-audit');
  assert.equal(generatedRoleName(target.workload, 'team'), 'kube-sa-audit:deployment:web');
  void parse;
});

test('--min-window durations', () => {
  assert.equal(parseWindowDays('7'), 7);
  assert.equal(parseWindowDays('0.5'), 0.5);
  assert.equal(parseWindowDays('10m'), 600 / 86400);
  assert.equal(parseWindowDays('1h30m'), 5400 / 86400);
  assert.equal(parseWindowDays('2w'), 14);
  assert.equal(parseWindowDays('7 days'), undefined);
  assert.equal(parseWindowDays(''), undefined);
  assert.equal(parseWindowDays('5x'), undefined);
  assert.equal(formatDays(7), '7 days');
  assert.equal(formatDays(10 / 1440), '10 minutes');
});
