// The rule registry: every finding kube-sa-audit reports comes from one module listed here.
// Rules are grouped by theme in sub-folders, one file per rule.
import type { Rule } from '../analysis/types.ts';
import { TOKEN_RULES } from './token/index.ts';
import { RBAC_RULES } from './rbac/index.ts';
import { EVIDENCE_RULES } from './evidence/index.ts';

export const RULES: readonly Rule[] = [...TOKEN_RULES, ...RBAC_RULES, ...EVIDENCE_RULES];
