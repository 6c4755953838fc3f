// The fix plan on a live cluster: kubectl commands (dry run), or --apply with a server-side dry run of
// everything first, merge patches carrying the resourceVersion we read (a concurrent change → 409 → stop,
// exit 6), and a rollback file written as we go, so what was applied can always be undone.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Inventory, KubeObject } from '../inventory/types.ts';
import type { FixPlan, PlanNote, WorkloadRef } from './plan.ts';
import type { CliIO } from '../cli/io.ts';
import { EXIT, UserError } from '../cli/exit-codes.ts';
import type { ClusterOptions } from '../sources/cluster/index.ts';
import { writeFileAtomic } from './atomic-write.ts';

export interface LiveAction {
  op: 'patch' | 'create';
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** patch: the merge patch (without metadata). create: the object. */
  body: Record<string, unknown>;
  /** patch: the field paths it sets, with the value the plan expects to find there now (undefined = absent). */
  expect?: { path: string[]; value: unknown }[];
  /** resourceVersion the scan read, when the reader kept it. */
  resourceVersion?: string;
  reason: string;
}

export interface RollbackEntry {
  op: 'patch' | 'delete';
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** patch: merge patch restoring the previous values (null = the field was absent). */
  patch?: Record<string, unknown>;
  /** The resourceVersion our change produced (informational: controllers bump it with status updates). */
  resourceVersion?: string;
  /**
   * The values the fix set. The rollback re-reads the object and refuses to touch it when one of them was
   * changed since (someone else's later change wins), then patches with the version it read.
   */
  expect?: { path: string[]; value: unknown }[];
  kubectl: string;
}

export interface RollbackFile {
  apiVersion: 'kube-sa-audit.io/v1';
  kind: 'FixRollback';
  createdAt: string;
  context?: string;
  /** API server the fix was applied to; the rollback refuses any other. */
  server?: string;
  /** In the order they must be applied (reverse of the fix). */
  entries: RollbackEntry[];
}

const nest = (path: string[], leaf: Record<string, unknown>): Record<string, unknown> =>
  path.reduceRight<Record<string, unknown>>((acc, k) => ({ [k]: acc }), leaf);

function getPath(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Equality for scalars, and for lists of subjects by kind/name/namespace (the server normalises apiGroup). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const key = (x: unknown): string => {
      const o = (x ?? {}) as Record<string, unknown>;
      return `${String(o.kind)}/${String(o.namespace ?? '')}/${String(o.name)}`;
    };
    const xs = Array.isArray(a) ? a : [];
    const ys = Array.isArray(b) ? b : [];
    return xs.length === ys.length && xs.every((x, i) => key(x) === key(ys[i]));
  }
  return a === b;
}

const workloadTarget = (w: WorkloadRef) => ({ apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, resourceVersion: w.resourceVersion });

