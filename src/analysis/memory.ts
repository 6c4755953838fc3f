// Full garbage collections between the phases of a very large scan.
//
// Each phase leaves garbage behind that the next one no longer needs: the Pods folded into their owners at the
// end of reading (~110 MB at 150,000 pods), the RBAC engine's working tables, the inventory once only the
// report is left to write. V8 collects it when it decides to, which under a busy CPU can be late: the same
// 150,000-pod scan peaked anywhere between 535 and 710 MB. A full collection at each of the three boundaries
// (0.1–0.5 s each there) held it to 441–477 MB in the same wall time within the noise; with fewer (measured:
// without the one after RBAC, or with only the first or only the last) it drifted back to 483–642 MB. The CLI's launcher (bin/kube-sa-audit.js) exposes `gc`
// only for inputs that large, so small scans, tests and library callers never pay for it.

/** Scans with at least this many workloads collect garbage between phases, when `gc` is exposed. */
export const LARGE_SCAN_WORKLOADS = 20_000;

export function collectGarbageBetweenPhases(workloads: number): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (workloads < LARGE_SCAN_WORKLOADS || typeof gc !== 'function') return false;
  gc();
  return true;
}
