// Rules about audit-log evidence; one file per rule, listed here.
import type { Rule } from '../../analysis/types.ts';
import { tokenUnusedInWindow } from './token-unused-in-window.ts';
import { sharedServiceAccountDivergentNeeds } from './shared-service-account-divergent-needs.ts';
import { grantedNeverUsed } from './granted-never-used.ts';

export const EVIDENCE_RULES: readonly Rule[] = [tokenUnusedInWindow, sharedServiceAccountDivergentNeeds, grantedNeverUsed];
