// ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA since 1.30): the native guardrail, no
// controller to install. Three policies, each with its binding:
//   <prefix>-default-sa-pods       Pods that would mount a token of a `default` service account (exact: the
//                                   pod is seen after the ServiceAccount admission plugin mutated it);
//   <prefix>-default-sa-templates  workload templates that would (error at apply time, not at pod creation);
//   <prefix>-sa-bindings           RoleBindings/ClusterRoleBindings to `default` or to all-service-account groups.
import type { KubeObject } from '../../inventory/types.ts';
import type { PolicyOptions } from './common.ts';
import { ALL_SA_GROUPS_EXACT, ALL_SA_GROUP_PREFIX, BOOTSTRAP_LABEL, TEMPLATE_KINDS, exclusionExpressions } from './common.ts';

const API = 'admissionregistration.k8s.io/v1';

/** CEL: a list of volumes (`vols`) that carry an API token: the injected one, or an audience-less projection. */
const tokenVolumes = (vols: string): string =>
  `${vols}.filter(v, v.name.startsWith('kube-api-access-') || (has(v.projected) && has(v.projected.sources) && v.projected.sources.exists(s, has(s.serviceAccountToken) && (!has(s.serviceAccountToken.audience) || s.serviceAccountToken.audience == ''))))`;

/** CEL: effective service account name of a pod spec (`serviceAccountName` wins over the deprecated alias). */
const saName = (spec: string): string =>
  `${spec}.?serviceAccountName.orValue('') != '' ? ${spec}.serviceAccountName : ${spec}.?serviceAccount.orValue('')`;

const quoteList = (xs: string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

function validationActions(opts: PolicyOptions): string[] {
  return opts.mode === 'deny' ? ['Deny'] : opts.mode === 'warn' ? ['Warn'] : ['Audit'];
}

function binding(opts: PolicyOptions, policyName: string, extraObjectExpressions: { key: string; operator: string; values?: string[] }[] = [], paramRef?: Record<string, unknown>): KubeObject {
  const nsExpr = exclusionExpressions(opts, true);
  const objExpr = [...exclusionExpressions(opts, false), ...extraObjectExpressions];
  return {
    apiVersion: API,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: policyName, labels: { 'app.kubernetes.io/managed-by': 'kube-sa-audit' } },
    spec: {
      policyName,
      ...(paramRef ? { paramRef } : {}),
      validationActions: validationActions(opts),
      matchResources: {
        ...(nsExpr.length ? { namespaceSelector: { matchExpressions: nsExpr } } : {}),
        ...(objExpr.length ? { objectSelector: { matchExpressions: objExpr } } : {}),
      },
    },
  };
}

