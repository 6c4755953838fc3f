// The catalogue of dangerous permissions (RBAC Good Practices "privilege escalation risks", plus the vectors in
// docs/kubernetes-semantics.md §5). Every entry is decided by asking the engine's own rule evaluation
// (`ruleAllows`) concrete requests — never by comparing strings — so wildcards, `*/sub`, `pods/*`, apiGroup ''
// and resourceNames behave exactly as in the authorizer.
import type { Severity } from '../analysis/types.ts';
import type { Grant } from './engine.ts';
import { describeGrant } from './engine.ts';
import { ANY_NAME, ANY_SUBRESOURCE, ruleAllows, type NonResourceAttributes, type ResourceAttributes } from './match.ts';

/** One request to ask. `clusterOnly` = a cluster-scoped request: RoleBindings can never grant it. */
export interface Probe {
  attrs: Omit<ResourceAttributes, 'namespace'> | NonResourceAttributes;
  clusterOnly?: boolean;
}

export interface DangerousPermission {
  id: string;
  /** Severity when held inside one namespace (RoleBinding). */
  severity: Severity;
  /** Severity when held cluster-wide (ClusterRoleBinding); defaults to `severity`. */
  clusterSeverity?: Severity;
  /** One line: what an attacker holding the token can do with it. */
  why: string;
  /** Any alternative matches; inside one alternative every probe must be allowed (e.g. bind AND create binding). */
  anyOf: Probe[][];
}

export interface DangerousHit {
  id: string;
  severity: Severity;
  why: string;
  /** '' = cluster-wide, else the namespace. */
  scope: string;
  /** The grants that allowed the probes, described as the authorizer does. */
  via: string;
  /** Whether every allowing rule was restricted by resourceNames (still dangerous, narrower). */
  namedOnly: boolean;
}

const RBAC = 'rbac.authorization.k8s.io';
const r = (verb: string, apiGroup: string, resource: string, extra: Partial<ResourceAttributes> & { clusterOnly?: boolean } = {}): Probe => {
  const { clusterOnly, ...rest } = extra;
  return { attrs: { verb, apiGroup, resource, ...rest }, ...(clusterOnly ? { clusterOnly } : {}) };
};
const each = (verbs: string[], targets: [string, string, (Partial<ResourceAttributes> & { clusterOnly?: boolean })?][]): Probe[][] =>
  verbs.flatMap((v) => targets.map(([g, res, extra]) => [r(v, g, res, extra ?? {})]));
const named = { name: ANY_NAME };

const POD_MAKERS: [string, string][] = [
  ['apps', 'deployments'], ['apps', 'replicasets'], ['apps', 'statefulsets'], ['apps', 'daemonsets'],
  ['batch', 'jobs'], ['batch', 'cronjobs'], ['', 'replicationcontrollers'],
];

