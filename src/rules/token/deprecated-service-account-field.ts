// `spec.serviceAccount` is the deprecated alias of serviceAccountName (pkg/apis/core/v1/conversion.go):
// used only when serviceAccountName is empty, ignored when both are set. The API server itself writes the
// alias with the same value on output, so an equal pair (read back from a cluster) is not reported.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { nameOf, resourceOf } from './util.ts';

export const deprecatedServiceAccountField: Rule = workloadRule({
  id: 'token-deprecated-service-account-field',
  severity: 'low',
  title: 'Deprecated serviceAccount field',
  explanation:
    '`spec.serviceAccount` is a deprecated alias of `serviceAccountName`. It decides the ServiceAccount only when serviceAccountName is ' +
    'empty and is silently ignored when both are set (semantics §1.3), so a reader of the manifest can easily get the identity wrong; ' +
    'some tools (Polaris, kubescape) ignore the alias and judge the wrong ServiceAccount.',
  remediation: 'Use `serviceAccountName` only. To clear an alias in a workload template, set both fields (the alias to empty).',
  checkWorkload: (_ctx, r, w) => {
    const alias = w.template.spec.serviceAccount;
    const main = w.template.spec.serviceAccountName;
    if (!alias || alias === main) return undefined;
    const message = main
      ? `${nameOf(r)} sets the deprecated serviceAccount: ${alias}, which is ignored because serviceAccountName: ${main} wins`
      : `${nameOf(r)} names its ServiceAccount ${alias} only through the deprecated serviceAccount field`;
    return { rule: 'token-deprecated-service-account-field', severity: ('low' as const), resource: resourceOf(r), message, location: r.location, details: { serviceAccount: alias, serviceAccountName: main ?? null } };
  },
});
