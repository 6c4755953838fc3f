// A live scan that could not read part of the cluster must not pass anything it could not see.
// Each coverage gap (a 403 on a list) turns the verdicts that depend on that resource into `unknown`:
// a lower bound is still reported ("can at least do X"), but never "not needed" or "no permissions".
import type { Inventory } from '../inventory/types.ts';
import { rbacGap } from '../inventory/gaps.ts';
import type { WorkloadReport } from './types.ts';

/**
 * Runs after the RBAC analysis and before audit evidence: evidence of real, allowed calls still proves a
 * need ("yes"), but "no permissions, so not needed" cannot be concluded from bindings we could not read.
 */
export function applyCoverageGaps(inv: Inventory, reports: WorkloadReport[]): void {
  const missing = rbacGap(inv);
  if (!missing) return;
  for (const r of reports) {
    if (r.permissions) {
      r.permissions.onlyDefaults = false;
      r.permissions.incomplete = `${missing}: the permissions listed are a lower bound`;
    }
    if (r.token.needed !== 'yes') {
      r.token.needed = 'unknown';
      r.token.neededReason = `${missing}, so whether the token grants anything beyond the defaults is unknown`;
    }
  }
}
