// Deterministic generator of realistic clusters for the benchmarks (`npm run gen -- --pods N`).
//
// Output is byte-for-byte what `kubectl get <kinds> -A -o json` prints: a `List` marshalled by Go's
// json.MarshalIndent with 4 spaces. kubectl prints unstructured objects (Go maps), so keys come out
// sorted by byte order, `<`, `>`, `&` are escaped as \u003c…, and managedFields are stripped (kubectl
// ≥ 1.21). Pods are written as the API server stores them after the ServiceAccount admission plugin
// ran: `serviceAccountName` defaulted, a `kube-api-access-xxxxx` projected volume and its mount in
// every container exactly when automount is on (pod field wins over the SA field, default true).
// Workload templates are NOT mutated (admission only touches Pods), so they carry no such volume.
//
// The whole cluster is described by small per-workload records; every pod is re-derived from its
// workload's own seed when it is written, so 150,000 pods (> 1 GB) never sit in memory at once.
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as yamlStringify } from 'yaml';

// ---------------------------------------------------------------- PRNG

/** sfc32: small, fast, good enough statistically, and identical on every platform. */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number | string) {
    // Seed via a string hash so `--seed foo` and `--seed 42` both work.
    let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
    const s = String(seed);
    for (let i = 0; i < s.length; i++) {
      const k = s.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    this.a = h1 >>> 0; this.b = h2 >>> 0; this.c = h3 >>> 0; this.d = h4 >>> 0;
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** [0, 1) */
  next(): number { return this.u32() / 4294967296; }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.next() * xs.length)];
    if (x === undefined) throw new Error('pick from empty list');
    return x;
  }
  /** Characters the API server uses for generated names (k8s.io/apimachinery/pkg/util/rand). */
  suffix(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += SAFE_ALPHABET[this.u32() % SAFE_ALPHABET.length];
    return s;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += HEX[this.u32() & 15];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${HEX[8 + (this.u32() & 3)]}${this.hex(3)}-${this.hex(12)}`;
  }
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const HEX = '0123456789abcdef';

// ---------------------------------------------------------------- tiers and options

export interface GenOptions {
  pods: number;
  namespaces: number;
  nodes: number;
  /** RoleBindings per namespace (2 → T4's 20,000 over 10,000 namespaces). */
  roleBindingsPerNamespace: number;
  clusterRoles: number;
  clusterRoleBindings: number;
  seed: string;
  /** Include Deployment/ReplicaSet/StatefulSet/DaemonSet/Job/CronJob objects next to their pods. */
  workloads: boolean;
}

export const TIERS: Record<string, Omit<GenOptions, 'seed'>> = {
  T0: { pods: 100, namespaces: 10, nodes: 10, roleBindingsPerNamespace: 2, clusterRoles: 20, clusterRoleBindings: 20, workloads: true },
  T1: { pods: 1_000, namespaces: 100, nodes: 50, roleBindingsPerNamespace: 2, clusterRoles: 50, clusterRoleBindings: 50, workloads: true },
  T2: { pods: 10_000, namespaces: 1_000, nodes: 500, roleBindingsPerNamespace: 2, clusterRoles: 191, clusterRoleBindings: 171, workloads: true },
  T3: { pods: 50_000, namespaces: 3_000, nodes: 1_500, roleBindingsPerNamespace: 2, clusterRoles: 721, clusterRoleBindings: 676, workloads: true },
  T4: { pods: 150_000, namespaces: 10_000, nodes: 5_000, roleBindingsPerNamespace: 2, clusterRoles: 1_000, clusterRoleBindings: 1_000, workloads: true },
};

/** Options for an arbitrary pod count, scaled like the tiers (10–15 pods per namespace). */
export function optionsForPods(pods: number, seed = '1'): GenOptions {
  const namespaces = Math.max(1, Math.min(10_000, Math.round(pods / 10)));
  return {
    pods, namespaces, nodes: Math.max(1, Math.round(pods / 30)), roleBindingsPerNamespace: 2,
    clusterRoles: Math.max(8, Math.round(namespaces / 10)), clusterRoleBindings: Math.max(8, Math.round(namespaces / 10)),
    seed, workloads: true,
  };
}

// ---------------------------------------------------------------- model (small records only)

const APPS = ['api', 'web', 'worker', 'cache', 'gateway', 'auth', 'billing', 'search', 'ingest', 'notifier',
  'scheduler', 'reports', 'frontend', 'backend', 'metrics', 'mailer', 'checkout', 'catalog', 'orders', 'profile'];
const TEAMS = ['payments', 'platform', 'data', 'ml', 'growth', 'identity', 'storage', 'edge', 'mobile', 'infra'];
const IMAGES = ['nginx:1.27.3', 'redis:7.4.1', 'postgres:16.6', 'python:3.12-slim', 'node:22-alpine',
  'golang:1.23', 'busybox:1.37', 'envoyproxy/envoy:v1.32.1', 'grafana/grafana:11.3.0', 'bitnami/kafka:3.9'];
const BASE_TIME = Date.UTC(2026, 9, 1, 8, 0, 0);

type WorkloadKindName = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job' | 'Pod';

interface SaRecord { name: string; uid: string; automount: boolean | undefined; tokenSecret?: string }

interface NsRecord {
  name: string; uid: string; team: string; sas: SaRecord[];
}

interface WorkloadRecord {
  kind: WorkloadKindName;
  ns: number;
  name: string;
  uid: string;
  sa: string;
  saAutomount: boolean | undefined;
  podAutomount: boolean | undefined;
  replicas: number;
  seed: number;
  created: number;
  /** ReplicaSet / Job name and uid that own the pods (Deployment, CronJob). */
  midName?: string; midUid?: string;
  /** An extra projected token with a custom audience (vault-style) even when automount is off. */
  customToken: boolean;
  /** A legacy token Secret mounted as a plain secret volume. */
  legacySecret?: string;
}

export interface Cluster {
  opts: GenOptions;
  namespaces: NsRecord[];
  workloads: WorkloadRecord[];
  nodeNames: string[];
}

export interface GenCounts {
  pods: number; podsWithInjectedToken: number; namespaces: number; serviceAccounts: number; secrets: number;
  deployments: number; replicaSets: number; statefulSets: number; daemonSets: number; jobs: number; cronJobs: number;
  roles: number; roleBindings: number; clusterRoles: number; clusterRoleBindings: number; items: number; bytes: number;
}

export function effectiveAutomount(w: Pick<WorkloadRecord, 'podAutomount' | 'saAutomount'>): boolean {
  // ServiceAccount admission `shouldAutomount`: pod field wins, then SA field, default true.
  return w.podAutomount ?? w.saAutomount ?? true;
}

export function planCluster(opts: GenOptions): Cluster {
  const rng = new Rng(`${opts.seed}/plan`);
  const namespaces: NsRecord[] = [];
  namespaces.push({ name: 'kube-system', uid: rng.uuid(), team: 'platform', sas: [
    { name: 'default', uid: rng.uuid(), automount: undefined },
    { name: 'kube-proxy', uid: rng.uuid(), automount: undefined },
    { name: 'coredns', uid: rng.uuid(), automount: undefined },
  ] });
  for (let i = 1; i < opts.namespaces; i++) {
    const team = rng.pick(TEAMS);
    const app = rng.pick(APPS);
    const name = `${team}-${app}-${i.toString().padStart(5, '0')}`;
    const sas: SaRecord[] = [
      // 10 % of namespaces turn automount off on `default`, the de-facto namespace default.
      { name: 'default', uid: rng.uuid(), automount: rng.chance(0.1) ? false : undefined },
      { name: `${app}`, uid: rng.uuid(), automount: rng.chance(0.1) ? true : undefined },
      { name: `${app}-reader`, uid: rng.uuid(), automount: false },
    ];
    // 5 % of namespaces keep a pre-1.24 legacy token Secret for their app SA.
    const appSa = sas[1];
    if (appSa && rng.chance(0.05)) appSa.tokenSecret = `${app}-token-${rng.suffix(5)}`;
    namespaces.push({ name, uid: rng.uuid(), team, sas });
  }
  const nodeNames: string[] = [];
  for (let i = 0; i < opts.nodes; i++) nodeNames.push(`ip-10-${(i >> 8) & 255}-${i & 255}-${rng.int(1, 254)}.ec2.internal`);

  const workloads: WorkloadRecord[] = [];
  let podsLeft = opts.pods;
  const used = new Set<string>();
  // kube-system: a kube-proxy DaemonSet over (up to) every node, as real clusters have.
  if (opts.namespaces > 0 && podsLeft > 0) {
    const n = Math.min(opts.nodes, Math.max(1, Math.floor(opts.pods * 0.03)), podsLeft);
    workloads.push({ kind: 'DaemonSet', ns: 0, name: 'kube-proxy', uid: rng.uuid(), sa: 'kube-proxy', saAutomount: undefined,
      podAutomount: undefined, replicas: n, seed: rng.u32(), created: BASE_TIME - 86400_000 * 90, customToken: false });
    podsLeft -= n;
  }
  let nsIdx = 0;
  while (podsLeft > 0) {
    nsIdx = opts.namespaces > 1 ? 1 + ((nsIdx) % (opts.namespaces - 1)) : 0;
    const nsI = nsIdx;
    nsIdx++;
    const ns = namespaces[nsI];
    if (!ns) throw new Error('namespace index out of range');
    const r = rng.next();
    const kind: WorkloadKindName = r < 0.62 ? 'Deployment' : r < 0.75 ? 'StatefulSet' : r < 0.80 ? 'DaemonSet'
      : r < 0.88 ? 'CronJob' : r < 0.94 ? 'Job' : 'Pod';
    let replicas = kind === 'Deployment' ? rng.pick([1, 1, 2, 2, 2, 3, 3, 4, 5])
      : kind === 'StatefulSet' ? rng.pick([1, 2, 3, 3]) : kind === 'DaemonSet' ? rng.int(1, 3) : 1;
    replicas = Math.min(replicas, podsLeft);
    podsLeft -= replicas;
    const saR = rng.next();
    const sa = saR < 0.33 ? ns.sas[0] : saR < 0.8 ? ns.sas[1] : ns.sas[2];
    if (!sa) throw new Error('no SA');
    const aR = rng.next();
    const podAutomount = aR < 0.05 ? false : aR < 0.07 ? true : undefined;
    let base = `${rng.pick(APPS)}-${rng.pick(['svc', 'api', 'job', 'sync', 'ui', 'core', 'proxy'])}`;
    if (used.has(`${nsI}/${kind}/${base}`)) base = `${base}-${rng.suffix(4)}`;
    used.add(`${nsI}/${kind}/${base}`);
    const w: WorkloadRecord = {
      kind, ns: nsI, name: base, uid: rng.uuid(), sa: sa.name, saAutomount: sa.automount, podAutomount,
      replicas, seed: rng.u32(), created: BASE_TIME - rng.int(0, 86400 * 60) * 1000, customToken: rng.chance(0.02),
    };
    if (sa.tokenSecret && rng.chance(0.5)) w.legacySecret = sa.tokenSecret;
    if (kind === 'Deployment') { w.midName = `${base}-${rng.suffix(10)}`; w.midUid = rng.uuid(); }
    if (kind === 'CronJob') { w.midName = `${base}-${29_000_000 + rng.int(0, 999_999)}`; w.midUid = rng.uuid(); }
    workloads.push(w);
  }
  return { opts, namespaces, workloads, nodeNames };
}

// ---------------------------------------------------------------- object builders
// Keys are written in Go's map order (byte order) because kubectl marshals unstructured maps;
// test/bench/gen.test.ts re-sorts a parsed dump and checks the bytes are unchanged.

function ts(ms: number): string { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

function labelsFor(w: WorkloadRecord): Record<string, string> {
  return { 'app.kubernetes.io/instance': w.name, 'app.kubernetes.io/name': w.name.split('-')[0] ?? w.name };
}

function containerFor(w: WorkloadRecord, rng: Rng, idx: number, injected: string | undefined, extraMounts: object[]): Record<string, unknown> {
  const name = idx === 0 ? (w.name.split('-')[0] ?? 'app') : 'sidecar';
  const port = idx === 0 ? rng.pick([8080, 8443, 9090, 3000, 5432, 6379]) : 15090;
  const env: object[] = [{ name: 'LOG_LEVEL', value: rng.pick(['info', 'debug', 'warn']) }];
  if (rng.chance(0.5)) env.push({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } });
  if (idx === 0 && rng.chance(0.15)) env.push({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { key: 'password', name: `${w.name}-db` } } });
  const mounts: object[] = [{ mountPath: '/etc/config', name: 'config', readOnly: true }, ...extraMounts];
  if (injected) mounts.push({ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: injected, readOnly: true });
  const probe = (path: string, delay: number) => ({
    failureThreshold: 3, httpGet: { path, port, scheme: 'HTTP' }, initialDelaySeconds: delay,
    periodSeconds: 10, successThreshold: 1, timeoutSeconds: 1,
  });
  const c: Record<string, unknown> = {};
  if (idx > 0 || rng.chance(0.3)) c.args = idx === 0 ? ['--config=/etc/config/app.yaml', `--port=${port}`] : ['proxy', 'sidecar'];
  Object.assign(c, {
    env,
    image: idx === 0 ? `registry.example.com/${w.name.split('-')[0] ?? 'app'}:${rng.int(1, 9)}.${rng.int(0, 30)}.${rng.int(0, 9)}` : IMAGES[rng.int(0, IMAGES.length - 1)],
    imagePullPolicy: 'IfNotPresent',
  });
  if (rng.chance(0.4)) c.livenessProbe = probe('/healthz', 15);
  c.name = name;
  c.ports = [{ containerPort: port, name: idx === 0 ? 'http' : 'metrics', protocol: 'TCP' }];
  if (rng.chance(0.15)) c.readinessProbe = probe('/readyz', 5);
  c.resources = { limits: { cpu: rng.pick(['500m', '1', '2']), memory: rng.pick(['256Mi', '512Mi', '1Gi']) },
    requests: { cpu: rng.pick(['50m', '100m', '250m']), memory: rng.pick(['64Mi', '128Mi', '256Mi']) } };
  const sc = rng.next();
  if (sc < 0.3) c.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true };
  else if (sc < 0.6) c.securityContext = { runAsNonRoot: true };
  c.terminationMessagePath = '/dev/termination-log';
  c.terminationMessagePolicy = 'File';
  c.volumeMounts = mounts;
  return c;
}

/** The pod spec; `injected` is the kube-api-access volume name for admitted pods (undefined in templates or when automount is off). */
function podSpecFor(w: WorkloadRecord, ns: NsRecord, rng: Rng, opts: { admitted: boolean; injected?: string; nodeName?: string; podName?: string }): Record<string, unknown> {
  const sidecar = rng.chance(0.1);
  const extraMounts: object[] = [];
  const volumes: object[] = [{ configMap: { defaultMode: 420, name: `${w.name}-config` }, name: 'config' }];
  if (w.customToken) {
    extraMounts.push({ mountPath: '/var/run/secrets/vault', name: 'vault-token', readOnly: true });
    volumes.push({ name: 'vault-token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'token' } }] } });
  }
  if (w.legacySecret) {
    extraMounts.push({ mountPath: '/var/run/secrets/legacy', name: 'legacy-token', readOnly: true });
    volumes.push({ name: 'legacy-token', secret: { defaultMode: 420, secretName: w.legacySecret } });
  }
  if (opts.injected) {
    volumes.push({ name: opts.injected, projected: { defaultMode: 420, sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
      { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
    ] } });
  }
  const containers = [containerFor(w, rng, 0, opts.injected, extraMounts)];
  if (sidecar) containers.push(containerFor(w, rng, 1, opts.injected, []));
  const spec: Record<string, unknown> = {};
  if ((w.kind === 'Deployment' || w.kind === 'StatefulSet') && rng.chance(0.15)) {
    spec.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ podAffinityTerm: {
      labelSelector: { matchLabels: { 'app.kubernetes.io/instance': w.name } }, topologyKey: 'kubernetes.io/hostname' }, weight: 100 }] } };
  }
  if (w.podAutomount !== undefined) spec.automountServiceAccountToken = w.podAutomount;
  spec.containers = containers;
  spec.dnsPolicy = 'ClusterFirst';
  spec.enableServiceLinks = true;
  if (w.kind === 'StatefulSet' && opts.podName) spec.hostname = opts.podName;
  if (opts.nodeName) spec.nodeName = opts.nodeName;
  if (opts.admitted) { spec.preemptionPolicy = 'PreemptLowerPriority'; spec.priority = 0; }
  spec.restartPolicy = w.kind === 'Job' || w.kind === 'CronJob' ? 'OnFailure' : 'Always';
  spec.schedulerName = 'default-scheduler';
  spec.securityContext = rng.chance(0.5) ? { fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } } : {};
  // Admission fills the deprecated alias too; templates as written usually carry only the name.
  if (opts.admitted) { spec.serviceAccount = w.sa; spec.serviceAccountName = w.sa; }
  else if (w.sa !== 'default') { spec.serviceAccount = w.sa; spec.serviceAccountName = w.sa; }
  if (w.kind === 'StatefulSet' && opts.podName) spec.subdomain = w.name;
  spec.terminationGracePeriodSeconds = 30;
  if (opts.admitted) {
    spec.tolerations = [
      { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
      { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
    ];
    if (w.kind === 'DaemonSet') spec.tolerations = [
      { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
      { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists' },
      { effect: 'NoSchedule', key: 'node.kubernetes.io/disk-pressure', operator: 'Exists' },
      { effect: 'NoSchedule', key: 'node.kubernetes.io/memory-pressure', operator: 'Exists' },
    ];
  }
  spec.volumes = volumes;
  void ns;
  return spec;
}

function podStatus(w: WorkloadRecord, rng: Rng, spec: Record<string, unknown>, started: number, nodeIp: string): Record<string, unknown> {
  const done = w.kind === 'Job' || w.kind === 'CronJob';
  const t = ts(started);
  const t2 = ts(started + 4000);
  const podIp = `10.${rng.int(64, 127)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
  const containers = spec.containers as { name: string; image: string; volumeMounts: { mountPath: string; name: string; readOnly?: boolean }[] }[];
  const statuses = containers.map((c) => ({
    containerID: `containerd://${rng.hex(64)}`,
    image: c.image.includes('/') && !c.image.startsWith('registry.') ? `docker.io/${c.image}` : c.image.includes('/') ? c.image : `docker.io/library/${c.image}`,
    imageID: `${c.image.split(':')[0]}@sha256:${rng.hex(64)}`,
    lastState: {},
    name: c.name,
    ready: !done,
    restartCount: rng.chance(0.9) ? 0 : rng.int(1, 7),
    started: !done,
    state: done
      ? { terminated: { containerID: `containerd://${rng.hex(64)}`, exitCode: 0, finishedAt: ts(started + 60_000), reason: 'Completed', startedAt: t2 } }
      : { running: { startedAt: t2 } },
  }));
  const cond = (type: string, status: string, at: string, reason?: string) => reason
    ? { lastProbeTime: null, lastTransitionTime: at, reason, status, type } : { lastProbeTime: null, lastTransitionTime: at, status, type };
  return {
    conditions: [
      cond('PodReadyToStartContainers', done ? 'False' : 'True', t2),
      cond('Initialized', 'True', t, done ? 'PodCompleted' : undefined),
      cond('Ready', done ? 'False' : 'True', t2, done ? 'PodCompleted' : undefined),
      cond('ContainersReady', done ? 'False' : 'True', t2, done ? 'PodCompleted' : undefined),
      cond('PodScheduled', 'True', t),
    ],
    containerStatuses: statuses,
    hostIP: nodeIp,
    hostIPs: [{ ip: nodeIp }],
    phase: done ? 'Succeeded' : 'Running',
    podIP: podIp,
    podIPs: [{ ip: podIp }],
    qosClass: 'Burstable',
    startTime: t,
  };
}

function ownerRef(apiVersion: string, kind: string, name: string, uid: string): Record<string, unknown> {
  return { apiVersion, blockOwnerDeletion: true, controller: true, kind, name, uid };
}

function podObject(c: Cluster, w: WorkloadRecord, i: number, rng: Rng, rv: number): { pod: Record<string, unknown>; injected: boolean } {
  const ns = c.namespaces[w.ns]!;
  let name: string;
  let owner: Record<string, unknown> | undefined;
  const labels: Record<string, string> = labelsFor(w);
  switch (w.kind) {
    case 'Deployment': {
      const hash = w.midName!.slice(w.name.length + 1);
      name = `${w.midName}-${rng.suffix(5)}`;
      owner = ownerRef('apps/v1', 'ReplicaSet', w.midName!, w.midUid!);
      labels['pod-template-hash'] = hash;
      break;
    }
    case 'StatefulSet':
      name = `${w.name}-${i}`;
      owner = ownerRef('apps/v1', 'StatefulSet', w.name, w.uid);
      labels['apps.kubernetes.io/pod-index'] = String(i);
      labels['controller-revision-hash'] = `${w.name}-${rng.suffix(10)}`;
      labels['statefulset.kubernetes.io/pod-name'] = name;
      break;
    case 'DaemonSet':
      name = `${w.name}-${rng.suffix(5)}`;
      owner = ownerRef('apps/v1', 'DaemonSet', w.name, w.uid);
      labels['controller-revision-hash'] = rng.suffix(10);
      labels['pod-template-generation'] = '1';
      break;
    case 'CronJob':
      name = `${w.midName}-${rng.suffix(5)}`;
      owner = ownerRef('batch/v1', 'Job', w.midName!, w.midUid!);
      labels['batch.kubernetes.io/controller-uid'] = w.midUid!;
      labels['batch.kubernetes.io/job-name'] = w.midName!;
      labels['controller-uid'] = w.midUid!;
      labels['job-name'] = w.midName!;
      break;
    case 'Job':
      name = `${w.name}-${rng.suffix(5)}`;
      owner = ownerRef('batch/v1', 'Job', w.name, w.uid);
      labels['batch.kubernetes.io/controller-uid'] = w.uid;
      labels['batch.kubernetes.io/job-name'] = w.name;
      labels['controller-uid'] = w.uid;
      labels['job-name'] = w.name;
      break;
    default:
      name = i === 0 ? w.name : `${w.name}-${i}`;
  }
  const injected = effectiveAutomount(w) ? `kube-api-access-${rng.suffix(5)}` : undefined;
  const nodeIdx = rng.int(0, c.nodeNames.length - 1);
  const nodeName = c.nodeNames[nodeIdx]!;
  const nodeIp = `10.0.${(nodeIdx >> 8) & 255}.${nodeIdx & 255}`;
  const spec = podSpecFor(w, ns, rng, { admitted: true, injected, nodeName, podName: name });
  const created = w.created + rng.int(0, 86400) * 1000;
  const metadata: Record<string, unknown> = {};
  if (rng.chance(0.3)) metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': ts(created - 3600_000) };
  metadata.creationTimestamp = ts(created);
  if (w.kind !== 'Pod' && w.kind !== 'StatefulSet') metadata.generateName = name.slice(0, name.length - 5);
  metadata.labels = sortObj(labels);
  metadata.name = name;
  metadata.namespace = ns.name;
  if (owner) metadata.ownerReferences = [owner];
  metadata.resourceVersion = String(rv);
  metadata.uid = rng.uuid();
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata, spec, status: podStatus(w, rng, spec, created + 2000, nodeIp) };
  return { pod, injected: injected !== undefined };
}