export function vapPolicies(opts: PolicyOptions): KubeObject[] {
  const p = opts.namePrefix;
  const meta = (name: string, description: string) => ({
    name,
    labels: { 'app.kubernetes.io/managed-by': 'kube-sa-audit' },
    annotations: { 'kube-sa-audit.io/description': description },
  });
  const podsName = `${p}-default-sa-pods`;
  const templatesName = `${p}-default-sa-templates`;
  const bindingsName = `${p}-sa-bindings`;

  const pods: KubeObject = {
    apiVersion: API,
    kind: 'ValidatingAdmissionPolicy',
    metadata: meta(podsName, 'Deny pods that would mount a token of a default service account.'),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
      variables: [
        { name: 'serviceAccount', expression: saName('object.spec') },
        { name: 'tokenVolumes', expression: tokenVolumes("object.spec.?volumes.orValue([])") },
      ],
      validations: [
        {
          expression: "!(variables.serviceAccount in ['', 'default']) || size(variables.tokenVolumes) == 0",
          messageExpression:
            "'pod ' + object.metadata.?name.orValue(object.metadata.?generateName.orValue('')) + ' runs as the default service account and would mount its token (volume ' + variables.tokenVolumes[0].name + '); set automountServiceAccountToken: false, or run it as its own service account'",
          reason: 'Forbidden',
        },
      ],
    },
  };

  const templates: KubeObject = {
    apiVersion: API,
    kind: 'ValidatingAdmissionPolicy',
    metadata: meta(templatesName, 'Deny workload templates whose pods would mount a token of a default service account.'),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: groupRules(),
      },
      // The namespace's `default` ServiceAccount as the parameter: a template that leaves automount unset is
      // fine when default has it off, exactly as the ServiceAccount admission plugin will decide for its pods.
      ...(opts.serviceAccountParams ? { paramKind: { apiVersion: 'v1', kind: 'ServiceAccount' } } : {}),
      // Objects being deleted (finalizers) are updated too; never block that.
      matchConditions: [{ name: 'not-being-deleted', expression: '!has(object.metadata.deletionTimestamp)' }],
      variables: [
        { name: 'podSpec', expression: "object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec" },
        { name: 'serviceAccount', expression: saName('variables.podSpec') },
        {
          name: 'automount',
          expression: opts.serviceAccountParams
            ? 'variables.podSpec.?automountServiceAccountToken.orValue(params == null || params.?automountServiceAccountToken.orValue(true))'
            : 'variables.podSpec.?automountServiceAccountToken.orValue(true)',
        },
        { name: 'tokenVolumes', expression: tokenVolumes('variables.podSpec.?volumes.orValue([])') },
      ],
      validations: [
        {
          expression: "!(variables.serviceAccount in ['', 'default']) || (variables.automount == false && size(variables.tokenVolumes) == 0)",
          messageExpression:
            "object.kind + ' ' + object.metadata.name + ': its pods run as the default service account and would mount its token; set automountServiceAccountToken: false in the pod template, or run them as their own service account'",
          reason: 'Forbidden',
        },
      ],
    },
  };

  const subjectTest =
    "(s.kind == 'ServiceAccount' && s.name == 'default') || " +
    "(s.kind == 'User' && s.name.startsWith('system:serviceaccount:') && s.name.endsWith(':default')) || " +
    `(s.kind == 'Group' && (s.name in ${quoteList(ALL_SA_GROUPS_EXACT)} || s.name.startsWith('${ALL_SA_GROUP_PREFIX}')))`;
  const bindings: KubeObject = {
    apiVersion: API,
    kind: 'ValidatingAdmissionPolicy',
    metadata: meta(bindingsName, 'Deny RoleBindings/ClusterRoleBindings to a default service account or to groups of all service accounts.'),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['rolebindings', 'clusterrolebindings'] }],
      },
      matchConditions: [{ name: 'not-being-deleted', expression: '!has(object.metadata.deletionTimestamp)' }],
      variables: [{ name: 'badSubjects', expression: `object.?subjects.orValue([]).filter(s, ${subjectTest})` }],
      validations: [
        {
          expression: 'size(variables.badSubjects) == 0',
          messageExpression:
            "object.kind + ' ' + object.metadata.name + ' grants ' + object.roleRef.kind + ' ' + object.roleRef.name + ' to ' + variables.badSubjects.map(s, s.kind + ' ' + (has(s.namespace) ? s.namespace + '/' : '') + s.name).join(', ') + ', which every pod of a namespace (or of the cluster) can use; bind a dedicated service account instead'",
          reason: 'Forbidden',
        },
      ],
    },
  };

  return [
    pods,
    binding(opts, podsName),
    templates,
    binding(opts, templatesName, [], opts.serviceAccountParams ? { name: 'default', parameterNotFoundAction: 'Allow' } : undefined),
    bindings,
    binding(opts, bindingsName, [{ key: BOOTSTRAP_LABEL.key, operator: 'NotIn', values: [BOOTSTRAP_LABEL.value] }]),
  ];
}

function groupRules(): { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[] {
  const byGroup = new Map<string, string[]>();
  for (const k of TEMPLATE_KINDS) {
    const list = byGroup.get(k.group);
    if (list) list.push(k.resource);
    else byGroup.set(k.group, [k.resource]);
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources }));
}
