// `scan --least-privilege-out DIR`: one YAML file per workload that calls the API, ready for `kubectl apply -f`.
// Each file is written atomically (never half-written); names are stable so a re-run replaces them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../remedy/atomic-write.ts';
import type { LeastPrivilegeEntry } from './index.ts';

export function leastPrivilegeFileName(e: Pick<LeastPrivilegeEntry, 'workload'>): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${safe(e.workload.namespace)}_${safe(e.workload.kind.toLowerCase())}_${safe(e.workload.name)}.yaml`;
}

/** Writes the entries that need a role; returns the paths written. */
export async function writeLeastPrivilegeFiles(dir: string, entries: readonly LeastPrivilegeEntry[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const e of entries) {
    if (e.noRoleNeeded && !e.subject.dedicated) continue;
    const path = join(dir, leastPrivilegeFileName(e));
    await writeFileAtomic(path, e.yaml);
    written.push(path);
  }
  return written;
}
