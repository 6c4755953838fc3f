// What every policy engine's output shares: options, the workload kinds, the subjects that count as
// "every service account", and the documentation text printed with the policies.

export type PolicyMode = 'deny' | 'warn' | 'audit';

export interface PolicyOptions {
  mode: PolicyMode;
  /** Objects (and namespaces) carrying this label are exempt. value undefined = the key alone exempts. */
  exemptLabel?: { key: string; value?: string };
  /** Namespaces never checked (default: kube-system, whose controllers the cluster itself manages). */
  excludeNamespaces: string[];
  /** Prefix of every generated object's name. */
  namePrefix: string;
  /**
   * VAP only: read each namespace's `default` ServiceAccount as the templates policy's parameter (paramKind
   * ServiceAccount, paramRef name default), so templates that rely on default's automount: false pass.
   */
  serviceAccountParams?: boolean;
}

export const DEFAULT_POLICY_OPTIONS: PolicyOptions = { mode: 'deny', excludeNamespaces: ['kube-system'], namePrefix: 'kube-sa-audit', serviceAccountParams: true };

/** Workload kinds whose pod templates are checked, with where the pod spec sits. */
export const TEMPLATE_KINDS: { group: string; version: string; resource: string; kind: string }[] = [
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet' },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet' },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet' },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job' },
  { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob' },
  { group: '', version: 'v1', resource: 'replicationcontrollers', kind: 'ReplicationController' },
];

/** Groups every service account belongs to (system:authenticated too: it holds every SA and every user). */
export const ALL_SA_GROUPS_EXACT = ['system:serviceaccounts', 'system:authenticated', 'system:unauthenticated'];
export const ALL_SA_GROUP_PREFIX = 'system:serviceaccounts:';

/** Label the API server puts on its own bootstrap RBAC objects; they bind system:authenticated by design. */
export const BOOTSTRAP_LABEL = { key: 'kubernetes.io/bootstrapping', value: 'rbac-defaults' };

export function parseExemptLabel(text: string): { key: string; value?: string } {
  const eq = text.indexOf('=');
  const key = eq === -1 ? text : text.slice(0, eq);
  const value = eq === -1 ? undefined : text.slice(eq + 1);
  // Label keys: optional DNS prefix + name of [A-Za-z0-9._-], ≤63 chars; values the same charset (may be empty).
  if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(key)) {
    throw new Error(`--exempt-label: "${key}" is not a valid label key`);
  }
  if (value !== undefined && !/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(value)) {
    throw new Error(`--exempt-label: "${value}" is not a valid label value`);
  }
  return { key, value };
}

/** A Kubernetes label selector that excludes the exemption label (and the excluded namespaces by name). */
export function exclusionExpressions(opts: PolicyOptions, forNamespaces: boolean): { key: string; operator: string; values?: string[] }[] {
  const out: { key: string; operator: string; values?: string[] }[] = [];
  if (forNamespaces && opts.excludeNamespaces.length) out.push({ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...opts.excludeNamespaces] });
  if (opts.exemptLabel) {
    out.push(opts.exemptLabel.value === undefined ? { key: opts.exemptLabel.key, operator: 'DoesNotExist' } : { key: opts.exemptLabel.key, operator: 'NotIn', values: [opts.exemptLabel.value] });
  }
  return out;
}

export const LIMITATIONS = `Notes on what these policies can and cannot see:
- Pods are checked after the ServiceAccount admission plugin has mutated them (validating admission runs after
  mutating admission), so the check is exact: a pod is denied when it runs as "default" AND it carries the
  injected kube-api-access-* volume or its own audience-less projected token. A pod whose default service
  account has automountServiceAccountToken: false gets no volume and is admitted.
- Pods created by controllers (Deployment → ReplicaSet → Pod) are denied at pod creation, where the user does
  not see it (only the ReplicaSet's events do). The templates policy therefore also checks Deployments,
  StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers at apply time.
- A template is checked before any pod exists, so the ServiceAccount object decides. The VAP output reads
  each namespace's "default" ServiceAccount as the policy parameter (paramKind ServiceAccount, paramRef
  name default): a template that leaves automount unset passes when default has automountServiceAccountToken:
  false, exactly as admission will decide for its pods. If "default" does not exist yet (a namespace created
  in the same apply), the template is admitted and the pods policy is the backstop. With --no-sa-params (and
  for Kyverno/Gatekeeper, which do not read it) templates that run as "default" must set
  automountServiceAccountToken: false themselves.
- Bindings are denied when a subject is a "default" service account (kind ServiceAccount or its user name
  system:serviceaccount:<ns>:default) or a group that holds every service account (system:serviceaccounts,
  system:serviceaccounts:<ns>, system:authenticated, system:unauthenticated). The API server's own bootstrap
  bindings (label kubernetes.io/bootstrapping=rbac-defaults) are exempt so upgrades can reconcile them.`;