/** Translates the plan into API actions; steps that cannot be done on a live object become notes. */
export function liveActions(plan: FixPlan, inventory: Inventory): { actions: LiveAction[]; notes: PlanNote[] } {
  void inventory;
  const actions: LiveAction[] = [];
  const notes: PlanNote[] = [];
  for (const s of plan.steps) {
    switch (s.kind) {
      case 'sa-automount':
        actions.push({
          op: 'patch', apiVersion: 'v1', kind: 'ServiceAccount', namespace: s.serviceAccount.namespace, name: s.serviceAccount.name,
          body: { automountServiceAccountToken: false },
          expect: [{ path: ['automountServiceAccountToken'], value: s.before }],
          resourceVersion: s.serviceAccount.resourceVersion,
          reason: s.reason,
        });
        break;
      case 'pod-automount':
      case 'set-service-account': {
        const field = s.kind === 'pod-automount' ? 'automountServiceAccountToken' : 'serviceAccountName';
        if (s.workload.kind === 'Pod') {
          notes.push({ workload: s.workload, reason: `a Pod's spec cannot be changed; recreate it with ${field}: ${String(s.value)} (from its manifest or controller)` });
          break;
        }
        const specPath = [...s.workload.templatePath, 'spec'];
        // The deprecated alias `serviceAccount` is filled from serviceAccountName on every write; setting (and
        // later restoring) both keeps them in step, else a rollback to "unset" would leave the alias behind.
        const fields = s.kind === 'set-service-account' ? { serviceAccountName: s.value, serviceAccount: s.value } : { [field]: s.value };
        actions.push({
          op: 'patch', ...workloadTarget(s.workload),
          body: nest(specPath, fields),
          expect: s.kind === 'pod-automount' ? [{ path: [...specPath, field], value: s.before }] : [],
          reason: s.reason,
        });
        break;
      }
      case 'remove-binding-subject':
        actions.push({
          op: 'patch', apiVersion: 'rbac.authorization.k8s.io/v1', kind: s.binding.kind, namespace: s.binding.namespace || undefined, name: s.binding.name,
          // A merge patch replaces the whole list; the resourceVersion and the check below make that safe.
          body: { subjects: s.after.map((x) => ({ kind: x.kind, name: x.name, ...(x.apiGroup ? { apiGroup: x.apiGroup } : {}), ...(x.namespace ? { namespace: x.namespace } : {}) })) },
          expect: [{ path: ['subjects'], value: s.before }],
          reason: s.reason,
        });
        break;
      case 'create-sa':
      case 'copy-binding':
        actions.push({
          op: 'create', apiVersion: String(s.object.apiVersion), kind: String(s.object.kind),
          namespace: s.object.metadata?.namespace, name: String(s.object.metadata?.name), body: s.object as Record<string, unknown>, reason: s.reason,
        });
        break;
    }
  }
  // Creations first: a workload must never point at a service account that does not exist yet.
  actions.sort((a, b) => (a.op === b.op ? 0 : a.op === 'create' ? -1 : 1));
  return { actions, notes };
}

const RESOURCE: Record<string, string> = {
  ServiceAccount: 'serviceaccount', Deployment: 'deployment', StatefulSet: 'statefulset', DaemonSet: 'daemonset', ReplicaSet: 'replicaset',
  Job: 'job', CronJob: 'cronjob', ReplicationController: 'replicationcontroller', RoleBinding: 'rolebinding', ClusterRoleBinding: 'clusterrolebinding',
};
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const resourceArg = (kind: string, apiVersion: string): string => {
  const r = RESOURCE[kind];
  if (r) return r;
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
};

function kubectlFor(a: { op: string; apiVersion: string; kind: string; namespace?: string; name: string }, body?: Record<string, unknown>): string {
  const ns = a.namespace ? ` -n ${shq(a.namespace)}` : '';
  if (a.op === 'delete') return `kubectl delete ${resourceArg(a.kind, a.apiVersion)} ${shq(a.name)}${ns}`;
  if (a.op === 'create') return `kubectl create -f - <<'EOF'\n${JSON.stringify(body, null, 2)}\nEOF`;
  return `kubectl patch ${resourceArg(a.kind, a.apiVersion)} ${shq(a.name)}${ns} --type=merge -p ${shq(JSON.stringify(body))}`;
}

export function kubectlScript(actions: LiveAction[]): string {
  return actions.map((a) => `# ${a.reason}\n${kubectlFor(a, a.body)}\n`).join('');
}

export function restartCommands(restart: WorkloadRef[]): string[] {
  return restart.map((w) =>
    ['Deployment', 'StatefulSet', 'DaemonSet'].includes(w.kind)
      ? `kubectl rollout restart ${w.kind.toLowerCase()} ${shq(w.name)} -n ${shq(w.namespace)}`
      : w.kind === 'Job'
        ? `# Job ${w.namespace}/${w.name}: its running pods keep the token until they finish`
        : w.kind === 'Pod'
          ? `# Pod ${w.namespace}/${w.name}: nothing re-creates a bare Pod; delete and re-create it from its manifest`
          : `# ${w.kind} ${w.namespace}/${w.name}: delete its pods so they are recreated without the token`,
  );
}

