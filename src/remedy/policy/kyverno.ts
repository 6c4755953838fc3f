// Kyverno ClusterPolicies (kyverno.io/v1, validate.cel: Kyverno ≥ 1.11) with the same checks as the VAP
// output. Autogen is off: the template rule is written out, so the message names the Deployment/CronJob.
import type { KubeObject } from '../../inventory/types.ts';
import type { PolicyOptions } from './common.ts';
import { ALL_SA_GROUPS_EXACT, ALL_SA_GROUP_PREFIX, BOOTSTRAP_LABEL, TEMPLATE_KINDS, exclusionExpressions } from './common.ts';

const TOKEN_VOLUME = (vols: string): string =>
  `${vols}.exists(v, v.name.startsWith('kube-api-access-') || (has(v.projected) && has(v.projected.sources) && v.projected.sources.exists(s, has(s.serviceAccountToken) && (!has(s.serviceAccountToken.audience) || s.serviceAccountToken.audience == ''))))`;

export function kyvernoPolicies(opts: PolicyOptions): KubeObject[] {
  const action = opts.mode === 'deny' ? 'Enforce' : 'Audit';
  const nsExpr = exclusionExpressions(opts, true);
  const objExpr = exclusionExpressions(opts, false);
  const exclude = nsExpr.length || objExpr.length
    ? {
        exclude: {
          any: [
            ...(opts.excludeNamespaces.length ? [{ resources: { namespaces: [...opts.excludeNamespaces] } }] : []),
            ...(opts.exemptLabel
              ? [
                  { resources: { selector: { matchExpressions: [invert(objExpr[objExpr.length - 1]!)] } } },
                  { resources: { namespaceSelector: { matchExpressions: [invert(objExpr[objExpr.length - 1]!)] } } },
                ]
              : []),
          ],
        },
      }
    : {};
  const sa = (spec: string) => `(${spec}.?serviceAccountName.orValue('') != '' ? ${spec}.serviceAccountName : ${spec}.?serviceAccount.orValue(''))`;
  const meta = (name: string, title: string) => ({
    name,
    labels: { 'app.kubernetes.io/managed-by': 'kube-sa-audit' },
    annotations: { 'policies.kyverno.io/title': title, 'policies.kyverno.io/category': 'Security', 'pod-policies.kyverno.io/autogen-controllers': 'none' },
  });
  const podSpec = "object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec";
  return [
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: meta(`${opts.namePrefix}-default-sa-token`, 'No service-account token through a default service account'),
      spec: {
        validationFailureAction: action,
        background: true,
        rules: [
          {
            name: 'pods',
            match: { any: [{ resources: { kinds: ['Pod'], operations: ['CREATE'] } }] },
            ...exclude,
            validate: {
              cel: {
                expressions: [
                  {
                    expression: `!(${sa('object.spec')} in ['', 'default']) || !${TOKEN_VOLUME("object.spec.?volumes.orValue([])")}`,
                    message: 'the pod runs as the default service account and would mount its token; set automountServiceAccountToken: false or use its own service account',
                  },
                ],
              },
            },
          },
          {
            name: 'templates',
            match: { any: [{ resources: { kinds: TEMPLATE_KINDS.map((k) => k.kind), operations: ['CREATE', 'UPDATE'] } }] },
            ...exclude,
            validate: {
              cel: {
                variables: [{ name: 'podSpec', expression: podSpec }],
                expressions: [
                  {
                    expression: `!(${sa('variables.podSpec')} in ['', 'default']) || (variables.podSpec.?automountServiceAccountToken.orValue(true) == false && !${TOKEN_VOLUME('variables.podSpec.?volumes.orValue([])')})`,
                    message: 'its pods run as the default service account and would mount its token; set automountServiceAccountToken: false in the pod template or use its own service account',
                  },
                ],
              },
            },
          },
        ],
      },
    },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: meta(`${opts.namePrefix}-sa-bindings`, 'No RBAC bindings to default or all-service-account groups'),
      spec: {
        validationFailureAction: action,
        background: true,
        rules: [
          {
            name: 'bindings',
            match: { any: [{ resources: { kinds: ['RoleBinding', 'ClusterRoleBinding'], operations: ['CREATE', 'UPDATE'] } }] },
            exclude: {
              any: [
                { resources: { selector: { matchLabels: { [BOOTSTRAP_LABEL.key]: BOOTSTRAP_LABEL.value } } } },
                ...((exclude as { exclude?: { any: unknown[] } }).exclude?.any ?? []),
              ],
            },
            validate: {
              cel: {
                expressions: [
                  {
                    expression:
                      "!object.?subjects.orValue([]).exists(s, (s.kind == 'ServiceAccount' && s.name == 'default') || " +
                      "(s.kind == 'User' && s.name.startsWith('system:serviceaccount:') && s.name.endsWith(':default')) || " +
                      `(s.kind == 'Group' && (s.name in [${ALL_SA_GROUPS_EXACT.map((g) => `'${g}'`).join(', ')}] || s.name.startsWith('${ALL_SA_GROUP_PREFIX}'))))`,
                    message: 'the binding grants a role to a default service account or to a group holding every service account; bind a dedicated service account instead',
                  },
                ],
              },
            },
          },
        ],
      },
    },
  ];
}

/** The exemption as a positive match (Kyverno excludes what matches). */
function invert(e: { key: string; operator: string; values?: string[] }): { key: string; operator: string; values?: string[] } {
  if (e.operator === 'DoesNotExist') return { key: e.key, operator: 'Exists' };
  return { key: e.key, operator: 'In', values: e.values ?? [] };
}
