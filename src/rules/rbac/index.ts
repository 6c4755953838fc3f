// Rules about rbac; one file per rule, listed here.
import type { Rule } from '../../analysis/types.ts';
import { dangerousToken } from './dangerous-token.ts';
import { defaultServiceAccountBinding } from './default-service-account-binding.ts';
import { broadGroupBinding } from './broad-group-binding.ts';
import { bindingMissingServiceAccount } from './binding-missing-service-account.ts';
import { tokenWithoutPermissions } from './token-without-permissions.ts';

export const RBAC_RULES: readonly Rule[] = [dangerousToken, defaultServiceAccountBinding, broadGroupBinding, bindingMissingServiceAccount, tokenWithoutPermissions];
