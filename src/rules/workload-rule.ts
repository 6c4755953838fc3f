// Rules that look at one workload at a time are written as `checkWorkload`; this builds their `check`.
import type { Finding, Rule, RuleContext, WorkloadReport } from '../analysis/types.ts';
import type { Workload } from '../inventory/types.ts';

/** Calls `fn` for every workload report with its workload object, in order, and collects the findings. */
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

/** A rule from its per-workload part (and its other findings, if any): `check` runs both, workloads first. */
export function workloadRule(rule: Omit<Rule, 'check' | 'checkWorkload'> & { checkWorkload: NonNullable<Rule['checkWorkload']> }): Rule {
  return {
    ...rule,
    check(ctx) {
      const out = eachWorkload(ctx, (r, w) => rule.checkWorkload(ctx, r, w));
      if (rule.checkRest) for (const f of rule.checkRest(ctx)) out.push(f);
      return out;
    },
  };
}
