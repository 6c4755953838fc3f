// The RBAC authorizer, offline. Mirrors plugin/pkg/auth/authorizer/rbac/rbac.go and
// pkg/registry/rbac/validation/rule.go (`VisitRulesFor`, `appliesToUser`, `GetRoleReferenceRules`):
//   1. every ClusterRoleBinding whose subjects apply to the user (SA subjects need an explicit namespace there);
//   2. when the request has a namespace, every RoleBinding of that namespace (SA subjects default to it), a
//      ClusterRole referenced from a RoleBinding granting only inside that namespace;
//   3. allow at the first rule that allows; no deny rules; a missing role is an error and evaluation goes on.
// Bindings are indexed once by subject key (user name, group name), so a question costs O(bindings of that
// subject), never O(all bindings); `system:serviceaccount:<ns>:<name>` SA subjects share the user-name key,
// which is exactly upstream's rule that a User subject with that name IS the service account.
import type { Inventory, PolicyRule, RbacBinding, RbacRole, RbacSubject } from '../inventory/types.ts';
import { aggregateClusterRoles } from './aggregate.ts';
import { loadBuiltinPolicy, type BuiltinPolicy } from './builtin.ts';
import { isNonResource, ruleAllows, type RequestAttributes } from './match.ts';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** The RBAC objects the engine reads (the inventory's four lists). */
export interface RbacInput {
  roles: readonly RbacRole[];
  clusterRoles: readonly RbacRole[];
  roleBindings: readonly RbacBinding[];
  clusterRoleBindings: readonly RbacBinding[];
}

export interface EngineOptions {
  /**
   * Built-in policy merged under the input (input objects of the same kind/namespace/name win). `null` = none
   * (a live cluster already holds its own copy). Default: the pinned release's data.
   */
  builtin?: BuiltinPolicy | null;
  /** Recompute ClusterRole aggregation from the selectors (default true). */
  aggregate?: boolean;
}

/** One binding that applies to a subject, with the role's rules. */
export interface Grant {
  binding: { kind: 'RoleBinding' | 'ClusterRoleBinding'; namespace: string; name: string };
  role: { kind: 'Role' | 'ClusterRole'; name: string; namespace: string };
  /** The first subject of the binding that applies (as upstream reports it). */
  subject: RbacSubject;
  /** `ServiceAccount ns/name`, `Group system:serviceaccounts`, `User system:serviceaccount:ns:name`. */
  via: string;
  /** '' = cluster-wide (ClusterRoleBinding), else the namespace the grant is limited to. */
  scope: string;
  builtin: boolean;
  rules: readonly PolicyRule[];
}

export interface Decision {
  allowed: boolean;
  /** As the API server's SubjectAccessReview `status.reason` (RBAC authorizer format). */
  reason: string;
  grant?: Grant;
  rule?: PolicyRule;
  /** Role resolution errors met on the way (missing roles), upstream wording. */
  errors: string[];
}

export interface RulesReview {
  resourceRules: { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs: string[] }[];
  evaluationError: string;
  grants: Grant[];
}

export interface WhoCanEntry {
  subject: RbacSubject;
  grant: Grant;
}

export const SA_PREFIX = 'system:serviceaccount:';
export const MASTERS_GROUP = 'system:masters';

/** The identity a service-account token authenticates as (serviceaccount/util.go + AuthenticatedGroupAdder). */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `${SA_PREFIX}${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

/** Parses `system:serviceaccount:<ns>:<name>` (serviceaccount.SplitUsername); undefined if it is not one. */
export function splitServiceAccountUser(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined;
  const parts = user.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/**
 * The identity `--as USER [--as-group G]…` impersonation produces (apiserver impersonation filter): an SA user
 * without explicit groups gets its SA groups; `system:authenticated` is added unless authenticated/unauthenticated
 * is already there (or the user is system:anonymous).
 */
export function impersonatedUser(name: string, groups: string[] = []): UserInfo {
  let g = [...groups];
  const sa = splitServiceAccountUser(name);
  if (sa && g.length === 0) g = ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`];
  if (name === 'system:anonymous') {
    if (!g.includes('system:unauthenticated')) g.push('system:unauthenticated');
  } else if (!g.includes('system:authenticated') && !g.includes('system:unauthenticated')) g.push('system:authenticated');
  return { name, groups: g };
}

