// A snapshot: the objects a live scan read, as a v1 List `scan -f` reads back, with the facts the live read
// knew beyond the objects (server version, context, coverage gaps) in the List's metadata.annotations.
// ListMeta has no annotations in the API schema; nothing applies a snapshot, and readers that ignore unknown
// fields (kubectl, the manifest reader) still read the items.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { InventorySink } from '../../inventory/sink.ts';
import type { CoverageGap, InputProblem, KubeObject, SourcedObject } from '../../inventory/types.ts';
import type { ClusterReadResult } from './index.ts';

export const SNAPSHOT_ANNOTATIONS = {
  format: 'kube-sa-audit.io/snapshot',
  serverVersion: 'kube-sa-audit.io/server-version',
  context: 'kube-sa-audit.io/context',
  namespace: 'kube-sa-audit.io/namespace',
  takenAt: 'kube-sa-audit.io/taken-at',
  gaps: 'kube-sa-audit.io/gaps',
  completeServiceAccounts: 'kube-sa-audit.io/complete-serviceaccounts',
} as const;

export interface SnapshotInfo {
  serverVersion?: string;
  context?: string;
  namespace?: string;
  takenAt?: string;
  gaps: CoverageGap[];
  completeServiceAccounts: boolean;
}

/** Collects what the reader pushes, in order, for writing out. */
export class CollectingSink implements InventorySink {
  readonly objects: KubeObject[] = [];
  readonly problems: InputProblem[] = [];
  object(o: SourcedObject): void {
    this.objects.push(o.object);
  }
  problem(p: InputProblem): void {
    this.problems.push(p);
  }
  skipped(): void {}
  document(): void {}
}

/** The List head (everything but items). */
export function snapshotHead(result: ClusterReadResult, takenAt = new Date()): Record<string, unknown> {
  const annotations: Record<string, string> = {
    [SNAPSHOT_ANNOTATIONS.format]: 'v1',
    [SNAPSHOT_ANNOTATIONS.serverVersion]: result.serverVersion,
    [SNAPSHOT_ANNOTATIONS.context]: result.context,
    [SNAPSHOT_ANNOTATIONS.takenAt]: takenAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    [SNAPSHOT_ANNOTATIONS.gaps]: JSON.stringify(result.gaps),
    [SNAPSHOT_ANNOTATIONS.completeServiceAccounts]: String(!result.gaps.some((g) => g.resource === 'serviceaccounts')),
  };
  if (result.namespace) annotations[SNAPSHOT_ANNOTATIONS.namespace] = result.namespace;
  return { apiVersion: 'v1', kind: 'List', metadata: { annotations } };
}

/**
 * Reads the snapshot facts back from a List object (for the manifest reader / scan): undefined when the List
 * is not a kube-sa-audit snapshot.
 */
export function snapshotInfo(list: unknown): SnapshotInfo | undefined {
  const ann = (list as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations;
  if (!ann || typeof ann !== 'object' || ann[SNAPSHOT_ANNOTATIONS.format] === undefined) return undefined;
  const s = (k: string) => (typeof ann[k] === 'string' && ann[k] !== '' ? (ann[k] as string) : undefined);
  let gaps: CoverageGap[] = [];
  try {
    const g = JSON.parse(s(SNAPSHOT_ANNOTATIONS.gaps) ?? '[]') as unknown;
    if (Array.isArray(g)) gaps = g.filter((x): x is CoverageGap => !!x && typeof x === 'object' && typeof (x as CoverageGap).resource === 'string');
  } catch {
    gaps = [];
  }
  const info: SnapshotInfo = { gaps, completeServiceAccounts: s(SNAPSHOT_ANNOTATIONS.completeServiceAccounts) === 'true' };
  const v = s(SNAPSHOT_ANNOTATIONS.serverVersion);
  if (v) info.serverVersion = v;
  const c = s(SNAPSHOT_ANNOTATIONS.context);
  if (c) info.context = c;
  const n = s(SNAPSHOT_ANNOTATIONS.namespace);
  if (n) info.namespace = n;
  const t = s(SNAPSHOT_ANNOTATIONS.takenAt);
  if (t) info.takenAt = t;
  return info;
}

/**
 * The snapshot facts of a file, read from its head only (the writer puts metadata before items), so a scan of
 * a 150,000-pod snapshot does not parse it twice. undefined for files that are not kube-sa-audit snapshots.
 */
export function peekSnapshotInfo(file: string): SnapshotInfo | undefined {
  let head: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      head = buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (!head.includes(SNAPSHOT_ANNOTATIONS.format)) return undefined;
  const t = head.trimStart();
  try {
    if (t.startsWith('{')) {
      const i = t.indexOf('"items"');
      const body = (i < 0 ? t : t.slice(0, i)).replace(/,\s*$/, '');
      return snapshotInfo(JSON.parse(i < 0 ? body : body + '}'));
    }
    const m = /^items:/m.exec(t);
    // `yaml` is loaded only for a file that is a snapshot: every scan asks, few inputs are one (30–35 ms).
    const { parse: parseYaml } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    return snapshotInfo(parseYaml(m ? t.slice(0, m.index) : t));
  } catch {
    return undefined;
  }
}