/** Build the catalogue for a release (the exec family depends on it). */
export function dangerousCatalogue(kubernetesMinor = 36): DangerousPermission[] {
  const streamVerbs = kubernetesMinor < 35 ? ['create', 'get'] : ['create'];
  return [
    {
      id: 'cluster-admin',
      severity: 'critical',
      why: 'every verb on every resource and non-resource URL: equivalent to cluster-admin',
      anyOf: [[r('*', '*', '*', { clusterOnly: true }), { attrs: { verb: '*', path: '*' }, clusterOnly: true }]],
    },
    {
      id: 'wildcard-all-resources',
      severity: 'high',
      clusterSeverity: 'critical',
      why: '`*` verbs on `*` resources of every API group: full control of everything in scope, present and future',
      anyOf: [[r('*', '*', '*')]],
    },
    {
      id: 'secrets-read',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'get/list/watch Secrets returns their values, including other service accounts\' tokens',
      anyOf: [[r('get', '', 'secrets', named)], [r('list', '', 'secrets')], [r('watch', '', 'secrets')]],
    },
    {
      id: 'workload-create',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'creating or changing pods or pod-making workloads runs code as any service account of the namespace and mounts any of its Secrets',
      anyOf: [
        [r('create', '', 'pods')], [r('update', '', 'pods', named)], [r('patch', '', 'pods', named)],
        ...each(['create'], POD_MAKERS),
        ...each(['update', 'patch'], POD_MAKERS.map(([g, res]) => [g, res, named] as [string, string, Partial<ResourceAttributes>])),
      ],
    },
    {
      id: 'pods-exec',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'exec into pods yields a shell with their service-account tokens' + (kubernetesMinor < 35 ? ' (get is enough below 1.35)' : ''),
      anyOf: each(streamVerbs, [['', 'pods', { subresource: 'exec', name: ANY_NAME }]]),
    },
    {
      id: 'pods-attach',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'attach to running containers: their stdin/stdout and, with a shell, their tokens',
      anyOf: each(streamVerbs, [['', 'pods', { subresource: 'attach', name: ANY_NAME }]]),
    },
    {
      id: 'pods-portforward',
      severity: 'medium',
      clusterSeverity: 'high',
      why: 'port-forward reaches any pod port, bypassing NetworkPolicy and Service exposure',
      anyOf: each(streamVerbs, [['', 'pods', { subresource: 'portforward', name: ANY_NAME }]]),
    },
    {
      id: 'pods-ephemeralcontainers',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'adding an ephemeral container to a pod runs code with that pod\'s token and volumes',
      anyOf: each(['update', 'patch'], [['', 'pods', { subresource: 'ephemeralcontainers', name: ANY_NAME }]]),
    },
    {
      id: 'serviceaccount-token-create',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'create serviceaccounts/token mints tokens for existing service accounts, any audience',
      anyOf: [[r('create', '', 'serviceaccounts', { subresource: 'token', name: ANY_NAME })]],
    },
    {
      id: 'secrets-create',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'creating a kubernetes.io/service-account-token Secret mints a non-expiring token for any service account of the namespace',
      anyOf: [[r('create', '', 'secrets')]],
    },
    {
      id: 'impersonate',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'impersonate acts as other users, groups (system:masters included) or service accounts',
      anyOf: [
        [r('impersonate', '', 'users', { name: ANY_NAME, clusterOnly: true })],
        [r('impersonate', '', 'groups', { name: ANY_NAME, clusterOnly: true })],
        [r('impersonate', '', 'serviceaccounts', { name: ANY_NAME })],
        [r('impersonate', 'authentication.k8s.io', 'uids', { name: ANY_NAME, clusterOnly: true })],
        [r('impersonate', 'authentication.k8s.io', 'userextras', { subresource: ANY_SUBRESOURCE, name: ANY_NAME, clusterOnly: true })],
        // Constrained impersonation (KEP-5284, 1.35 alpha / 1.36 beta).
        [r('impersonate:user-info', '', 'users', { name: ANY_NAME, clusterOnly: true })],
        [r('impersonate:user-info', '', 'groups', { name: ANY_NAME, clusterOnly: true })],
        [r('impersonate:serviceaccount', '', 'serviceaccounts', { name: ANY_NAME })],
        [r('impersonate:arbitrary-node', '', 'nodes', { name: ANY_NAME, clusterOnly: true })],
        [r('impersonate:associated-node', '', 'nodes', { name: ANY_NAME, clusterOnly: true })],
      ],
    },
    {
      id: 'rbac-escalate',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'escalate on roles lets it write roles with permissions it does not hold',
      anyOf: [[r('escalate', RBAC, 'roles', named)], [r('escalate', RBAC, 'clusterroles', { name: ANY_NAME, clusterOnly: true })]],
    },
    {
      id: 'rbac-bind',
      severity: 'high',
      clusterSeverity: 'critical',
      why: 'bind plus creating bindings grants any role it may bind (cluster-admin included) to any subject',
      anyOf: [
        [r('bind', RBAC, 'roles', named), r('create', RBAC, 'rolebindings')],
        [r('bind', RBAC, 'clusterroles', named), r('create', RBAC, 'rolebindings')],
        [r('bind', RBAC, 'clusterroles', { name: ANY_NAME, clusterOnly: true }), r('create', RBAC, 'clusterrolebindings', { clusterOnly: true })],
      ],
    },
    {
      id: 'rbac-write',
      severity: 'medium',
      clusterSeverity: 'high',
      why: 'writing Roles/Bindings (or labelled ClusterRoles that aggregate into admin/edit/view) redistributes permissions',
      anyOf: [
        ...each(['create', 'update', 'patch'], [[RBAC, 'roles'], [RBAC, 'rolebindings']]),
        ...each(['create', 'update', 'patch'], [[RBAC, 'clusterroles', { clusterOnly: true }], [RBAC, 'clusterrolebindings', { clusterOnly: true }]]),
      ],
    },
    {
      id: 'nodes-proxy',
      severity: 'critical',
      why: 'nodes/proxy reaches the kubelet API (exec in every pod of the node, unaudited); get alone is enough',
      anyOf: each(['get', 'create', 'update', 'patch', 'delete'], [['', 'nodes', { subresource: 'proxy', name: ANY_NAME, clusterOnly: true }]]),
    },
    {
      id: 'csr-approve',
      severity: 'critical',
      why: 'create and approve CertificateSigningRequests mints client certificates for any identity',
      anyOf: [[
        r('create', 'certificates.k8s.io', 'certificatesigningrequests', { clusterOnly: true }),
        r('update', 'certificates.k8s.io', 'certificatesigningrequests', { subresource: 'approval', name: ANY_NAME, clusterOnly: true }),
        r('approve', 'certificates.k8s.io', 'signers', { name: ANY_NAME, clusterOnly: true }),
      ]],
    },
    {
      id: 'admission-control-write',
      severity: 'high',
      why: 'writing admission webhooks or policies reads or rewrites every admitted object, or switches the guard rails off',
      anyOf: each(['create', 'update', 'patch', 'delete'], [
        ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', { name: ANY_NAME, clusterOnly: true }],
        ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', { name: ANY_NAME, clusterOnly: true }],
        ['admissionregistration.k8s.io', 'validatingadmissionpolicies', { name: ANY_NAME, clusterOnly: true }],
        ['admissionregistration.k8s.io', 'validatingadmissionpolicybindings', { name: ANY_NAME, clusterOnly: true }],
        // MutatingAdmissionPolicy is served as admissionregistration.k8s.io/v1 in 1.36.
        ['admissionregistration.k8s.io', 'mutatingadmissionpolicies', { name: ANY_NAME, clusterOnly: true }],
        ['admissionregistration.k8s.io', 'mutatingadmissionpolicybindings', { name: ANY_NAME, clusterOnly: true }],
      ]).map((alt) => alt.map((p) => (p.attrs.verb === 'create' ? { ...p, attrs: { ...p.attrs, name: undefined } as ResourceAttributes } : p))),
    },
    {
      id: 'crd-write',
      severity: 'medium',
      why: 'writing CustomResourceDefinitions changes or removes the API of every controller built on them',
      anyOf: each(['create', 'update', 'patch'], [['apiextensions.k8s.io', 'customresourcedefinitions', { clusterOnly: true }]]).map((alt) =>
        alt.map((p) => (p.attrs.verb === 'create' ? p : { ...p, attrs: { ...p.attrs, name: ANY_NAME } as ResourceAttributes }))),
    },
    {
      id: 'persistentvolumes-create',
      severity: 'high',
      why: 'a hostPath PersistentVolume mounts the node\'s filesystem into a pod',
      anyOf: [[r('create', '', 'persistentvolumes', { clusterOnly: true })]],
    },
    {
      id: 'namespace-modify',
      severity: 'medium',
      clusterSeverity: 'high',
      why: 'relabelling a namespace switches Pod Security enforcement off or changes NetworkPolicy selection',
      anyOf: each(['update', 'patch'], [['', 'namespaces', named]]),
    },
  ];
}