function sortObj<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out as T;
}

function templateFor(w: WorkloadRecord, ns: NsRecord, rng: Rng, extraLabels: Record<string, string> = {}): Record<string, unknown> {
  return {
    metadata: { creationTimestamp: null, labels: sortObj({ ...labelsFor(w), ...extraLabels }) },
    spec: podSpecFor(w, ns, rng, { admitted: false }),
  };
}

function meta(ns: NsRecord | undefined, name: string, uid: string, created: number, rv: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const m: Record<string, unknown> = { ...extra, creationTimestamp: ts(created), name };
  if (ns) m.namespace = ns.name;
  m.resourceVersion = String(rv);
  m.uid = uid;
  return sortObj(m);
}

/** Deployment/ReplicaSet/… objects of one workload (pod templates are never admitted). */
function workloadObjects(c: Cluster, w: WorkloadRecord, rv: () => number): { kind: string; obj: Record<string, unknown> }[] {
  const ns = c.namespaces[w.ns]!;
  const rng = new Rng(`${c.opts.seed}/tpl/${w.seed}`);
  const sel = { matchLabels: labelsFor(w) };
  const gen = rng.int(1, 9);
  const out: { kind: string; obj: Record<string, unknown> }[] = [];
  const ann = { 'deployment.kubernetes.io/revision': String(gen) };
  switch (w.kind) {
    case 'Deployment': {
      const tpl = templateFor(w, ns, rng);
      out.push({ kind: 'Deployment', obj: { apiVersion: 'apps/v1', kind: 'Deployment',
        metadata: meta(ns, w.name, w.uid, w.created, rv(), { annotations: ann, generation: gen, labels: labelsFor(w) }),
        spec: { progressDeadlineSeconds: 600, replicas: w.replicas, revisionHistoryLimit: 10, selector: sel,
          strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' }, template: tpl },
        status: { availableReplicas: w.replicas, conditions: [
          { lastTransitionTime: ts(w.created + 60_000), lastUpdateTime: ts(w.created + 60_000), message: 'Deployment has minimum availability.', reason: 'MinimumReplicasAvailable', status: 'True', type: 'Available' },
          { lastTransitionTime: ts(w.created), lastUpdateTime: ts(w.created + 60_000), message: `ReplicaSet "${w.midName}" has successfully progressed.`, reason: 'NewReplicaSetAvailable', status: 'True', type: 'Progressing' },
        ], observedGeneration: gen, readyReplicas: w.replicas, replicas: w.replicas, updatedReplicas: w.replicas } } });
      const hash = w.midName!.slice(w.name.length + 1);
      const rsTpl = { metadata: { creationTimestamp: null, labels: sortObj({ ...labelsFor(w), 'pod-template-hash': hash }) }, spec: tpl.spec };
      out.push({ kind: 'ReplicaSet', obj: { apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: meta(ns, w.midName!, w.midUid!, w.created, rv(), { annotations: { 'deployment.kubernetes.io/desired-replicas': String(w.replicas), 'deployment.kubernetes.io/max-replicas': String(w.replicas + 1), 'deployment.kubernetes.io/revision': String(gen) },
          generation: 1, labels: sortObj({ ...labelsFor(w), 'pod-template-hash': hash }), ownerReferences: [ownerRef('apps/v1', 'Deployment', w.name, w.uid)] }),
        spec: { replicas: w.replicas, selector: { matchLabels: sortObj({ ...labelsFor(w), 'pod-template-hash': hash }) }, template: rsTpl },
        status: { availableReplicas: w.replicas, fullyLabeledReplicas: w.replicas, observedGeneration: 1, readyReplicas: w.replicas, replicas: w.replicas } } });
      break;
    }
    case 'StatefulSet':
      out.push({ kind: 'StatefulSet', obj: { apiVersion: 'apps/v1', kind: 'StatefulSet',
        metadata: meta(ns, w.name, w.uid, w.created, rv(), { generation: 1, labels: labelsFor(w) }),
        spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' }, podManagementPolicy: 'OrderedReady',
          replicas: w.replicas, revisionHistoryLimit: 10, selector: sel, serviceName: w.name, template: templateFor(w, ns, rng),
          updateStrategy: { rollingUpdate: { partition: 0 }, type: 'RollingUpdate' } },
        status: { availableReplicas: w.replicas, collisionCount: 0, currentReplicas: w.replicas, currentRevision: `${w.name}-${rng.suffix(10)}`,
          observedGeneration: 1, readyReplicas: w.replicas, replicas: w.replicas, updateRevision: `${w.name}-${rng.suffix(10)}`, updatedReplicas: w.replicas } } });
      break;
    case 'DaemonSet':
      out.push({ kind: 'DaemonSet', obj: { apiVersion: 'apps/v1', kind: 'DaemonSet',
        metadata: meta(ns, w.name, w.uid, w.created, rv(), { annotations: { 'deprecated.daemonset.template.generation': '1' }, generation: 1, labels: labelsFor(w) }),
        spec: { revisionHistoryLimit: 10, selector: sel, template: templateFor(w, ns, rng),
          updateStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: 'RollingUpdate' } },
        status: { currentNumberScheduled: w.replicas, desiredNumberScheduled: w.replicas, numberAvailable: w.replicas, numberMisscheduled: 0,
          numberReady: w.replicas, observedGeneration: 1, updatedNumberScheduled: w.replicas } } });
      break;
    case 'CronJob': {
      const tpl = templateFor(w, ns, rng);
      out.push({ kind: 'CronJob', obj: { apiVersion: 'batch/v1', kind: 'CronJob',
        metadata: meta(ns, w.name, w.uid, w.created, rv(), { generation: 1, labels: labelsFor(w) }),
        spec: { concurrencyPolicy: 'Forbid', failedJobsHistoryLimit: 1, jobTemplate: { metadata: { creationTimestamp: null },
          spec: { backoffLimit: 6, template: tpl } }, schedule: `${rng.int(0, 59)} * * * *`, successfulJobsHistoryLimit: 3, suspend: false },
        status: { lastScheduleTime: ts(w.created + 3600_000), lastSuccessfulTime: ts(w.created + 3660_000) } } });
      out.push({ kind: 'Job', obj: jobObject(ns, w, w.midName!, w.midUid!, tpl, rv(), ownerRef('batch/v1', 'CronJob', w.name, w.uid)) });
      break;
    }
    case 'Job':
      out.push({ kind: 'Job', obj: jobObject(ns, w, w.name, w.uid, templateFor(w, ns, rng), rv(), undefined) });
      break;
    default:
  }
  return out;
}

