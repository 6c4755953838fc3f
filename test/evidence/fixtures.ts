// Hand-built inventories and reports for the evidence tests (not a test file). Only the fields the evidence
// layer reads are filled; everything else has its neutral value.
import type { Inventory, Workload, RbacRole, RbacBinding, PolicyRule, TokenSecret } from '../../src/inventory/types.ts';
import type { WorkloadReport, TokenSource } from '../../src/analysis/types.ts';

const loc = { file: 'test.yaml', line: 1 };

export function workload(kind: string, namespace: string, name: string, serviceAccount: string, pods: { names?: string[]; uids?: string[] } = {}): Workload {
  return {
    kind, apiVersion: 'apps/v1', namespace, name, location: loc,
    template: { metadata: {}, spec: { serviceAccountName: serviceAccount, containers: [{ name: 'c' }] } },
    templatePath: kind === 'Pod' ? [] : ['spec', 'template'],
    pods: { count: pods.names?.length ?? 0, names: pods.names ?? [], uids: pods.uids ?? [] },
    alreadyAdmitted: false,
  };
}

export function report(w: Workload, opts: { sources?: TokenSource[]; needed?: 'yes' | 'no' | 'unknown'; neededReason?: string } = {}): WorkloadReport {
  const sources = opts.sources ?? [{ kind: 'automount', volume: 'kube-api-access', apiAudience: true, containers: ['c'], detail: 'automount' }];
  return {
    kind: w.kind, apiVersion: w.apiVersion, namespace: w.namespace, name: w.name,
    serviceAccount: w.template.spec.serviceAccountName ?? 'default', serviceAccountStatus: 'present', location: w.location, pods: w.pods.count,
    token: {
      mounted: true, apiAccess: true, containers: ['c'], sources,
      automount: { effective: true, decidedBy: 'default' }, reason: 'automount on by default',
      needed: opts.needed ?? 'unknown', neededReason: opts.neededReason ?? 'RBAC grants something: evidence needed',
    },
  };
}

export function role(kind: 'Role' | 'ClusterRole', namespace: string, name: string, rules: PolicyRule[]): RbacRole {
  return { kind, namespace, name, rules, labels: {}, annotations: {}, location: loc, builtin: false };
}

export function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', namespace: string, name: string, roleKind: string, roleName: string, sa: { namespace: string; name: string }): RbacBinding {
  return {
    kind, namespace, name, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }], labels: {}, annotations: {}, location: loc, builtin: false,
  };
}

export function inventory(workloads: Workload[], extra: Partial<Inventory> = {}): Inventory {
  const serviceAccounts: Inventory['serviceAccounts'] = new Map();
  for (const w of workloads) {
    const sa = w.template.spec.serviceAccountName ?? 'default';
    serviceAccounts.set(`${w.namespace}/${sa}`, { namespace: w.namespace, name: sa, secrets: [], imagePullSecrets: [], labels: {}, annotations: {}, location: loc });
  }
  return {
    namespaces: new Set(workloads.map((w) => w.namespace)), namespaceObjects: new Map(), serviceAccounts, workloads,
    tokenSecrets: new Map<string, TokenSecret>(), roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [],
    skipped: { count: 0, byReason: {} }, problems: [], origin: 'manifests', gaps: [], completeServiceAccounts: false,
    ...extra,
  };
}