function firstAllowing(grants: readonly Grant[], idx: readonly number[], attrs: Probe['attrs']): { i: number; named: boolean } | undefined {
  for (const i of idx) for (const rule of grants[i]!.rules) if (ruleAllows(attrs as ResourceAttributes, rule)) return { i, named: (rule.resourceNames ?? []).length > 0 };
  return undefined;
}

/** A hit before it is described for one subject: indexes into the grant list it was computed from. */
export interface RawHit {
  id: string;
  severity: Severity;
  why: string;
  scope: string;
  namedOnly: boolean;
  grantIdx: number[];
}

function evaluate(grants: readonly Grant[], catalogue: readonly DangerousPermission[]): RawHit[] {
  const clusterIdx: number[] = [];
  const byNs = new Map<string, number[]>();
  grants.forEach((g, i) => {
    if (g.scope === '') clusterIdx.push(i);
    else (byNs.get(g.scope) ?? byNs.set(g.scope, []).get(g.scope)!).push(i);
  });
  const hits: RawHit[] = [];
  for (const entry of catalogue) {
    const evalScope = (idx: readonly number[], namespaceScope: boolean): { grantIdx: number[]; namedOnly: boolean } | undefined => {
      for (const alt of entry.anyOf) {
        if (namespaceScope && alt.some((p) => p.clusterOnly)) continue;
        const found = alt.map((p) => firstAllowing(grants, idx, p.attrs));
        if (found.every((f) => f)) return { grantIdx: [...new Set(found.map((f) => f!.i))], namedOnly: found.every((f) => f!.named) };
      }
      return undefined;
    };
    const cluster = evalScope(clusterIdx, false);
    if (cluster) {
      hits.push({ id: entry.id, severity: entry.clusterSeverity ?? entry.severity, why: entry.why, scope: '', ...cluster });
      continue;
    }
    for (const [ns, idx] of byNs) {
      const h = evalScope([...clusterIdx, ...idx], true);
      if (h) hits.push({ id: entry.id, severity: entry.severity, why: entry.why, scope: ns, ...h });
    }
  }
  return hits;
}

