// A slice of an inventory read by another thread (sources/manifests/parallel.ts), in input order.
//
// Plain data only (arrays, not Maps or Sets) so it crosses threads by structured clone. The main builder
// adds parts in input order (InventoryBuilder.addPart), which gives the same inventory as one reader would.
import type { InputProblem, PodRecord, RbacBinding, RbacRole, ServiceAccount, SourceLocation, TokenSecret, Workload } from './types.ts';

/** A ServiceAccount in a part: where it falls among the part's problems, for the duplicate warning. */
export interface PartServiceAccount {
  key: string;
  sa: ServiceAccount;
  /** How many of the part's problems came before this object. */
  problemsBefore: number;
  /** The object's own position (sa.location may point at its automount field instead). */
  file: string;
  line: number;
}

export interface InventoryPart {
  documents: number;
  namespaces: string[];
  namespaceObjects: [string, { labels: Record<string, string>; location: SourceLocation }][];
  serviceAccounts: PartServiceAccount[];
  tokenSecrets: [string, TokenSecret][];
  otherSecrets: [string, { type: string }][];
  workloads: Workload[];
  podRecords: PodRecord[];
  roles: RbacRole[];
  clusterRoles: RbacRole[];
  roleBindings: RbacBinding[];
  clusterRoleBindings: RbacBinding[];
  problems: InputProblem[];
  /** Skipped documents by reason, in first-seen order. */
  skipped: [string, number][];
}

/**
 * Moves a part read from the middle of a file to its real place: a reader that starts at byte N counts lines
 * and List items from its own start, so every line of `file` shifts by `lineDelta` and every item index of
 * the file's first document by `itemDelta`.
 */
export function relocatePart(part: InventoryPart, file: string, lineDelta: number, itemDelta: number): void {
  if (lineDelta === 0 && itemDelta === 0) return;
  const seen = new Set<SourceLocation>();
  const move = (loc: SourceLocation): void => {
    if (loc.file !== file || seen.has(loc)) return;
    seen.add(loc);
    if (loc.line > 0) loc.line += lineDelta;
    // List items are located as `items/<index>` (json-read.ts).
    if (itemDelta !== 0 && loc.document === 0 && loc.itemPath?.startsWith('items/')) loc.itemPath = `items/${Number(loc.itemPath.slice(6)) + itemDelta}`;
  };
  for (const w of part.workloads) {
    move(w.location);
    if (w.automountLine !== undefined && w.location.file === file && w.automountLine > 0) w.automountLine += lineDelta;
  }
  for (const e of part.serviceAccounts) {
    move(e.sa.location);
    if (e.file === file && e.line > 0) e.line += lineDelta;
  }
  for (const [, v] of part.namespaceObjects) move(v.location);
  for (const [, t] of part.tokenSecrets) move(t.location);
  for (const list of [part.roles, part.clusterRoles, part.roleBindings, part.clusterRoleBindings]) for (const o of list) move(o.location);
  for (const p of part.problems) if (p.file === file && p.line > 0) p.line += lineDelta;
}