/** A client for the kubeconfig/context the scan used (client-node; the scan's own client only reads). */
export function makeClient(cluster: ClusterOptions, expectServer?: string): k8s.KubernetesObjectApi {
  const kc = new k8s.KubeConfig();
  try {
    if (cluster.kubeconfig) kc.loadFromFile(cluster.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UserError(`cannot load kubeconfig: ${(err as Error).message}`, EXIT.CLUSTER_UNAVAILABLE);
  }
  if (cluster.context) kc.setCurrentContext(cluster.context);
  const server = kc.getCurrentCluster()?.server;
  if (expectServer && server && server.replace(/\/+$/, '') !== expectServer.replace(/\/+$/, '')) {
    throw new UserError(`the kubeconfig resolves to ${server} for writing but the scan read ${expectServer}; pass --kubeconfig/--context explicitly`, EXIT.CLUSTER_UNAVAILABLE);
  }
  return k8s.KubernetesObjectApi.makeApiClient(kc);
}

function apiMessage(err: unknown): { code?: number; message: string } {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* plain text */
    }
  }
  const msg = (body as { message?: string } | undefined)?.message ?? e.message ?? String(err);
  return { code: e.code, message: msg.split('\n')[0]! };
}

const describe = (a: { kind: string; namespace?: string; name: string }): string => `${a.kind} ${a.namespace ? a.namespace + '/' : ''}${a.name}`;
const header = (a: { apiVersion: string; kind: string; namespace?: string; name: string }) => ({
  apiVersion: a.apiVersion,
  kind: a.kind,
  metadata: { name: a.name, ...(a.namespace ? { namespace: a.namespace } : {}) },
});

export interface ApplyOptions {
  cluster: ClusterOptions;
  io: CliIO;
  rollbackFile?: string;
  context?: string;
  /** Test seam: the client to use. */
  client?: k8s.KubernetesObjectApi;
  /** Where the restart list goes: stdout (text output) or stderr (keeps JSON output parseable). */
  restartTo?: 'stdout' | 'stderr';
  /** The API server the scan read; the writer must talk to the same one. */
  expectServer?: string;
}