/** Go's %q for the names we print (printable ASCII is the common case; JSON escaping matches it there). */
const q = (s: string): string => JSON.stringify(s);

function describeSubject(s: RbacSubject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${q(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${q(s.name)}`;
}

// Grants are shared between the users they reach (RbacEngine.toGrant): each is described once.
const descriptions = new WeakMap<Grant, string>();

/** Upstream `clusterRoleBindingDescriber`/`roleBindingDescriber` strings. */
export function describeGrant(g: Grant): string {
  let d = descriptions.get(g);
  if (d === undefined) descriptions.set(g, (d = describeGrantUncached(g)));
  return d;
}

function describeGrantUncached(g: Grant): string {
  if (g.binding.kind === 'ClusterRoleBinding') {
    return `ClusterRoleBinding ${q(g.binding.name)} of ${g.role.kind} ${q(g.role.name)} to ${describeSubject(g.subject, '')}`;
  }
  return `RoleBinding ${q(`${g.binding.name}/${g.binding.namespace}`)} of ${g.role.kind} ${q(g.role.name)} to ${describeSubject(g.subject, g.binding.namespace)}`;
}

const viaOf = (s: RbacSubject, ns: string): string => (s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace || ns}/${s.name}` : `${s.kind} ${s.name}`);

/** upstream appliesToUser */
export function subjectApplies(user: UserInfo, s: RbacSubject, namespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.name === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || namespace;
      if (!ns) return false;
      return user.name === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

interface BindingEntry {
  binding: RbacBinding;
  /** Position in evaluation order (CRBs then RBs, each sorted by namespace/name). */
  ordinal: number;
  role?: RbacRole;
  /** Upstream error text when the roleRef does not resolve. */
  error?: string;
  /** The Grant this binding gives through each of its subjects (same index), made once (see toGrant). */
  grants?: (Grant | undefined)[];
}

const byNsName = <T extends { namespace: string; name: string }>(a: T, b: T): number =>
  a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function mergeByKey<T extends { namespace: string; name: string }>(base: readonly T[], over: readonly T[]): T[] {
  const m = new Map<string, T>();
  for (const x of base) m.set(`${x.namespace}/${x.name}`, x);
  for (const x of over) m.set(`${x.namespace}/${x.name}`, x);
  return [...m.values()];
}

const userKey = (name: string): string => 'u\u0000' + name;
const groupKey = (name: string): string => 'g\u0000' + name;

export class RbacEngine {
  readonly roles: ReadonlyMap<string, RbacRole>;
  readonly clusterRoles: ReadonlyMap<string, RbacRole>;
  readonly clusterRoleBindings: readonly RbacBinding[];
  readonly roleBindings: readonly RbacBinding[];
  /** ClusterRoles whose rules aggregation replaced. */
  readonly aggregated: readonly string[];
  readonly aggregationUnstable: boolean;
  readonly builtin: BuiltinPolicy | null;

  private readonly crbIndex = new Map<string, BindingEntry[]>();
  /**
   * subject key → namespace → its RoleBindings there. Keyed subject first: a service account's four subject keys
   * (its user and three groups) are made once per question, and namespaces (the inventory's own strings) are
   * looked up under them, instead of building `namespace + key` strings for every namespace a group reaches.
   */
  private readonly rbBySubject = new Map<string, Map<string, BindingEntry[]>>();
  private readonly crbEntries: BindingEntry[] = [];
  private readonly rbEntriesByNs = new Map<string, BindingEntry[]>();

  constructor(input: RbacInput, opts: EngineOptions = {}) {
    const builtin = opts.builtin === undefined ? loadBuiltinPolicy() : opts.builtin;
    this.builtin = builtin;
    const roles = mergeByKey(builtin?.roles ?? [], input.roles);
    let clusterRoles = mergeByKey(builtin?.clusterRoles ?? [], input.clusterRoles);
    const agg = opts.aggregate === false ? undefined : aggregateClusterRoles(clusterRoles);
    if (agg) clusterRoles = agg.clusterRoles;
    this.aggregated = agg?.changed ?? [];
    this.aggregationUnstable = agg?.unstable ?? false;
    this.roles = new Map(roles.map((r) => [`${r.namespace}/${r.name}`, r]));
    this.clusterRoles = new Map(clusterRoles.map((r) => [r.name, r]));
    this.clusterRoleBindings = mergeByKey(builtin?.clusterRoleBindings ?? [], input.clusterRoleBindings).sort(byNsName);
    this.roleBindings = mergeByKey(builtin?.roleBindings ?? [], input.roleBindings).sort(byNsName);

    let ordinal = 0;
    for (const b of this.clusterRoleBindings) {
      const e = this.entry(b, ordinal++);
      this.crbEntries.push(e);
      for (const key of this.subjectKeys(b, '')) push(this.crbIndex, key, e);
    }
    for (const b of this.roleBindings) {
      const e = this.entry(b, ordinal++);
      push(this.rbEntriesByNs, b.namespace, e);
      for (const key of this.subjectKeys(b, b.namespace)) {
        let byNs = this.rbBySubject.get(key);
        if (!byNs) this.rbBySubject.set(key, (byNs = new Map()));
        push(byNs, b.namespace, e);
      }
    }
  }

  /** From an inventory: built-ins are merged for manifests, not for a live cluster (it has its own copy). */
  static fromInventory(inv: Inventory, opts: { builtinPolicyVersion?: string; builtin?: BuiltinPolicy | null } = {}): RbacEngine {
    const builtin = opts.builtin !== undefined ? opts.builtin : inv.origin === 'cluster' ? null : loadBuiltinPolicy(opts.builtinPolicyVersion ?? inv.serverVersion);
    return new RbacEngine(inv, { builtin });
  }

  private entry(b: RbacBinding, ordinal: number): BindingEntry {
    const e: BindingEntry = { binding: b, ordinal };
    if (b.roleRef.kind === 'Role') {
      // A ClusterRoleBinding to a Role looks it up in namespace '' and never finds it.
      const r = b.kind === 'RoleBinding' ? this.roles.get(`${b.namespace}/${b.roleRef.name}`) : undefined;
      if (r) e.role = r;
      else e.error = `role.rbac.authorization.k8s.io ${q(b.roleRef.name)} not found`;
    } else if (b.roleRef.kind === 'ClusterRole') {
      const r = this.clusterRoles.get(b.roleRef.name);
      if (r) e.role = r;
      else e.error = `clusterrole.rbac.authorization.k8s.io ${q(b.roleRef.name)} not found`;
    } else e.error = `unsupported role reference kind: ${q(b.roleRef.kind)}`;
    return e;
  }

  private subjectKeys(b: RbacBinding, namespace: string): string[] {
    const keys = new Set<string>();
    for (const s of b.subjects) {
      if (s.kind === 'User') keys.add(userKey(s.name));
      else if (s.kind === 'Group') keys.add(groupKey(s.name));
      else if (s.kind === 'ServiceAccount') {
        const ns = s.namespace || namespace;
        if (ns) keys.add(userKey(`${SA_PREFIX}${ns}:${s.name}`));
      }
    }
    return [...keys];
  }

  /** The user's subject keys: its name, then each group. */
  private static keysOf(user: UserInfo): string[] {
    return [userKey(user.name), ...user.groups.map(groupKey)];
  }

  /** The bindings listed under any of `keys` (ClusterRoleBindings when `namespace` is null), once each, in evaluation order. */
  private candidates(keys: readonly string[], namespace: string | null): BindingEntry[] {
    let out: BindingEntry[] | undefined;
    let only: BindingEntry[] | undefined;
    for (const k of keys) {
      const list = namespace === null ? this.crbIndex.get(k) : this.rbBySubject.get(k)?.get(namespace);
      if (list === undefined || list.length === 0) continue;
      // Most questions meet one list: return it as is (read-only) instead of copying it.
      if (only === undefined && out === undefined) {
        only = list;
        continue;
      }
      if (out === undefined) out = [...only!];
      for (const e of list) if (!out.includes(e)) out.push(e);
    }
    if (out === undefined) return only ?? [];
    return out.sort((a, b) => a.ordinal - b.ordinal);
  }

  /**
   * The grant `e` gives `user`. It depends only on the binding and the first subject that applies (a RoleBinding
   * is only ever asked about its own namespace), so it is made once per subject and shared by every user it
   * reaches: a group binding reaches every service account, and fresh copies per account (interned afterwards
   * through a key string) were part of the RBAC analysis' 126 MB at 150,000 pods (100 MB now). Read-only.
   */
  private toGrant(e: BindingEntry, user: UserInfo, namespace: string): Grant | undefined {
    const b = e.binding;
    const i = b.subjects.findIndex((s) => subjectApplies(user, s, namespace));
    if (i < 0) return undefined;
    const grants = (e.grants ??= []);
    return (grants[i] ??= this.makeGrant(e, b.subjects[i]!));
  }

  private makeGrant(e: BindingEntry, subject: RbacSubject): Grant {
    const b = e.binding;
    const ns = b.kind === 'RoleBinding' ? b.namespace : '';
    return {
      binding: { kind: b.kind, namespace: ns, name: b.name },
      role: { kind: b.roleRef.kind === 'Role' ? 'Role' : 'ClusterRole', name: b.roleRef.name, namespace: b.roleRef.kind === 'Role' ? ns : '' },
      subject,
      via: viaOf(subject, ns),
      scope: ns,
      builtin: b.builtin && (e.role?.builtin ?? false),
      rules: e.role?.rules ?? [],
    };
  }

  /**
   * The bindings that apply to `user` for a request in `namespace` ('' = cluster-scoped), in evaluation order,
   * plus the role-resolution errors met (upstream VisitRulesFor).
   */
  visit(user: UserInfo, namespace: string, keys: readonly string[] = RbacEngine.keysOf(user)): { grants: Grant[]; errors: string[] } {
    const grants: Grant[] = [];
    const errors: string[] = [];
    for (const e of this.candidates(keys, null)) {
      const g = this.toGrant(e, user, '');
      if (!g) continue;
      if (e.error) errors.push(e.error);
      else grants.push(g);
    }
    if (namespace) {
      for (const e of this.candidates(keys, namespace)) {
        const g = this.toGrant(e, user, namespace);
        if (!g) continue;
        if (e.error) errors.push(e.error);
        else grants.push(g);
      }
    }
    return { grants, errors };
  }

  /** The RBAC decision for one request, as SubjectAccessReview reports it (system:masters included). */
  authorize(user: UserInfo, attrs: RequestAttributes): Decision {
    if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: '', errors: [] };
    const namespace = isNonResource(attrs) ? '' : (attrs.namespace ?? '');
    const { grants, errors } = this.visit(user, namespace);
    for (const g of grants) {
      for (const rule of g.rules) {
        if (ruleAllows(attrs, rule)) return { allowed: true, reason: `RBAC: allowed by ${describeGrant(g)}`, grant: g, rule, errors };
      }
    }
    const uniq = [...new Set(errors)];
    const reason = uniq.length === 0 ? '' : uniq.length === 1 ? `RBAC: ${uniq[0]}` : `RBAC: [${uniq.join(', ')}]`;
    return { allowed: false, reason, errors };
  }

  /** What SelfSubjectRulesReview returns for RBAC in `namespace` (cluster-wide rules included). */
  rulesFor(user: UserInfo, namespace: string): RulesReview {
    const { grants, errors } = this.visit(user, namespace);
    const out: RulesReview = { resourceRules: [], nonResourceRules: [], evaluationError: '', grants };
    for (const g of grants) {
      for (const r of g.rules) {
        if ((r.resources ?? []).length > 0) out.resourceRules.push({ verbs: [...r.verbs], apiGroups: [...(r.apiGroups ?? [])], resources: [...r.resources!], resourceNames: [...(r.resourceNames ?? [])] });
        if ((r.nonResourceURLs ?? []).length > 0) out.nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs!] });
      }
    }
    const uniq = [...new Set(errors)];
    if (uniq.length > 0) out.evaluationError = uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
    return out;
  }

  /** Namespaces where RoleBindings apply to `user` (cluster-wide grants are not included). */
  namespacesWithRoleBindings(user: UserInfo, keys: readonly string[] = RbacEngine.keysOf(user)): string[] {
    const out = new Set<string>();
    for (const key of keys) for (const ns of this.rbBySubject.get(key)?.keys() ?? []) out.add(ns);
    return [...out].sort();
  }

  /** Every grant that reaches `user` anywhere: cluster-wide ones, then each namespace's RoleBindings. */
  allGrants(user: UserInfo): { grants: Grant[]; errors: string[] } {
    const keys = RbacEngine.keysOf(user);
    const first = this.visit(user, '', keys);
    const grants = first.grants;
    const errors = first.errors;
    for (const ns of this.namespacesWithRoleBindings(user, keys)) {
      for (const e of this.candidates(keys, ns)) {
        const g = this.toGrant(e, user, ns);
        if (!g) continue;
        if (e.error) errors.push(e.error);
        else grants.push(g);
      }
    }
    return { grants, errors };
  }

  /**
   * Every subject that the request is allowed for, with the binding and role: ClusterRoleBindings, then the
   * RoleBindings of the request's namespace. (`system:masters` is always allowed and listed first.)
   */
  whoCan(attrs: RequestAttributes): WhoCanEntry[] {
    const out: WhoCanEntry[] = [];
    const namespace = isNonResource(attrs) ? '' : (attrs.namespace ?? '');
    const consider = (e: BindingEntry, ns: string): void => {
      if (!e.role) return;
      if (!e.role.rules.some((r) => ruleAllows(attrs, r))) return;
      for (const s of e.binding.subjects) {
        if (s.kind === 'ServiceAccount' && !(s.namespace || ns)) continue;
        if (s.kind !== 'ServiceAccount' && s.kind !== 'User' && s.kind !== 'Group') continue;
        const subject: RbacSubject = s.kind === 'ServiceAccount' ? { ...s, namespace: s.namespace || ns } : s;
        const b = e.binding;
        out.push({
          subject,
          grant: {
            binding: { kind: b.kind, namespace: ns, name: b.name },
            role: { kind: b.roleRef.kind === 'Role' ? 'Role' : 'ClusterRole', name: b.roleRef.name, namespace: b.roleRef.kind === 'Role' ? ns : '' },
            subject: s,
            via: viaOf(s, ns),
            scope: ns,
            builtin: b.builtin && e.role.builtin,
            rules: e.role.rules,
          },
        });
      }
    };
    for (const e of this.crbEntries) consider(e, '');
    if (namespace) for (const e of this.rbEntriesByNs.get(namespace) ?? []) consider(e, namespace);
    return out;
  }

  serviceAccountUser(namespace: string, name: string): UserInfo {
    return serviceAccountUser(namespace, name);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
