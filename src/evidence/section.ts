// Typed access to the audit-evidence section rules receive as `ctx.evidence`. Its own module: every scan loads
// the rules, and importing it from evidence/index.ts loaded the audit-log reader and `yaml` with them (~40 ms
// of start-up) although only scans given audit logs use those.
import type { EvidenceSection } from './index.ts';

export const evidenceSectionOf = (ctx: { evidence?: unknown }): EvidenceSection | undefined => {
  const e = ctx.evidence as EvidenceSection | undefined;
  return e && Array.isArray(e.workloads) ? e : undefined;
};
