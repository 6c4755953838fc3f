// A workload whose mounted token can do something dangerous: whoever runs code in it (a compromised dependency,
// an RCE) holds that power. Ties each token to the catalogue in src/rbac/dangerous.ts.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { rbacAnalysisOf } from '../../rbac/index.ts';
import { carriesToken, maxSeverity } from './util.ts';

export const RULE_ID = 'rbac-dangerous-token';

export const dangerousToken: Rule = workloadRule({
  id: RULE_ID,
  severity: 'high',
  title: 'Workload mounts a token with dangerous permissions',
  explanation:
    'The workload carries a service-account token the API server accepts, and RBAC (evaluated exactly as the authorizer does, built-in ' +
    'policy and aggregation included) lets that token read Secrets, create pods, exec, mint tokens, bind or escalate roles, or act as ' +
    'cluster-admin. Anything that runs code in the pod inherits that power.',
  remediation:
    'If the workload does not call the API, set automountServiceAccountToken: false. Otherwise give it a dedicated ServiceAccount bound to a ' +
    'Role with only the verbs and resources it uses (kube-sa-audit fix plans one).',
  checkWorkload(ctx, r, w) {
    const rbac = rbacAnalysisOf(ctx);
    if (!rbac) return undefined;
    if (!carriesToken(r) || !r.permissions || r.permissions.dangerous.length === 0) return undefined;
    const d = r.permissions.dangerous;
    const severity = maxSeverity(d.map((x) => x.severity), 'low');
    const what = d.map((x) => `${x.id} (${x.scope === '' ? 'cluster-wide' : `in ${x.scope}`})`).join(', ');
    return {
      rule: RULE_ID,
      severity,
      resource: { kind: r.kind, namespace: r.namespace, name: r.name },
      message: `${r.kind} ${r.namespace}/${r.name} ${r.token.mounted === true ? 'mounts' : 'may mount'} the token of ServiceAccount ${r.namespace}/${r.serviceAccount}, which can: ${what}${r.permissions.equivalentToClusterAdmin ? ' — equivalent to cluster-admin' : ''}`,
      location: w.location,
      details: { serviceAccount: r.serviceAccount, pods: r.pods, dangerous: d, equivalentToClusterAdmin: r.permissions.equivalentToClusterAdmin },
    };
  },
});
