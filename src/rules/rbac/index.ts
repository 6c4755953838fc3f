// Rules about rbac; one file per rule, listed here.
import type { Rule } from '../../analysis/types.ts';

export const RBAC_RULES: readonly Rule[] = [];
