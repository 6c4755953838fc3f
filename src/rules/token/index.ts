// Rules about token; one file per rule, listed here.
import type { Rule } from '../../analysis/types.ts';

export const TOKEN_RULES: readonly Rule[] = [];
