// Rules about evidence; one file per rule, listed here.
import type { Rule } from '../../analysis/types.ts';

export const EVIDENCE_RULES: readonly Rule[] = [];
