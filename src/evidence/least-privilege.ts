// Least-privilege RBAC from evidence: the smallest Roles/ClusterRoles (and bindings) that allow exactly the
// requests a workload was seen to make, as audit2rbac does for one user but per workload.
//
// Choices, each following what the RBAC authorizer can express (kubernetes-semantics.md §3.3):
// - A request with a namespace is granted by a Role + RoleBinding in that namespace; cluster-scoped resources,
//   list/watch across all namespaces and non-resource URLs only by a ClusterRole + ClusterRoleBinding.
// - Rules group by (apiGroup, resource[/subresource]); verbs merge; rules that differ only by resource merge.
// - resourceNames only when every allowed call of that verb targeted a named object and the verb is one the
//   authorizer checks with a name: get/update/patch/delete (and impersonate/bind/escalate), and create on a subresource of a named object
//   (pods/exec, pods/eviction, serviceaccounts/token). Never for create, list, watch, deletecollection: those
//   requests carry no name at authorisation time, so a named rule would not allow them (audit2rbac #24).
// - Only allowed calls count. Denied calls are reported, not granted: granting them widens what the workload
//   could do, and the workload evidently works without them.
// - Calls every authenticated identity may already make (discovery, /version, self-reviews) need no role.
// - `get` on pods/exec|attach|portforward (WebSocket) also needs `create` on it from 1.35 on.
import { stringify } from 'yaml';
import type { KubeObject, PolicyRule } from '../inventory/types.ts';
import type { OpStats } from './aggregate.ts';

// impersonate, bind and escalate are always checked against a named object (user, group, role).
const NAMED_VERBS = new Set(['get', 'update', 'patch', 'delete', 'impersonate', 'bind', 'escalate']);
const WEBSOCKET_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
export const MANAGED_BY = 'kube-sa-audit';

export interface GeneratedRole {
  kind: 'Role' | 'ClusterRole';
  /** '' for ClusterRoles. */
  namespace: string;
  name: string;
  rules: PolicyRule[];
}

export interface GeneratedBinding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  namespace: string;
  name: string;
  roleRef: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'Role' | 'ClusterRole'; name: string };
  subjects: { kind: 'ServiceAccount'; name: string; namespace: string }[];
}

interface ResourceAcc {
  apiGroup: string;
  resource: string;
  unnamed: Set<string>;
  named: Map<string, Set<string>>;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Rules per scope ('' = cluster-wide) allowing exactly the allowed ops. */
export function rulesFromOps(ops: Iterable<OpStats>, needsNoGrant: (op: OpStats) => boolean = () => false): Map<string, PolicyRule[]> {
  const resources = new Map<string, Map<string, ResourceAcc>>();
  const nonResource = new Map<string, Set<string>>();
  for (const op of ops) {
    if (op.allowed === 0 || needsNoGrant(op)) continue;
    if (op.path !== undefined) {
      (nonResource.get(op.path) ?? nonResource.set(op.path, new Set()).get(op.path)!).add(op.verb);
      continue;
    }
    const scope = op.namespace ?? '';
    const res = op.resource! + (op.subresource ? `/${op.subresource}` : '');
    const byRes = resources.get(scope) ?? resources.set(scope, new Map()).get(scope)!;
    const k = `${op.apiGroup ?? ''}\u0000${res}`;
    const acc = byRes.get(k) ?? byRes.set(k, { apiGroup: op.apiGroup ?? '', resource: res, unnamed: new Set(), named: new Map() }).get(k)!;
    const verbs = [op.verb];
    if (op.verb === 'get' && op.resource === 'pods' && op.subresource && WEBSOCKET_SUBRESOURCES.has(op.subresource)) verbs.push('create');
    const nameable = NAMED_VERBS.has(op.verb) || (op.verb === 'create' && !!op.subresource);
    const named = nameable && op.names !== null && op.names.size > 0 && op.unnamed === 0;
    for (const v of verbs) {
      if (named) {
        const set = acc.named.get(v) ?? acc.named.set(v, new Set()).get(v)!;
        for (const n of op.names!) set.add(n);
      } else acc.unnamed.add(v);
    }
  }

  const out = new Map<string, PolicyRule[]>();
  for (const [scope, byRes] of resources) {
    const rules: PolicyRule[] = [];
    for (const acc of byRes.values()) {
      for (const v of acc.unnamed) acc.named.delete(v);
      if (acc.unnamed.size) rules.push({ apiGroups: [acc.apiGroup], resources: [acc.resource], verbs: [...acc.unnamed].sort(cmp) });
      const byNames = new Map<string, { names: string[]; verbs: string[] }>();
      for (const [v, names] of acc.named) {
        const sorted = [...names].sort(cmp);
        const key = sorted.join('\u0000');
        (byNames.get(key) ?? byNames.set(key, { names: sorted, verbs: [] }).get(key)!).verbs.push(v);
      }
      for (const { names, verbs } of byNames.values()) rules.push({ apiGroups: [acc.apiGroup], resources: [acc.resource], verbs: verbs.sort(cmp), resourceNames: names });
    }
    out.set(scope, compactRules(rules));
  }
  if (nonResource.size) {
    const byVerbs = new Map<string, { verbs: string[]; urls: string[] }>();
    for (const [path, verbs] of nonResource) {
      const vs = [...verbs].sort(cmp);
      const key = vs.join(',');
      (byVerbs.get(key) ?? byVerbs.set(key, { verbs: vs, urls: [] }).get(key)!).urls.push(path);
    }
    const rules = [...byVerbs.values()].map((x) => ({ nonResourceURLs: x.urls.sort(cmp), verbs: x.verbs }));
    out.set('', [...(out.get('') ?? []), ...rules]);
  }
  return out;
}

/** Merges rules of one apiGroup that have the same verbs and names, then sorts them. */
function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = `${r.apiGroups![0]}\u0000${r.verbs.join(',')}\u0000${(r.resourceNames ?? []).join('\u0001')}`;
    const cur = merged.get(key);
    if (cur) cur.resources = [...cur.resources!, ...r.resources!].sort(cmp);
    else merged.set(key, { ...r, resources: [...r.resources!] });
  }
  const named = (r: PolicyRule): number => ((r.resourceNames ?? []).length ? 1 : 0);
  return [...merged.values()].sort((a, b) => cmp(a.apiGroups![0]!, b.apiGroups![0]!) || cmp(a.resources![0]!, b.resources![0]!) || named(a) - named(b) || cmp(a.verbs.join(), b.verbs.join()));
}

