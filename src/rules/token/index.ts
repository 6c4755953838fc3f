// Rules about service-account tokens; one file per rule, listed here.
import type { Rule } from '../../analysis/types.ts';
import { defaultServiceAccountToken } from './default-service-account.ts';
import { podOptIn } from './pod-opt-in.ts';
import { deprecatedServiceAccountField } from './deprecated-service-account-field.ts';
import { projectedLongExpiry } from './projected-long-expiry.ts';
import { legacySecretToken } from './legacy-secret-token.ts';
import { automountNonCanonicalBoolean } from './automount-non-canonical-boolean.ts';
import { serviceAccountMissing } from './service-account-missing.ts';
import { runningPodsDiffer } from './running-pods-differ.ts';

export const TOKEN_RULES: readonly Rule[] = [
  defaultServiceAccountToken,
  legacySecretToken,
  projectedLongExpiry,
  serviceAccountMissing,
  runningPodsDiffer,
  deprecatedServiceAccountField,
  automountNonCanonicalBoolean,
  podOptIn,
];