/** Dry-runs everything server-side, then applies in order; writes the rollback file after every change. */
export async function applyLive(actions: LiveAction[], plan: FixPlan, opts: ApplyOptions): Promise<number> {
  const { io } = opts;
  if (actions.length === 0) {
    io.stderr.write('nothing to apply\n');
    return EXIT.OK;
  }
  const client = opts.client ?? makeClient(opts.cluster, opts.expectServer);
  const prepared: { action: LiveAction; patch?: Record<string, unknown>; rollback: RollbackEntry }[] = [];

  // 1. Read what is there now: check it is what the scan saw, remember the previous values, pin the version.
  for (const a of actions) {
    if (a.op === 'create') {
      prepared.push({ action: a, rollback: { op: 'delete', apiVersion: a.apiVersion, kind: a.kind, namespace: a.namespace, name: a.name, kubectl: kubectlFor({ ...a, op: 'delete' }) } });
      continue;
    }
    let current: KubeObject;
    try {
      current = (await client.read(header(a))) as unknown as KubeObject;
    } catch (err) {
      const m = apiMessage(err);
      throw new UserError(`cannot read ${describe(a)}: ${m.message}; nothing was applied`, m.code === 404 ? EXIT.FIX_FAILED : EXIT.CLUSTER_UNAVAILABLE);
    }
    const currentRv = current.metadata?.resourceVersion;
    if (a.resourceVersion && currentRv !== a.resourceVersion) {
      throw new UserError(`${describe(a)} changed since the scan (resourceVersion ${a.resourceVersion} → ${currentRv}); scan again; nothing was applied`, EXIT.FIX_FAILED);
    }
    for (const e of a.expect ?? []) {
      const now = getPath(current, e.path);
      if (!sameValue(now, e.value)) {
        throw new UserError(`${describe(a)} changed since the scan (${e.path.join('.')} is ${JSON.stringify(now)}, the plan expected ${JSON.stringify(e.value)}); scan again; nothing was applied`, EXIT.FIX_FAILED);
      }
    }
    const restore = restoringPatch(a.body, current as Record<string, unknown>);
    prepared.push({
      action: a,
      patch: { ...header(a), ...a.body, metadata: { ...header(a).metadata, resourceVersion: currentRv } },
      rollback: { op: 'patch', apiVersion: a.apiVersion, kind: a.kind, namespace: a.namespace, name: a.name, patch: restore, expect: leaves(a.body), kubectl: kubectlFor({ ...a, op: 'patch' }, restore) },
    });
  }

  // 2. Server-side dry run of every change (admission, validation, RBAC) before the first real one.
  for (const p of prepared) {
    try {
      if (p.action.op === 'create') await client.create(p.action.body as k8s.KubernetesObject, undefined, 'All');
      else await client.patch(p.patch as k8s.KubernetesObject, undefined, 'All', 'kube-sa-audit', undefined, k8s.PatchStrategy.MergePatch);
    } catch (err) {
      const m = apiMessage(err);
      throw new UserError(`server-side dry run rejected ${describe(p.action)}${m.code ? ` (HTTP ${m.code})` : ''}: ${m.message}; nothing was applied`, m.code === 409 ? EXIT.FIX_FAILED : m.code ? EXIT.FIX_FAILED : EXIT.CLUSTER_UNAVAILABLE);
    }
  }

  // 3. Apply, recording the rollback after each change.
  const stamp = new Date().toISOString();
  const rollbackPath = resolve(opts.io.cwd, opts.rollbackFile ?? `kube-sa-audit-rollback-${stamp.replace(/[:.]/g, '-')}.json`);
  const rollback: RollbackFile = {
    apiVersion: 'kube-sa-audit.io/v1', kind: 'FixRollback', createdAt: stamp,
    ...(opts.context ? { context: opts.context } : {}),
    ...(opts.expectServer ? { server: opts.expectServer } : {}),
    entries: [],
  };
  let applied = 0;
  for (const p of prepared) {
    try {
      let result: KubeObject;
      if (p.action.op === 'create') result = (await client.create(p.action.body as k8s.KubernetesObject, undefined, undefined, 'kube-sa-audit')) as unknown as KubeObject;
      else result = (await client.patch(p.patch as k8s.KubernetesObject, undefined, undefined, 'kube-sa-audit', undefined, k8s.PatchStrategy.MergePatch)) as unknown as KubeObject;
      if (p.rollback.op === 'patch' && result.metadata?.resourceVersion) p.rollback.resourceVersion = result.metadata.resourceVersion;
      rollback.entries.unshift(p.rollback);
      applied++;
      await writeFileAtomic(rollbackPath, JSON.stringify(rollback, null, 2) + '\n');
      io.stderr.write(`${p.action.op === 'create' ? 'created' : 'patched'} ${describe(p.action)}\n`);
    } catch (err) {
      if (err instanceof UserError) throw err;
      const m = apiMessage(err);
      const where = applied ? ` ${applied} change(s) before it were applied; undo them with: ${io.invokedAs} fix --rollback ${rollbackPath}` : ' nothing was applied';
      if (m.code === 409) throw new UserError(`conflict on ${describe(p.action)}: it changed since it was read (${m.message}); stopped.${where}`, EXIT.FIX_FAILED);
      throw new UserError(`applying ${describe(p.action)} failed${m.code ? ` (HTTP ${m.code})` : ''}: ${m.message}; stopped.${where}`, EXIT.FIX_FAILED);
    }
  }
  io.stderr.write(`applied ${applied} change(s); rollback: ${io.invokedAs} fix --rollback ${rollbackPath}\n`);
  if (plan.restart.length) {
    (opts.restartTo === 'stderr' ? io.stderr : io.stdout).write('\nRunning pods of these workloads keep their token until restarted (nothing was restarted):\n' + restartCommands(plan.restart).join('\n') + '\n');
  }
  return EXIT.OK;
}

