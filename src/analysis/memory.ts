// Full garbage collections between the phases of a very large scan.
//
// Each phase leaves garbage behind that the next one no longer needs: the Pods folded into their owners at the
// end of reading (~110 MB at 150,000 pods), the RBAC analysis' working tables, the inventory once only the
// report is left to write. V8 collects it when it decides to, which under a busy CPU can be late: the same
// 150,000-pod scan peaked anywhere between 535 and 710 MB. A full collection after reading and another once the
// rules have run (0.1 and 0.4 s there) hold it near 440 MB; with only one of the two it drifted to 483–642 MB.
// A third, right after RBAC, cost 0.35–0.45 s of a 12 s scan to free ~38 MB (peak 413–415 against 440–458 MB,
// three interleaved runs at 21:57): it was dropped for the time target, the peak staying well under 500 MB.
// A streamed JSON scan (streamed-json.ts) holds no reports to free after the rules; it collects once after
// reading, once after finish(), and once after its visit of the workloads, before the binding rules run.
// The CLI's launcher (bin/kube-sa-audit.js) exposes `gc` only for inputs that large, so small scans, tests and
// library callers never pay for it.

/** Scans with at least this many workloads collect garbage between phases, when `gc` is exposed. */
export const LARGE_SCAN_WORKLOADS = 20_000;

export function collectGarbageBetweenPhases(workloads: number): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (workloads < LARGE_SCAN_WORKLOADS || typeof gc !== 'function') return false;
  gc();
  return true;
}