function jobObject(ns: NsRecord, w: WorkloadRecord, name: string, uid: string, tpl: Record<string, unknown>, rv: number, owner: Record<string, unknown> | undefined): Record<string, unknown> {
  const jobLabels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
  const t = tpl as { metadata: { labels: Record<string, string> }; spec: unknown };
  return { apiVersion: 'batch/v1', kind: 'Job',
    metadata: meta(ns, name, uid, w.created, rv, { generation: 1, labels: sortObj({ ...labelsFor(w), ...jobLabels }), ...(owner ? { ownerReferences: [owner] } : {}) }),
    spec: { backoffLimit: 6, completionMode: 'NonIndexed', completions: 1, manualSelector: false, parallelism: 1, podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } }, suspend: false,
      template: { metadata: { creationTimestamp: null, labels: sortObj({ ...t.metadata.labels, ...jobLabels }) }, spec: t.spec } },
    status: { completionTime: ts(w.created + 60_000), conditions: [
      { lastProbeTime: ts(w.created + 60_000), lastTransitionTime: ts(w.created + 60_000), message: 'Reached expected number of succeeded pods', reason: 'CompletionsReached', status: 'True', type: 'SuccessCriteriaMet' },
      { lastProbeTime: ts(w.created + 60_000), lastTransitionTime: ts(w.created + 60_000), message: 'Reached expected number of succeeded pods', reason: 'CompletionsReached', status: 'True', type: 'Complete' },
    ], ready: 0, startTime: ts(w.created), succeeded: 1, terminating: 0, uncountedTerminatedPods: {} } };
}

