// What a service account holds today compared with what its users were seen to do: "granted but never used".
// Uses the RBAC engine (src/rbac/) for the grants, so bindings, aggregation and the built-in policy are
// resolved exactly as the authorizer does.
import type { Inventory, PolicyRule } from '../inventory/types.ts';
import { RbacEngine, serviceAccountUser, covers, ruleAllows, loadBuiltinPolicy, formatRule, formatGrant, type RequestAttributes } from '../rbac/index.ts';
import { ANY_NAME } from '../rbac/match.ts';
import type { OpStats } from './aggregate.ts';

export interface UnusedGrant {
  /** `RoleBinding ns/name → Role x` or `ClusterRoleBinding name → ClusterRole y`. */
  grant: string;
  /** '' = cluster-wide. */
  scope: string;
  rule: PolicyRule;
  /** `get,list secrets` as the RBAC summary prints rules. */
  text: string;
  /** No request of any of the SA's users matched the rule. */
  wholeRule: boolean;
  /** For a partly used rule without wildcards: the verb/resource pairs nobody used. */
  unusedParts: string[];
}

/**
 * The rules the built-in policy gives every service account (system:basic-user, system:discovery,
 * system:public-info-viewer, system:service-account-issuer-discovery). Taken from the pinned release's data
 * when present; this list is the same policy written out, for when it is not.
 */
const FALLBACK_DEFAULT_RULES: PolicyRule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] },
  { verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'] },
];

const defaultRulesCache = new Map<string, PolicyRule[]>();

export function defaultRules(version?: string): PolicyRule[] {
  const key = version ?? '';
  const hit = defaultRulesCache.get(key);
  if (hit) return hit;
  let rules = FALLBACK_DEFAULT_RULES;
  try {
    const engine = new RbacEngine({ roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] }, { builtin: loadBuiltinPolicy(version) });
    const got = engine.allGrants(serviceAccountUser('kube-sa-audit:baseline', 'baseline')).grants.flatMap((g) => [...g.rules]);
    if (got.length) rules = got;
  } catch {
    // No built-in policy data for this release: the written-out list above.
  }
  defaultRulesCache.set(key, rules);
  return rules;
}

export function attributesOf(op: OpStats, name?: string): RequestAttributes {
  if (op.path !== undefined) return { verb: op.verb, path: op.path };
  return { verb: op.verb, apiGroup: op.apiGroup ?? '', resource: op.resource!, ...(op.subresource ? { subresource: op.subresource } : {}), ...(op.namespace ? { namespace: op.namespace } : {}), ...(name !== undefined ? { name } : {}) };
}

/** Whether a request is one every authenticated service account may make without any binding of its own. */
export function defaultOpPredicate(inventory: Pick<Inventory, 'serverVersion'>): (op: OpStats) => boolean {
  const rules = defaultRules(inventory.serverVersion);
  return (op) => rules.some((r) => ruleAllows(attributesOf(op), r));
}

/** Whether a rule (granted in `scope`) allows at least one of the allowed calls of an op. */
function ruleUsedBy(rule: PolicyRule, scope: string, op: OpStats): boolean {
  if (op.allowed === 0) return false;
  if (op.path !== undefined) return scope === '' && ruleAllows(attributesOf(op), rule);
  if (scope !== '' && op.namespace !== scope) return false;
  if (op.names === null) return ruleAllows(attributesOf(op, ANY_NAME), rule);
  if (op.unnamed > 0 && ruleAllows(attributesOf(op), rule)) return true;
  for (const n of op.names) if (ruleAllows(attributesOf(op, n), rule)) return true;
  return false;
}

const engines = new WeakMap<Inventory, RbacEngine | null>();

function engineOf(inventory: Inventory): RbacEngine | null {
  let e = engines.get(inventory);
  if (e === undefined) {
    try {
      e = RbacEngine.fromInventory(inventory);
    } catch {
      try { e = RbacEngine.fromInventory(inventory, { builtin: null }); } catch { e = null; }
    }
    engines.set(inventory, e);
  }
  return e;
}

/** Grants of the SA (beyond the defaults) with the rules, or parts of rules, that no seen request used. */
export function unusedGrants(inventory: Inventory, namespace: string, serviceAccount: string, used: readonly OpStats[]): UnusedGrant[] {
  const engine = engineOf(inventory);
  if (!engine) return [];
  const defaults = defaultRules(inventory.serverVersion);
  const out: UnusedGrant[] = [];
  for (const g of engine.allGrants(serviceAccountUser(namespace, serviceAccount)).grants) {
    for (const rule of g.rules) {
      if (covers(defaults, [rule]).covered) continue;
      const usedOps = used.filter((op) => ruleUsedBy(rule, g.scope, op));
      const base = { grant: formatGrant(g), scope: g.scope, rule, text: formatRule(rule) };
      if (usedOps.length === 0) { out.push({ ...base, wholeRule: true, unusedParts: [] }); continue; }
      const wild = [...rule.verbs, ...(rule.apiGroups ?? []), ...(rule.resources ?? [])].some((x) => x === '*' || x.startsWith('*/'));
      if (wild || (rule.nonResourceURLs ?? []).length) continue;
      const parts: string[] = [];
      for (const grp of rule.apiGroups ?? []) for (const res of rule.resources ?? []) for (const verb of rule.verbs) {
        const atom: PolicyRule = { verbs: [verb], apiGroups: [grp], resources: [res], ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}) };
        if (!usedOps.some((op) => ruleUsedBy(atom, g.scope, op))) parts.push(`${verb} ${grp ? `${res}.${grp}` : res}`);
      }
      if (parts.length) out.push({ ...base, wholeRule: false, unusedParts: parts });
    }
  }
  return out;
}
