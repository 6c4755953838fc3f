// Built-in resource types of the pinned release, for resolving `can-i VERB TYPE` like kubectl's RESTMapper
// (plural, singular, short names, `TYPE.GROUP`, `TYPE.VERSION.GROUP`). Ordered by the API server's discovery
// order, which is how kubectl picks between equal names (`events` → core before events.k8s.io).
// Checked against the real server's discovery by test/e2e/rbac-can-i.test.ts.

export interface ResourceType {
  group: string;
  version: string;
  /** Plural resource name, as RBAC rules use it. */
  name: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
}

// group/version, then [plural, kind, namespaced, short names…]
const TABLE: [string, [string, string, boolean, ...string[]][]][] = [
  ['v1', [
    ['bindings', 'Binding', true], ['componentstatuses', 'ComponentStatus', false, 'cs'], ['configmaps', 'ConfigMap', true, 'cm'],
    ['endpoints', 'Endpoints', true, 'ep'], ['events', 'Event', true, 'ev'], ['limitranges', 'LimitRange', true, 'limits'],
    ['namespaces', 'Namespace', false, 'ns'], ['nodes', 'Node', false, 'no'], ['persistentvolumeclaims', 'PersistentVolumeClaim', true, 'pvc'],
    ['persistentvolumes', 'PersistentVolume', false, 'pv'], ['pods', 'Pod', true, 'po'], ['podtemplates', 'PodTemplate', true],
    ['replicationcontrollers', 'ReplicationController', true, 'rc'], ['resourcequotas', 'ResourceQuota', true, 'quota'],
    ['secrets', 'Secret', true], ['serviceaccounts', 'ServiceAccount', true, 'sa'], ['services', 'Service', true, 'svc'],
  ]],
  ['apiregistration.k8s.io/v1', [['apiservices', 'APIService', false]]],
  ['apps/v1', [
    ['controllerrevisions', 'ControllerRevision', true], ['daemonsets', 'DaemonSet', true, 'ds'], ['deployments', 'Deployment', true, 'deploy'],
    ['replicasets', 'ReplicaSet', true, 'rs'], ['statefulsets', 'StatefulSet', true, 'sts'],
  ]],
  ['events.k8s.io/v1', [['events', 'Event', true, 'ev']]],
  ['authentication.k8s.io/v1', [['selfsubjectreviews', 'SelfSubjectReview', false], ['tokenreviews', 'TokenReview', false]]],
  ['authorization.k8s.io/v1', [
    ['localsubjectaccessreviews', 'LocalSubjectAccessReview', true], ['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false],
    ['selfsubjectrulesreviews', 'SelfSubjectRulesReview', false], ['subjectaccessreviews', 'SubjectAccessReview', false],
  ]],
  ['autoscaling/v2', [['horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, 'hpa']]],
  ['batch/v1', [['cronjobs', 'CronJob', true, 'cj'], ['jobs', 'Job', true]]],
  ['certificates.k8s.io/v1', [['certificatesigningrequests', 'CertificateSigningRequest', false, 'csr']]],
  ['networking.k8s.io/v1', [
    ['ingressclasses', 'IngressClass', false], ['ingresses', 'Ingress', true, 'ing'], ['ipaddresses', 'IPAddress', false, 'ip'],
    ['networkpolicies', 'NetworkPolicy', true, 'netpol'], ['servicecidrs', 'ServiceCIDR', false],
  ]],
  ['policy/v1', [['poddisruptionbudgets', 'PodDisruptionBudget', true, 'pdb']]],
  ['rbac.authorization.k8s.io/v1', [
    ['clusterrolebindings', 'ClusterRoleBinding', false], ['clusterroles', 'ClusterRole', false],
    ['rolebindings', 'RoleBinding', true], ['roles', 'Role', true],
  ]],
  ['storage.k8s.io/v1', [
    ['csidrivers', 'CSIDriver', false], ['csinodes', 'CSINode', false], ['csistoragecapacities', 'CSIStorageCapacity', true],
    ['storageclasses', 'StorageClass', false, 'sc'], ['volumeattachments', 'VolumeAttachment', false],
    ['volumeattributesclasses', 'VolumeAttributesClass', false, 'vac'],
  ]],
  ['admissionregistration.k8s.io/v1', [
    ['mutatingadmissionpolicies', 'MutatingAdmissionPolicy', false], ['mutatingadmissionpolicybindings', 'MutatingAdmissionPolicyBinding', false],
    ['mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false], ['validatingadmissionpolicies', 'ValidatingAdmissionPolicy', false],
    ['validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding', false], ['validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false],
  ]],
  ['apiextensions.k8s.io/v1', [['customresourcedefinitions', 'CustomResourceDefinition', false, 'crd', 'crds']]],
  ['scheduling.k8s.io/v1', [['priorityclasses', 'PriorityClass', false, 'pc']]],
  ['coordination.k8s.io/v1', [['leases', 'Lease', true]]],
  ['node.k8s.io/v1', [['runtimeclasses', 'RuntimeClass', false]]],
  ['discovery.k8s.io/v1', [['endpointslices', 'EndpointSlice', true]]],
  ['flowcontrol.apiserver.k8s.io/v1', [['flowschemas', 'FlowSchema', false], ['prioritylevelconfigurations', 'PriorityLevelConfiguration', false]]],
  ['resource.k8s.io/v1', [
    ['deviceclasses', 'DeviceClass', false], ['resourceclaims', 'ResourceClaim', true], ['resourceclaimtemplates', 'ResourceClaimTemplate', true],
    ['resourceslices', 'ResourceSlice', false],
  ]],
];

export const BUILTIN_RESOURCES: readonly ResourceType[] = TABLE.flatMap(([gv, rows]) => {
  const slash = gv.indexOf('/');
  const group = slash < 0 ? '' : gv.slice(0, slash);
  const version = slash < 0 ? gv : gv.slice(slash + 1);
  return rows.map(([name, kind, namespaced, ...shortNames]) => ({ group, version, name, singular: kind.toLowerCase(), kind, namespaced, shortNames }));
});

export interface ResolvedResource {
  group: string;
  resource: string;
  /** undefined when the type is unknown (then used verbatim, as kubectl does after its warning). */
  type?: ResourceType;
}

/** kubectl's `resourceFor`: `*` as is; `x.v.g` tried as fully specified, then `x.g` as group/resource. */
export function resolveResourceArg(arg: string, table: readonly ResourceType[] = BUILTIN_RESOURCES): ResolvedResource {
  if (arg === '*') return { group: '', resource: '*' };
  const lower = arg.toLowerCase();
  const find = (resource: string, group: string | undefined, version?: string): ResourceType | undefined => {
    const inGroup = (t: ResourceType) => (group === undefined || t.group === group) && (version === undefined || t.version === version);
    // kubectl expands short names first (shortcut expander), then matches plural or singular names.
    return table.find((t) => inGroup(t) && t.shortNames.includes(resource)) ?? table.find((t) => inGroup(t) && (t.name === resource || t.singular === resource));
  };
  const parts = lower.split('.');
  if (parts.length >= 3) {
    const t = find(parts[0]!, parts.slice(2).join('.'), parts[1]!);
    if (t) return { group: t.group, resource: t.name, type: t };
  }
  const dot = lower.indexOf('.');
  const resource = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  const t = find(resource, group);
  if (t) return { group: t.group, resource: t.name, type: t };
  return { group: '', resource: arg };
}