export interface LeastPrivilegeTarget {
  workload: { kind: string; namespace: string; name: string };
  /** The service account the bindings name. */
  subject: { namespace: string; name: string };
  window?: { from?: string; to?: string };
}

/** RBAC object names: Roles in the workload's own namespace need no namespace in the name; the rest do. */
export function generatedRoleName(w: { kind: string; namespace: string; name: string }, scope: string): string {
  const kind = w.kind.toLowerCase();
  return scope === w.namespace ? `${MANAGED_BY}:${kind}:${w.name}` : `${MANAGED_BY}:${w.namespace}:${kind}:${w.name}`;
}

export function rolesAndBindings(target: LeastPrivilegeTarget, rulesByScope: Map<string, PolicyRule[]>): { roles: GeneratedRole[]; bindings: GeneratedBinding[] } {
  const roles: GeneratedRole[] = [];
  const bindings: GeneratedBinding[] = [];
  const scopes = [...rulesByScope.keys()].sort(cmp);
  for (const scope of scopes) {
    const rules = rulesByScope.get(scope)!;
    if (!rules.length) continue;
    const name = generatedRoleName(target.workload, scope);
    const cluster = scope === '';
    roles.push({ kind: cluster ? 'ClusterRole' : 'Role', namespace: scope, name, rules });
    bindings.push({
      kind: cluster ? 'ClusterRoleBinding' : 'RoleBinding',
      namespace: scope,
      name,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: cluster ? 'ClusterRole' : 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: target.subject.name, namespace: target.subject.namespace }],
    });
  }
  return { roles, bindings };
}

function metadata(name: string, namespace: string, target: LeastPrivilegeTarget): KubeObject['metadata'] {
  const w = target.workload;
  const annotations: Record<string, string> = { 'kube-sa-audit.io/workload': `${w.kind} ${w.namespace}/${w.name}` };
  if (target.window?.from && target.window.to) annotations['kube-sa-audit.io/evidence-window'] = `${target.window.from}/${target.window.to}`;
  return { name, ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/managed-by': MANAGED_BY }, annotations };
}

/** The objects as Kubernetes manifests, ready for `kubectl apply -f`. */
export function manifestsOf(target: LeastPrivilegeTarget, roles: GeneratedRole[], bindings: GeneratedBinding[], newServiceAccount: boolean): KubeObject[] {
  const out: KubeObject[] = [];
  if (newServiceAccount) {
    out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(target.subject.name, target.subject.namespace, target) });
  }
  for (const r of roles) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: r.kind, metadata: metadata(r.name, r.namespace, target),
      rules: r.rules.map((rule) => ({ ...rule })),
    });
  }
  for (const b of bindings) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: b.kind, metadata: metadata(b.name, b.namespace, target),
      roleRef: b.roleRef, subjects: b.subjects,
    });
  }
  return out;
}

export function toYaml(objects: KubeObject[], header: string[]): string {
  const head = header.map((l) => `# ${l}\n`).join('');
  if (!objects.length) return head;
  return head + objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