// By content, not identity: every namespace's own copy of the same Role (the usual layout) gets one id, so
// their service accounts share one evaluation (the evaluation reads nothing but the rules and the scopes).
const ruleSetIds = new WeakMap<readonly unknown[], number>();
const ruleSetIdByContent = new Map<string, number>();
const ruleSetId = (rules: readonly unknown[]): number => {
  let id = ruleSetIds.get(rules);
  if (id === undefined) {
    const content = JSON.stringify(rules);
    id = ruleSetIdByContent.get(content);
    if (id === undefined) ruleSetIdByContent.set(content, (id = ruleSetIdByContent.size));
    ruleSetIds.set(rules, id);
  }
  return id;
};

/**
 * Dangerous permissions held through `grants`: once with the cluster-wide grants (scope ''), then per namespace
 * with the cluster-wide grants plus that namespace's RoleBindings (only what is new there is reported).
 * `memo` shares the evaluation between subjects whose grants have the same roles and scopes (every
 * ServiceAccount reached by the same group bindings), so a cluster costs O(distinct grant sets), not O(SAs).
 */
export function findDangerousIn(grants: readonly Grant[], catalogue: readonly DangerousPermission[], memo?: Map<string, RawHit[]>): DangerousHit[] {
  // The key names namespaces by order of appearance, so SAs of different namespaces with the same shape of
  // grants (the usual case: one Role per namespace) share one evaluation.
  const local = new Map<string, string>();
  const localOf = (ns: string): string => {
    if (ns === '') return '';
    let l = local.get(ns);
    if (l === undefined) local.set(ns, (l = `\u0000${local.size}`));
    return l;
  };
  const scopes = grants.map((g) => localOf(g.scope));
  const key = memo ? grants.map((g, i) => `${scopes[i]!}#${ruleSetId(g.rules)}`).join(',') : '';
  let raw = memo?.get(key);
  if (!raw) {
    // Copies with local scopes are made only when evaluating: most subjects find their shape in the memo.
    raw = evaluate(grants.map((g, i) => ({ ...g, scope: scopes[i]! })), catalogue);
    memo?.set(key, raw);
  }
  const back = new Map([...local].map(([ns, l]) => [l, ns]));
  // One grant (the usual case): its shared description itself, not a joined copy of it.
  return raw.map(({ grantIdx, ...h }) => ({ ...h, scope: h.scope === '' ? '' : back.get(h.scope)!, via: grantIdx.length === 1 ? describeGrant(grants[grantIdx[0]!]!) : grantIdx.map((i) => describeGrant(grants[i]!)).join('; ') }));
}

/** Same as findDangerousIn, with the grants split as cluster-wide and per namespace. */
export function findDangerous(clusterGrants: readonly Grant[], namespaceGrants: ReadonlyMap<string, readonly Grant[]>, catalogue: readonly DangerousPermission[]): DangerousHit[] {
  return findDangerousIn([...clusterGrants, ...[...namespaceGrants.values()].flat()], catalogue);
}
