// Rule matching exactly as the RBAC authorizer does it (k8s.io/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go,
// `RuleAllows` and the *Matches helpers). Kept free of any other logic so the differential test pins it down.
import type { PolicyRule } from '../inventory/types.ts';

/** A resource request as the authorizer sees it (SubjectAccessReview `resourceAttributes`). */
export interface ResourceAttributes {
  verb: string;
  /** '' is the core group. */
  apiGroup: string;
  resource: string;
  subresource?: string;
  /** Object name; requests without one (create, list, deletecollection) never match a named rule. */
  name?: string;
  /** '' or undefined for cluster-scoped requests. For the Namespace object itself this is its own name. */
  namespace?: string;
}

/** A non-resource request (`nonResourceAttributes`): verb is the lower-case HTTP method. */
export interface NonResourceAttributes {
  verb: string;
  path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

export const isNonResource = (a: RequestAttributes): a is NonResourceAttributes => 'path' in a && typeof (a as NonResourceAttributes).path === 'string';

/**
 * Marks a probe that asks "is there any name for which this is allowed" (used by the dangerous-permission
 * catalogue, never by `authorize`): a rule restricted by resourceNames still counts. A real request never
 * carries this value, because it is not a valid object name.
 */
export const ANY_NAME = '\u0000any-name';
/** Same for a subresource: any subresource of the resource (e.g. every `userextras/<key>`). */
export const ANY_SUBRESOURCE = '\u0000any-subresource';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs ?? []) if (v === '*' || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups ?? []) if (g === '*' || g === group) return true;
  return false;
}

/**
 * `*` matches every resource and subresource; an exact entry matches `resource` or `resource/subresource`;
 * `*\/sub` matches any resource's `sub`. `pods/*` is NOT a wildcard: it only equals a subresource named `*`.
 */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*') return true;
    if (subresource === ANY_SUBRESOURCE) {
      if (r.startsWith(resource + '/') || r.startsWith('*/')) return true;
      continue;
    }
    if (r === combined) return true;
    if (!subresource) continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

/** Empty resourceNames = any name; otherwise the request's name must be listed (an absent name is ''). */
export function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  if (name === ANY_NAME) return true;
  const n = name ?? '';
  for (const rn of names) if (rn === n) return true;
  return false;
}

/** `*` = everything; exact; or prefix when the entry ends in `*` (all trailing stars trimmed, as upstream). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*') return true;
    if (u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (isNonResource(attrs)) return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
  return (
    verbMatches(rule, attrs.verb) &&
    apiGroupMatches(rule, attrs.apiGroup) &&
    resourceMatches(rule, attrs.resource, attrs.subresource) &&
    resourceNameMatches(rule, attrs.name)
  );
}

// ---- Coverage (component-helpers/auth/rbac/validation/policy_comparator.go): owner rules cover a servant
// rule when every atomic (group, resource, verb, name) / (url, verb) of the servant is covered by one owner rule.

/** Splits a rule into atoms with exactly one verb, group, resource, name (BreakdownRule). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of rule.apiGroups ?? []) {
    for (const r of rule.resources ?? []) {
      for (const v of rule.verbs ?? []) {
        if ((rule.resourceNames ?? []).length > 0) {
          for (const n of rule.resourceNames!) out.push({ apiGroups: [g], resources: [r], verbs: [v], resourceNames: [n] });
        } else out.push({ apiGroups: [g], resources: [r], verbs: [v] });
      }
    }
  }
  for (const u of rule.nonResourceURLs ?? []) for (const v of rule.verbs ?? []) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

function has(list: string[] | undefined, v: string): boolean {
  return (list ?? []).includes(v);
}

/** ruleCovers: one owner rule covers one atomic servant rule. Verbs are compared literally (`*` or same). */
export function ruleCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verbs = atom.verbs ?? [];
  if (!(has(owner.verbs, '*') || verbs.every((v) => has(owner.verbs, v)))) return false;
  const urls = atom.nonResourceURLs ?? [];
  if (urls.length > 0) {
    return urls.every((u) => (owner.nonResourceURLs ?? []).some((o) => o === '*' || o === u || (o.endsWith('*') && u.startsWith(o.replace(/\*+$/, '')))));
  }
  if (!(has(owner.apiGroups, '*') || (atom.apiGroups ?? []).every((g) => has(owner.apiGroups, g)))) return false;
  const resOk = (atom.resources ?? []).every((r) => {
    for (const o of owner.resources ?? []) {
      if (o === '*' || o === r) return true;
      const slash = r.indexOf('/');
      if (slash > 0 && o === '*/' + r.slice(slash + 1)) return true;
    }
    return false;
  });
  if (!resOk) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  const atomNames = atom.resourceNames ?? [];
  if (atomNames.length === 0) return false;
  return atomNames.every((n) => ownerNames.includes(n));
}

/** Whether `owners` cover every rule of `servants`; returns the uncovered atoms. */
export function covers(owners: readonly PolicyRule[], servants: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const s of servants) for (const atom of breakdownRule(s)) if (!owners.some((o) => ruleCovers(o, atom))) missing.push(atom);
  return { covered: missing.length === 0, missing };
}