// ---------------------------------------------------------------- RBAC

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function bootstrapClusterRoles(): { name: string; rules: object[] }[] {
  // admin holds everything edit does, plus RBAC writes and local access reviews (as aggregation makes it).
  const editRules = [
    { apiGroups: [''], resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], verbs: READ },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
    { apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], verbs: WRITE },
    { apiGroups: [''], resources: ['configmaps', 'persistentvolumeclaims', 'replicationcontrollers', 'secrets', 'serviceaccounts', 'services'], verbs: WRITE },
    { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
    { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: [...WRITE, ...READ] },
    { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: [...WRITE, ...READ] },
  ];
  return [
    { name: 'cluster-admin', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
    { name: 'admin', rules: [
      ...editRules,
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'], verbs: [...WRITE, ...READ] },
      { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
    ] },
    { name: 'edit', rules: editRules },
    { name: 'view', rules: [
      { apiGroups: [''], resources: ['configmaps', 'endpoints', 'persistentvolumeclaims', 'pods', 'replicationcontrollers', 'serviceaccounts', 'services'], verbs: READ },
      { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: READ },
      { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: READ },
    ] },
    { name: 'system:node-proxier', rules: [
      { apiGroups: [''], resources: ['endpoints', 'services'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: READ },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ] },
    { name: 'system:coredns', rules: [
      { apiGroups: [''], resources: ['endpoints', 'namespaces', 'pods', 'services'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ] },
  ];
}

/** Custom ClusterRoles: mostly harmless readers, some with the escalation-relevant permissions. */
function customRules(rng: Rng): object[] {
  const r = rng.next();
  const rules: object[] = [{ apiGroups: [''], resources: ['configmaps', 'services'], verbs: READ }];
  if (r < 0.10) rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] });
  else if (r < 0.14) rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] });
  else if (r < 0.17) rules.push({ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] });
  else if (r < 0.19) rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'roles'], verbs: ['bind', 'escalate'] });
  else if (r < 0.20) rules.push({ apiGroups: [''], resources: ['users', 'groups', 'serviceaccounts'], verbs: ['impersonate'] });
  else if (r < 0.24) rules.push({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'patch', 'update'] });
  else if (r < 0.26) rules.push({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] });
  else rules.push({ apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: READ });
  if (rng.chance(0.3)) rules.push({ apiGroups: ['coordination.k8s.io'], resourceNames: [`lock-${rng.suffix(6)}`], resources: ['leases'], verbs: ['get', 'update'] });
  return rules;
}

