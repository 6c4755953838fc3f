// Small helpers shared by the token rules.
import type { Finding, FindingResource, RuleContext, WorkloadReport } from '../../analysis/types.ts';
import type { SourceLocation, Workload } from '../../inventory/types.ts';

export const resourceOf = (r: WorkloadReport): FindingResource => ({ kind: r.kind, namespace: r.namespace, name: r.name });

export const nameOf = (r: { kind: string; namespace?: string; name: string }): string => `${r.kind} ${r.namespace ? r.namespace + '/' : ''}${r.name}`;

export const at = (l: SourceLocation | undefined): string => (l && l.line > 0 ? `${l.file}:${l.line}` : l ? l.file : 'unknown location');

/** Calls `fn` for every workload report with its workload object. */
export function eachWorkload(ctx: RuleContext, fn: (r: WorkloadReport, w: Workload) => Finding | Finding[] | undefined): Finding[] {
  const out: Finding[] = [];
  ctx.workloads.forEach((r, i) => {
    const w = ctx.workloadObjects[i];
    if (!w) return;
    const f = fn(r, w);
    if (Array.isArray(f)) out.push(...f);
    else if (f) out.push(f);
  });
  return out;
}