function leaves(body: Record<string, unknown>, prefix: string[] = []): { path: string[]; value: unknown }[] {
  return Object.entries(body).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Record<string, unknown>, [...prefix, k]) : [{ path: [...prefix, k], value: v }],
  );
}

/** The merge patch that puts back, for every leaf the fix sets, what the object had (null = absent). */
function restoringPatch(body: Record<string, unknown>, current: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const cur = current?.[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = restoringPatch(v as Record<string, unknown>, (cur ?? {}) as Record<string, unknown>);
    else out[k] = cur === undefined ? null : cur;
  }
  return out;
}

/** `fix --rollback FILE`: applies the entries in order (they are already reversed). */
export async function applyRollbackFile(file: string, cluster: ClusterOptions, io: CliIO, client?: k8s.KubernetesObjectApi): Promise<number> {
  let data: RollbackFile;
  try {
    data = JSON.parse(await readFile(resolve(io.cwd, file), 'utf8')) as RollbackFile;
  } catch (err) {
    throw new UserError(`${file}: cannot read rollback file: ${(err as Error).message.split('\n')[0]}`, EXIT.UNREADABLE_INPUT);
  }
  if (data?.kind !== 'FixRollback' || !Array.isArray(data.entries)) throw new UserError(`${file}: not a kube-sa-audit rollback file`, EXIT.UNREADABLE_INPUT);
  // The context recorded at apply time, unless the user names one; and never another API server.
  const c = client ?? makeClient({ ...cluster, ...(cluster.context || !data.context || data.context === 'in-cluster' ? {} : { context: data.context }) }, data.server);
  let done = 0;
  for (const e of data.entries) {
    try {
      if (e.op === 'delete') await c.delete(header(e));
      else {
        const current = (await c.read(header(e))) as unknown as KubeObject;
        for (const x of e.expect ?? []) {
          const now = getPath(current, x.path);
          if (!sameValue(now, x.value)) {
            throw new UserError(`rollback of ${describe(e)} refused: ${x.path.join('.')} is ${JSON.stringify(now)} now, not the ${JSON.stringify(x.value)} the fix set (changed since); ${done} of ${data.entries.length} entries were rolled back; restore it by hand if still wanted: ${e.kubectl}`, EXIT.FIX_FAILED);
          }
        }
        const rv = current.metadata?.resourceVersion;
        await c.patch({ ...header(e), ...e.patch, metadata: { ...header(e).metadata, ...(rv ? { resourceVersion: rv } : {}) } } as k8s.KubernetesObject, undefined, undefined, 'kube-sa-audit', undefined, k8s.PatchStrategy.MergePatch);
      }
      done++;
      io.stderr.write(`${e.op === 'delete' ? 'deleted' : 'restored'} ${describe(e)}\n`);
    } catch (err) {
      if (err instanceof UserError) throw err;
      const m = apiMessage(err);
      if (e.op === 'delete' && m.code === 404) {
        done++;
        continue;
      }
      throw new UserError(`rollback of ${describe(e)} failed${m.code ? ` (HTTP ${m.code})` : ''}: ${m.message}${m.code === 409 ? ' (it changed after the fix; restore it by hand: ' + e.kubectl + ')' : ''}; ${done} of ${data.entries.length} entries were rolled back`, EXIT.FIX_FAILED);
    }
  }
  io.stderr.write(`rolled back ${done} change(s)\n`);
  return EXIT.OK;
}