function rbacObjects(c: Cluster, emit: (kind: string, obj: Record<string, unknown>) => void, rv: () => number): void {
  const rng = new Rng(`${c.opts.seed}/rbac`);
  const rbacGv = 'rbac.authorization.k8s.io/v1';
  const created = BASE_TIME - 86400_000 * 30;
  // Roles: one per namespace.
  for (const ns of c.namespaces) {
    const rules: object[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: READ }, { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }];
    if (rng.chance(0.2)) rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    if (rng.chance(0.05)) rules.push({ apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete'] });
    emit('Role', { apiVersion: rbacGv, kind: 'Role', metadata: meta(ns, `${ns.sas[1]?.name ?? 'app'}-role`, rng.uuid(), created, rv()), rules });
  }
  const boot = bootstrapClusterRoles();
  const nCustom = Math.max(0, c.opts.clusterRoles - boot.length);
  const sub = (ns: NsRecord, name: string) => ({ kind: 'ServiceAccount', name, namespace: ns.name });
  const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });
  for (const ns of c.namespaces) {
    const app = ns.sas[1]?.name ?? 'app';
    for (let b = 0; b < c.opts.roleBindingsPerNamespace; b++) {
      let name: string; let roleRef: object; let subjects: object[];
      if (b === 0) { name = `${app}-role-binding`; roleRef = ref('Role', `${app}-role`); subjects = [sub(ns, app), sub(ns, `${app}-reader`)]; }
      else {
        const r = rng.next();
        if (r < 0.25) { name = `default-edit`; roleRef = ref('ClusterRole', 'edit'); subjects = [sub(ns, 'default')]; }
        else if (r < 0.5) { name = `team-view-${b}`; roleRef = ref('ClusterRole', 'view'); subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `team-${ns.team}` }]; }
        else if (r < 0.65) { name = `owner-admin-${b}`; roleRef = ref('ClusterRole', 'admin'); subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `${ns.team}-lead@example.com` }]; }
        else if (r < 0.8) { name = `all-sas-${b}`; roleRef = ref('Role', `${app}-role`); subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `system:serviceaccounts:${ns.name}` }]; }
        else if (nCustom > 0) { name = `custom-${b}`; roleRef = ref('ClusterRole', `custom-${rng.int(0, nCustom - 1)}`); subjects = [sub(ns, rng.pick([app, 'default']))]; }
        else { name = `default-view-${b}`; roleRef = ref('ClusterRole', 'view'); subjects = [sub(ns, 'default')]; }
      }
      emit('RoleBinding', { apiVersion: rbacGv, kind: 'RoleBinding', metadata: meta(ns, name, rng.uuid(), created, rv()), roleRef, subjects });
    }
  }
  for (const cr of boot) {
    emit('ClusterRole', { apiVersion: rbacGv, kind: 'ClusterRole', metadata: meta(undefined, cr.name, rng.uuid(), created, rv(), {
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' }, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }), rules: cr.rules });
  }
  for (let i = 0; i < nCustom; i++) {
    emit('ClusterRole', { apiVersion: rbacGv, kind: 'ClusterRole', metadata: meta(undefined, `custom-${i}`, rng.uuid(), created, rv(), { labels: { 'app.kubernetes.io/managed-by': 'Helm' } }), rules: customRules(rng) });
  }
  const nsCount = c.namespaces.length;
  for (let i = 0; i < c.opts.clusterRoleBindings; i++) {
    let name: string; let roleRef: object; let subjects: object[];
    if (i === 0) { name = 'cluster-admin'; roleRef = ref('ClusterRole', 'cluster-admin'); subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]; }
    else if (i === 1) { name = 'system:node-proxier'; roleRef = ref('ClusterRole', 'system:node-proxier'); subjects = [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: 'kube-system' }]; }
    else if (i === 2) { name = 'system:coredns'; roleRef = ref('ClusterRole', 'system:coredns'); subjects = [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }]; }
    else if (i === 3) { name = 'all-sas-view'; roleRef = ref('ClusterRole', 'view'); subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts' }]; }
    else {
      name = `custom-${i}-binding`;
      roleRef = ref('ClusterRole', nCustom > 0 ? `custom-${rng.int(0, nCustom - 1)}` : 'view');
      subjects = [];
      const n = rng.int(1, 3);
      for (let s = 0; s < n; s++) {
        const ns = c.namespaces[rng.int(0, nsCount - 1)]!;
        if (rng.chance(0.15)) subjects.push({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `team-${ns.team}` });
        else subjects.push(sub(ns, rng.pick(ns.sas).name));
      }
    }
    emit('ClusterRoleBinding', { apiVersion: rbacGv, kind: 'ClusterRoleBinding', metadata: meta(undefined, name, rng.uuid(), created, rv()), roleRef, subjects });
  }
}

// ---------------------------------------------------------------- kubectl List writer

/** Go's json.MarshalIndent escapes these; JSON.stringify does not. */
function goEscape(s: string): string {
  return /[<>&\u2028\u2029]/.test(s)
    ? s.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : s;
}

/** Buffered sink so the generator writes big chunks and never holds the whole document. */
export class ChunkWriter {
  private parts: string[] = [];
  private size = 0;
  bytes = 0;
  private readonly flushAt: number;
  private readonly out: (chunk: string) => void;
  constructor(out: (chunk: string) => void, flushAt = 1 << 22) { this.out = out; this.flushAt = flushAt; }
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.flushAt) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.bytes += Buffer.byteLength(chunk);
    this.out(chunk);
    this.parts = []; this.size = 0;
  }
}

