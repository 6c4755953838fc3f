// The one list of what a live scan reads. The reader lists exactly these, `rbac-requirements` derives the
// ClusterRole from them, and a 403 on one of them becomes a CoverageGap naming the verdicts it weakens — so the
// three cannot drift apart.

export interface ClusterResource {
  /** API group ('' = core). */
  group: string;
  version: string;
  /** Plural resource name (URL segment and RBAC resource). */
  resource: string;
  kind: string;
  namespaced: boolean;
  /** Whether `-l/--selector` applies (pods and the workloads owning them). */
  selectable: boolean;
  /** Listed only with --secrets-metadata (and then only as PartialObjectMetadata). */
  optIn?: 'secrets-metadata';
  /** Verdicts that become `unknown` when this resource cannot be read (CoverageGap.weakens). */
  weakens: string[];
}

export const WORKLOAD_GAP = [
  'workloads: pods owned by this kind are reported as bare pods or under their ReplicaSet/Job, and templates without running pods are missing',
];

export const CLUSTER_RESOURCES: readonly ClusterResource[] = [
  {
    group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, selectable: false,
    weakens: ['namespace labels (Pod Security admission level) of every namespace'],
  },
  {
    group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, selectable: false,
    weakens: [
      'token.automount / token.mounted / token.apiAccess of every workload whose pod spec does not set automountServiceAccountToken (the ServiceAccount decides)',
      'serviceAccountStatus of every workload (present or missing)',
    ],
  },
  {
    group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, selectable: true,
    weakens: ['workloads: pods not created by a listed workload are missing; pod counts of every workload'],
  },
  {
    group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true, selectable: false, optIn: 'secrets-metadata',
    weakens: ['token.sources of kind legacy-secret (kubernetes.io/service-account-token Secrets mounted or injected by name) and token.mounted / token.apiAccess of workloads that reference Secrets'],
  },
  {
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true, selectable: false,
    weakens: ['permissions (lines, grants, dangerous, onlyDefaults) of every workload', 'token.needed (permissions unknown)'],
  },
  {
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true, selectable: false,
    weakens: ['permissions (lines, grants, dangerous, onlyDefaults) of every workload', 'token.needed (permissions unknown)'],
  },
  {
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false, selectable: false,
    weakens: ['permissions (lines, grants, dangerous, onlyDefaults) of every workload', 'token.needed (permissions unknown)'],
  },
  {
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, selectable: false,
    weakens: ['permissions (lines, grants, dangerous, onlyDefaults) of every workload', 'token.needed (permissions unknown)'],
  },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
  { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
  { group: '', version: 'v1', resource: 'replicationcontrollers', kind: 'ReplicationController', namespaced: true, selectable: true, weakens: WORKLOAD_GAP },
];

export const apiVersionOf = (r: ClusterResource): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** URL path of the collection: all namespaces, or one. */
export function collectionPath(r: ClusterResource, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.resource}`;
  return `${base}/${r.resource}`;
}

export interface RbacRequirementOptions {
  secretsMetadata?: boolean;
  name?: string;
}

/** Least-privilege ClusterRole for a live scan: `get` and `list` on exactly what the reader lists. */
export function requiredClusterRole(opts: RbacRequirementOptions = {}): Record<string, unknown> {
  const byGroup = new Map<string, string[]>();
  for (const r of CLUSTER_RESOURCES) {
    if (r.optIn === 'secrets-metadata' && !opts.secretsMetadata) continue;
    const list = byGroup.get(r.group) ?? [];
    list.push(r.resource);
    byGroup.set(r.group, list);
  }
  const rules = [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources: resources.sort(), verbs: ['get', 'list'] }));
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: opts.name ?? 'kube-sa-audit-reader',
      labels: { 'app.kubernetes.io/name': 'kube-sa-audit' },
      ...(opts.secretsMetadata
        ? { annotations: { 'kube-sa-audit.io/note': 'list secrets is needed to inventory legacy service-account-token Secrets; kube-sa-audit requests metadata only, but RBAC cannot restrict a list to metadata: this role can read Secret values' } }
        : {}),
    },
    // /version is readable by everyone (system:public-info-viewer), so no nonResourceURLs rule is needed.
    rules,
  };
}
