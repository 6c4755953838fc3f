// STUB (contract; the RBAC engine replaces the body): fills each workload's `permissions` and
// `token.needed`, and returns the analysis rules read as `ctx.rbac`.
import type { Inventory } from '../inventory/types.ts';
import type { WorkloadReport } from '../analysis/types.ts';

export interface RbacAnalysisOptions {
  /** Built-in policy release to assume (`v1.36.3`), default: the inventory's server version or the pinned one. */
  builtinPolicyVersion?: string;
}

export function analyzeRbac(inventory: Inventory, reports: WorkloadReport[], _opts: RbacAnalysisOptions = {}): unknown {
  void inventory;
  for (const r of reports) {
    if (r.token.needed === undefined) {
      r.token.needed = 'unknown';
      r.token.neededReason = 'RBAC analysis not available';
    }
  }
  return undefined;
}