/** Streams the whole cluster as one kubectl `List`; returns the counts. */
export function writeDump(opts: GenOptions, out: (chunk: string) => void): GenCounts {
  const c = planCluster(opts);
  const w = new ChunkWriter(out);
  const counts: GenCounts = { pods: 0, podsWithInjectedToken: 0, namespaces: 0, serviceAccounts: 0, secrets: 0, deployments: 0, replicaSets: 0,
    statefulSets: 0, daemonSets: 0, jobs: 0, cronJobs: 0, roles: 0, roleBindings: 0, clusterRoles: 0, clusterRoleBindings: 0, items: 0, bytes: 0 };
  const key: Record<string, keyof GenCounts> = { Pod: 'pods', Namespace: 'namespaces', ServiceAccount: 'serviceAccounts', Secret: 'secrets',
    Deployment: 'deployments', ReplicaSet: 'replicaSets', StatefulSet: 'statefulSets', DaemonSet: 'daemonSets', Job: 'jobs', CronJob: 'cronJobs',
    Role: 'roles', RoleBinding: 'roleBindings', ClusterRole: 'clusterRoles', ClusterRoleBinding: 'clusterRoleBindings' };
  let resourceVersion = 1_000_000;
  const rv = () => ++resourceVersion;
  let first = true;
  w.write('{\n    "apiVersion": "v1",\n    "items": [');
  const emit = (kind: string, obj: Record<string, unknown>) => {
    // Items sit two levels deep: every line of the object gets 8 more spaces.
    const body = goEscape(JSON.stringify(obj, null, 4)).replaceAll('\n', '\n        ');
    w.write(first ? '\n        ' : ',\n        ');
    w.write(body);
    first = false;
    counts[key[kind]!]++;
    counts.items++;
  };
  // Order as `kubectl get pods,serviceaccounts,secrets,deployments,replicasets,statefulsets,daemonsets,jobs,
  // cronjobs,namespaces,roles,rolebindings,clusterroles,clusterrolebindings -A -o json` prints: kind by kind.
  for (const wl of c.workloads) {
    const rng = new Rng(`${opts.seed}/pods/${wl.seed}`);
    for (let i = 0; i < wl.replicas; i++) {
      const { pod, injected } = podObject(c, wl, i, rng, rv());
      if (injected) counts.podsWithInjectedToken++;
      emit('Pod', pod);
    }
  }
  const created = BASE_TIME - 86400_000 * 45;
  for (const ns of c.namespaces) {
    for (const sa of ns.sas) {
      const obj: Record<string, unknown> = { apiVersion: 'v1' };
      if (sa.automount !== undefined) obj.automountServiceAccountToken = sa.automount;
      obj.kind = 'ServiceAccount';
      obj.metadata = meta(ns, sa.name, sa.uid, created, rv(), sa.name === 'default' ? {} : { labels: { 'app.kubernetes.io/name': sa.name } });
      if (sa.tokenSecret) obj.secrets = [{ name: sa.tokenSecret }];
      emit('ServiceAccount', obj);
    }
  }
  {
    const rng = new Rng(`${opts.seed}/secrets`);
    for (const ns of c.namespaces) for (const sa of ns.sas) {
      if (!sa.tokenSecret) continue;
      // Placeholder values: the generator never writes anything that looks like a real credential.
      emit('Secret', { apiVersion: 'v1', data: { 'ca.crt': 'UExBQ0VIT0xERVItQ0EtQ0VSVA==', namespace: Buffer.from(ns.name).toString('base64'), token: 'UExBQ0VIT0xERVItTk9ULUEtVE9LRU4=' },
        kind: 'Secret', metadata: meta(ns, sa.tokenSecret, rng.uuid(), created, rv(), { annotations: {
          'kubernetes.io/service-account.name': sa.name, 'kubernetes.io/service-account.uid': sa.uid },
          labels: { 'kubernetes.io/legacy-token-last-used': '2026-09-30' } }), type: 'kubernetes.io/service-account-token' });
    }
  }
  if (opts.workloads) {
    // kubectl prints kind by kind; emit each kind in its own pass over the workload records that
    // produce it (objects are re-derived from their seed rather than kept).
    const producers: Record<string, WorkloadKindName[]> = { Deployment: ['Deployment'], ReplicaSet: ['Deployment'],
      StatefulSet: ['StatefulSet'], DaemonSet: ['DaemonSet'], Job: ['Job', 'CronJob'], CronJob: ['CronJob'] };
    for (const [k, from] of Object.entries(producers)) {
      for (const wl of c.workloads) {
        if (!from.includes(wl.kind)) continue;
        for (const o of workloadObjects(c, wl, rv)) if (o.kind === k) emit(k, o.obj);
      }
    }
  }
  for (const ns of c.namespaces) {
    emit('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: meta(undefined, ns.name, ns.uid, created, rv(), {
      labels: { 'kubernetes.io/metadata.name': ns.name, team: ns.team } }), spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }
  rbacObjects(c, emit, rv);
  w.write(first ? '],\n' : '\n    ],\n');
  w.write('    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
  w.flush();
  counts.bytes = w.bytes;
  return counts;
}

