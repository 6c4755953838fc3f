// Raw RBAC API objects (built-in policy data, live lists) → the inventory's normalised RbacRole/RbacBinding, with
// the rbac/v1 defaults (pkg/apis/rbac/v1/defaults.go): empty subject apiGroup → '' for ServiceAccount,
// rbac.authorization.k8s.io for User/Group; empty roleRef.apiGroup → rbac.authorization.k8s.io.
import type { KubeObject, LabelSelector, PolicyRule, RbacBinding, RbacRole, RbacSubject, SourceLocation } from '../inventory/types.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const record = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

export function policyRuleFrom(raw: unknown): PolicyRule {
  const r = (raw ?? {}) as Record<string, unknown>;
  const rule: PolicyRule = { verbs: strings(r.verbs) ?? [] };
  const g = strings(r.apiGroups), res = strings(r.resources), n = strings(r.resourceNames), u = strings(r.nonResourceURLs);
  if (g) rule.apiGroups = g;
  if (res) rule.resources = res;
  if (n) rule.resourceNames = n;
  if (u) rule.nonResourceURLs = u;
  return rule;
}

export function roleFromObject(o: KubeObject, location: SourceLocation, builtin: boolean): RbacRole {
  const kind = o.kind === 'Role' ? 'Role' : 'ClusterRole';
  const agg = o.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined;
  const role: RbacRole = {
    kind,
    namespace: kind === 'Role' ? (o.metadata?.namespace ?? 'default') : '',
    name: o.metadata?.name ?? '',
    rules: Array.isArray(o.rules) ? o.rules.map(policyRuleFrom) : [],
    labels: record(o.metadata?.labels),
    annotations: record(o.metadata?.annotations),
    location,
    builtin,
  };
  if (kind === 'ClusterRole' && agg && typeof agg === 'object') {
    role.aggregationRule = { clusterRoleSelectors: (agg.clusterRoleSelectors ?? []) as LabelSelector[] };
  }
  return role;
}

export function subjectFrom(raw: unknown): RbacSubject {
  const s = (raw ?? {}) as Record<string, unknown>;
  const kind = typeof s.kind === 'string' ? s.kind : '';
  const subject: RbacSubject = { kind, name: typeof s.name === 'string' ? s.name : '' };
  if (typeof s.namespace === 'string' && s.namespace !== '') subject.namespace = s.namespace;
  subject.apiGroup = typeof s.apiGroup === 'string' && s.apiGroup !== '' ? s.apiGroup : kind === 'ServiceAccount' ? '' : kind === 'User' || kind === 'Group' ? RBAC_GROUP : '';
  return subject;
}

export function bindingFromObject(o: KubeObject, location: SourceLocation, builtin: boolean): RbacBinding {
  const kind = o.kind === 'RoleBinding' ? 'RoleBinding' : 'ClusterRoleBinding';
  const ref = (o.roleRef ?? {}) as Record<string, unknown>;
  return {
    kind,
    namespace: kind === 'RoleBinding' ? (o.metadata?.namespace ?? 'default') : '',
    name: o.metadata?.name ?? '',
    roleRef: {
      apiGroup: typeof ref.apiGroup === 'string' && ref.apiGroup !== '' ? ref.apiGroup : RBAC_GROUP,
      kind: typeof ref.kind === 'string' ? ref.kind : '',
      name: typeof ref.name === 'string' ? ref.name : '',
    },
    subjects: Array.isArray(o.subjects) ? o.subjects.map(subjectFrom) : [],
    labels: record(o.metadata?.labels),
    annotations: record(o.metadata?.annotations),
    location,
    builtin,
  };
}
