// Queries on the parts of a live cluster a scan could not read (Inventory.gaps).
import type { CoverageGap, Inventory } from './types.ts';

const RBAC_RESOURCES = new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']);
const RBAC_SUFFIX = '.rbac.authorization.k8s.io';

/** Gaps name resources as kubectl does (`rolebindings.rbac.authorization.k8s.io`, `serviceaccounts`). */
const plural = (g: CoverageGap): string => g.resource.split('.', 1)[0] ?? g.resource;

/** Whether a gap hides objects that matter for a workload in `namespace` (cluster-wide gaps hide all). */
const covers = (g: CoverageGap, namespace: string): boolean => !g.namespace || g.namespace === namespace;

/**
 * The gaps on RBAC objects (`rolebindings` or `rolebindings.rbac.authorization.k8s.io`, …). Any of them weakens
 * every account: a RoleBinding in namespace b may name ServiceAccount a/x and grant it rights in b, so an
 * unreadable namespace hides grants to accounts of every namespace.
 */
export function rbacGaps(inv: Inventory): CoverageGap[] {
  return inv.gaps.filter((g) => RBAC_RESOURCES.has(g.resource) || (g.resource.endsWith(RBAC_SUFFIX) && RBAC_RESOURCES.has(g.resource.slice(0, -RBAC_SUFFIX.length))));
}

/** A gap's resource and, for a namespaced one, its namespace: `rolebindings in b`. */
export const describeGap = (g: CoverageGap): string => g.resource + (g.namespace ? ` in ${g.namespace}` : '');

/** The RBAC gaps that make a service account's permissions a lower bound, as words; undefined when complete. */
export function rbacGap(inv: Inventory): string | undefined {
  const hit = rbacGaps(inv);
  if (!hit.length) return undefined;
  return `could not read ${hit.map(describeGap).join(', ')}`;
}

/** Whether ServiceAccounts of `namespace` could not be listed (then even `default` is unknown). */
export function serviceAccountGap(inv: Inventory, namespace: string): boolean {
  return inv.gaps.some((g) => plural(g) === 'serviceaccounts' && covers(g, namespace));
}