export function writeDumpFile(opts: GenOptions, file: string): GenCounts {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.partial`;
  const fd = openSync(tmp, 'w');
  let counts: GenCounts;
  try { counts = writeDump(opts, (chunk) => { writeSync(fd, chunk); }); }
  finally { closeSync(fd); }
  // Rename only when complete so a reader never sees a half-written dump.
  renameSync(tmp, file);
  return counts;
}

// ---------------------------------------------------------------- manifests directory

/** `count` YAML documents, one per file, in per-namespace folders: Deployments, ServiceAccounts, Roles, RoleBindings. */
export function writeManifests(count: number, dir: string, seed: string): { files: number; deployments: number; serviceAccounts: number; roles: number; roleBindings: number; bytes: number } {
  const rng = new Rng(`${seed}/manifests`);
  const res = { files: 0, deployments: 0, serviceAccounts: 0, roles: 0, roleBindings: 0, bytes: 0 };
  // Each "app" contributes 4 docs: ServiceAccount, Role, RoleBinding, Deployment.
  const apps = Math.ceil(count / 4);
  const perNs = 5;
  for (let a = 0; a < apps && res.files < count; a++) {
    const nsIndex = Math.floor(a / perNs);
    const nsName = `${TEAMS[nsIndex % TEAMS.length]}-${String(nsIndex).padStart(4, '0')}`;
    const app = `${rng.pick(APPS)}-${a}`;
    const nsDir = join(dir, nsName);
    mkdirSync(nsDir, { recursive: true });
    const saMode = rng.next();
    const useDefault = saMode < 0.3;
    const saAutomount = saMode > 0.8 ? false : undefined;
    const podAutomount = rng.chance(0.1) ? false : undefined;
    const docs: [string, object, keyof typeof res][] = [];
    const sa: Record<string, unknown> = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: app, namespace: nsName, labels: { 'app.kubernetes.io/name': app } } };
    if (saAutomount !== undefined) sa.automountServiceAccountToken = saAutomount;
    docs.push([`${app}-serviceaccount.yaml`, sa, 'serviceAccounts']);
    const rules: object[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }];
    if (rng.chance(0.2)) rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] });
    docs.push([`${app}-role.yaml`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: app, namespace: nsName }, rules }, 'roles']);
    docs.push([`${app}-rolebinding.yaml`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: app, namespace: nsName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: app },
      subjects: [{ kind: 'ServiceAccount', name: useDefault ? 'default' : app, namespace: nsName }] }, 'roleBindings']);
    const podSpec: Record<string, unknown> = {};
    if (!useDefault) podSpec.serviceAccountName = app;
    if (podAutomount !== undefined) podSpec.automountServiceAccountToken = podAutomount;
    const port = rng.pick([8080, 8443, 9090, 3000]);
    podSpec.containers = [{ name: 'app', image: `registry.example.com/${app}:1.${rng.int(0, 30)}.${rng.int(0, 9)}`,
      ports: [{ containerPort: port, name: 'http' }],
      env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      livenessProbe: { httpGet: { path: '/healthz', port }, initialDelaySeconds: 10 },
      readinessProbe: { httpGet: { path: '/readyz', port } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
      volumeMounts: [{ name: 'config', mountPath: '/etc/config', readOnly: true }] }];
    podSpec.volumes = [{ name: 'config', configMap: { name: `${app}-config` } }];
    docs.push([`${app}-deployment.yaml`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: nsName, labels: { 'app.kubernetes.io/name': app } },
      spec: { replicas: rng.int(1, 4), selector: { matchLabels: { 'app.kubernetes.io/name': app } },
        template: { metadata: { labels: { 'app.kubernetes.io/name': app } }, spec: podSpec } } }, 'deployments']);
    for (const [file, obj, k] of docs) {
      if (res.files >= count) break;
      const text = `# ${file} — generated by bench/gen.ts (seed ${seed})\n${yamlStringify(obj)}`;
      writeFileSync(join(nsDir, file), text);
      res.files++; res[k]++; res.bytes += Buffer.byteLength(text);
    }
  }
  return res;
}

