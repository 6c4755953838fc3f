// ClusterRole aggregation as the clusterrole-aggregation controller computes it
// (pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go): for each ClusterRole with an
// aggregationRule, walk its selectors in order, take the matching ClusterRoles sorted by name (skipping itself),
// append every rule not already present (semantic equality: nil and empty lists are equal), and REPLACE .rules
// — unless nothing matched, in which case the role keeps the rules it has (see below).
// The controller re-queues every aggregating role on any ClusterRole change, so nesting converges to a fixpoint;
// we iterate the same way until nothing changes.
import type { LabelSelector, PolicyRule, RbacRole } from '../inventory/types.ts';

/** metav1.LabelSelectorAsSelector semantics. An empty selector matches everything; a bad operator nothing. */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const norm = (l: string[] | undefined): string[] => l ?? [];
const sameList = (a: string[] | undefined, b: string[] | undefined): boolean => {
  const x = norm(a), y = norm(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};
export function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  return sameList(a.verbs, b.verbs) && sameList(a.apiGroups, b.apiGroups) && sameList(a.resources, b.resources) &&
    sameList(a.resourceNames, b.resourceNames) && sameList(a.nonResourceURLs, b.nonResourceURLs);
}
const sameRules = (a: PolicyRule[], b: PolicyRule[]): boolean => a.length === b.length && a.every((r, i) => sameRule(r, b[i]!));

export interface AggregationResult {
  /** The ClusterRoles with aggregated rules filled in (new objects for changed roles; others unchanged). */
  clusterRoles: RbacRole[];
  /** Names whose rules changed because of aggregation. */
  changed: string[];
  /** Whether the fixpoint was not reached (aggregation cycle); rules are then those of the last pass. */
  unstable: boolean;
}

export function aggregateClusterRoles(input: readonly RbacRole[]): AggregationResult {
  const byName = new Map<string, RbacRole>();
  for (const r of input) byName.set(r.name, r);
  const sorted = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const aggregating = sorted.filter((r) => r.aggregationRule);
  const current = new Map<string, PolicyRule[]>();
  for (const r of sorted) current.set(r.name, r.rules);
  let unstable = true;
  // Each pass can only extend a chain by one level; 64 levels is far beyond any real nesting.
  for (let pass = 0; pass < 64; pass++) {
    let changed = false;
    for (const role of aggregating) {
      const next: PolicyRule[] = [];
      for (const sel of role.aggregationRule!.clusterRoleSelectors ?? []) {
        for (const other of sorted) {
          if (other.name === role.name || !selectorMatches(sel, other.labels)) continue;
          for (const rule of current.get(other.name)!) if (!next.some((x) => sameRule(x, rule))) next.push(rule);
        }
      }
      // The controller writes with server-side apply, and an empty result is an apply without a `rules` field:
      // rules some other manager wrote (the manifest's hand-written ones) then stay. Found by the differential
      // test against the real API server (an aggregationRule that selects nothing keeps its own rules).
      if (next.length === 0) continue;
      if (!sameRules(next, current.get(role.name)!)) {
        current.set(role.name, next);
        changed = true;
      }
    }
    if (!changed) {
      unstable = false;
      break;
    }
  }
  const changedNames: string[] = [];
  const out = sorted.map((r) => {
    const rules = current.get(r.name)!;
    if (rules === r.rules) return r;
    changedNames.push(r.name);
    return { ...r, rules };
  });
  return { clusterRoles: out, changed: changedNames, unstable };
}
