// STUB (contract; the audit-log evidence replaces the body).
import type { Inventory } from '../inventory/types.ts';
import type { WorkloadReport } from '../analysis/types.ts';
import type { Readable } from 'node:stream';

export interface AuditEvidenceOptions {
  /** Files, directories, `.gz`, or `-` for stdin. */
  paths: string[];
  stdin?: Readable;
  /** Minimum covered window for a `no` verdict, in days (default 7). */
  minWindowDays?: number;
  now?: Date;
}

/** Reads the audit logs and updates `evidence` and `token.needed` of each report; returns the section for ScanResult. */
export async function applyAuditEvidence(inventory: Inventory, reports: WorkloadReport[], opts: AuditEvidenceOptions): Promise<unknown> {
  void inventory; void reports; void opts;
  return undefined;
}