// ---------------------------------------------------------------- CLI

function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: {
    pods: { type: 'string' }, tier: { type: 'string' }, manifests: { type: 'string' }, out: { type: 'string' },
    seed: { type: 'string', default: '1' }, 'no-workloads': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
  } });
  if (values.help) {
    process.stdout.write('usage: npm run gen -- (--pods N | --tier T0..T4 | --manifests N) [--out DIR] [--seed S] [--no-workloads]\n'
      + '  writes DIR/dump.json (kubectl -o json List) and DIR/counts.json, or N YAML manifests under DIR\n');
    return;
  }
  const seed = values.seed ?? '1';
  if (values.manifests !== undefined) {
    const n = Number(values.manifests);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--manifests: not a positive integer: ${values.manifests}`);
    const dir = resolve(values.out ?? `bench/out/manifests-${n}`);
    const t0 = performance.now();
    const r = writeManifests(n, dir, seed);
    writeFileSync(join(dir, '..', `${dir.split('/').pop()}.counts.json`), JSON.stringify(r, null, 2) + '\n');
    process.stdout.write(`${dir}: ${JSON.stringify(r)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    if (values.pods === undefined && values.tier === undefined) return;
  }
  let opts: GenOptions;
  let label: string;
  if (values.tier !== undefined) {
    const t = TIERS[values.tier.toUpperCase()];
    if (!t) throw new Error(`--tier: unknown tier ${values.tier} (T0..T4)`);
    opts = { ...t, seed };
    if (values.pods !== undefined) opts.pods = Number(values.pods);
    label = values.tier.toUpperCase();
  } else if (values.pods !== undefined) {
    const n = Number(values.pods);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--pods: not a non-negative integer: ${values.pods}`);
    opts = optionsForPods(n, seed);
    label = `pods-${n}`;
  } else {
    throw new Error('give --pods N, --tier T0..T4 or --manifests N (see --help)');
  }
  if (values['no-workloads']) opts.workloads = false;
  const dir = resolve(values.out ?? `bench/out/${label}`);
  const t0 = performance.now();
  const counts = writeDumpFile(opts, join(dir, 'dump.json'));
  writeFileSync(join(dir, 'counts.json'), JSON.stringify({ options: opts, counts }, null, 2) + '\n');
  process.stdout.write(`${join(dir, 'dump.json')}: ${(counts.bytes / 1e6).toFixed(1)} MB, ${counts.pods} pods `
    + `(${(counts.bytes / Math.max(1, counts.pods + counts.deployments + counts.replicaSets + counts.statefulSets + counts.daemonSets + counts.jobs + counts.cronJobs) / 1000).toFixed(1)} KB/workload object), `
    + `${counts.items} items in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (import.meta.main) {
  try { main(process.argv.slice(2)); }
  catch (e) { process.stderr.write(`gen: ${(e as Error).message}\n`); process.exitCode = 2; }
}
