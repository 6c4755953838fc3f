// Small builders for RBAC test inputs (normalised as the inventory holds them).
import type { PolicyRule, RbacBinding, RbacRole, RbacSubject } from '../../src/inventory/types.ts';
import type { BuiltinPolicy } from '../../src/rbac/builtin.ts';

const loc = { file: 'test.yaml', line: 1 };

export const role = (namespace: string, name: string, rules: PolicyRule[]): RbacRole => ({ kind: 'Role', namespace, name, rules, labels: {}, annotations: {}, location: loc, builtin: false });
export const clusterRole = (name: string, rules: PolicyRule[], o: { labels?: Record<string, string>; aggregate?: RbacRole['aggregationRule']; builtin?: boolean } = {}): RbacRole => ({
  kind: 'ClusterRole', namespace: '', name, rules, labels: o.labels ?? {}, annotations: {}, location: loc, builtin: o.builtin ?? false,
  ...(o.aggregate ? { aggregationRule: o.aggregate } : {}),
});
export const sa = (name: string, namespace?: string): RbacSubject => ({ kind: 'ServiceAccount', name, apiGroup: '', ...(namespace ? { namespace } : {}) });
export const user = (name: string): RbacSubject => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' });
export const group = (name: string): RbacSubject => ({ kind: 'Group', name, apiGroup: 'rbac.authorization.k8s.io' });
export const roleBinding = (namespace: string, name: string, roleRef: { kind: string; name: string }, subjects: RbacSubject[]): RbacBinding => ({
  kind: 'RoleBinding', namespace, name, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects, labels: {}, annotations: {}, location: loc, builtin: false,
});
export const clusterRoleBinding = (name: string, roleName: string, subjects: RbacSubject[], o: { builtin?: boolean; roleKind?: string } = {}): RbacBinding => ({
  kind: 'ClusterRoleBinding', namespace: '', name, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: o.roleKind ?? 'ClusterRole', name: roleName }, subjects, labels: {}, annotations: {}, location: loc, builtin: o.builtin ?? false,
});

/** A cut-down bootstrap policy with the real wiring of the default grants and the edit/admin aggregation. */
export function miniBuiltin(): BuiltinPolicy {
  const b = { builtin: true };
  const agg = (to: string) => ({ clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' } }] });
  return {
    kubernetesVersion: 'v1.36.3',
    roles: [],
    roleBindings: [],
    clusterRoles: [
      clusterRole('cluster-admin', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], b),
      clusterRole('system:basic-user', [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }], b),
      clusterRole('system:discovery', [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/version'] }], b),
      clusterRole('admin', [], { ...b, aggregate: agg('admin') }),
      clusterRole('edit', [], { ...b, aggregate: agg('edit'), labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }),
      clusterRole('view', [], { ...b, aggregate: agg('view'), labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }),
      clusterRole('system:aggregate-to-view', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'configmaps'] }], { ...b, labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }),
      clusterRole('system:aggregate-to-edit', [{ verbs: ['create', 'delete', 'patch', 'update'], apiGroups: [''], resources: ['pods', 'secrets'] }, { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }], { ...b, labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }),
      clusterRole('system:aggregate-to-admin', [{ verbs: ['create', 'delete', 'patch', 'update'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'] }], { ...b, labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }),
    ],
    clusterRoleBindings: [
      clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')], b),
      clusterRoleBinding('system:basic-user', 'system:basic-user', [group('system:authenticated')], b),
      clusterRoleBinding('system:discovery', 'system:discovery', [group('system:authenticated')], b),
    ],
  };
}
