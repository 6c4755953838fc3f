// Folds the objects sources push into the one normalised Inventory the analyses read.
//
// Sources stream objects one by one (150,000-pod dumps flow through here), so every object is reduced at once
// to the few fields the analyses read: the pod spec keeps service-account fields, container names, volume
// mounts, Secret references and token projections, and drops images, commands, probes, resources, plain env
// values and everything else. Field types are checked on the way in; a wrong type becomes one input problem
// (`file:line: …`) and an `unknown` verdict, never a crash or a silent pass.
import type { PartBuilderOptions, PartSink } from './sink.ts';
import { isUtf8 } from 'node:buffer';
import type {
  Container,
  EnvFromSource,
  EnvVar,
  InputProblem,
  Inventory,
  KubeObject,
  ObjectMeta,
  ObjectRereader,
  OwnerReference,
  PodRecord,
  PodSpec,
  PolicyRule,
  RbacBinding,
  RbacRole,
  RbacSubject,
  ServiceAccount,
  SourcedObject,
  ServiceAccountTokenProjection,
  SourceLocation,
  TokenSecret,
  Volume,
  VolumeMount,
  VolumeProjection,
  Workload,
} from './types.ts';
import { serviceAccountKey } from './types.ts';
import { PodTemplateTable, groupOf, type PodTemplatePath } from './pod-templates.ts';
import type { InventoryPart, PartServiceAccount } from './part.ts';
import { Interner } from './intern.ts';
import { carriesInjectedTokenRaw, DeferredPods, podFieldsWellTyped } from './deferred-pods.ts';

export interface InventoryBuilderOptions {
  origin?: Inventory['origin'];
  /** Where pod templates live; defaults to the built-in + default custom-resource table. */
  podTemplates?: PodTemplateTable;
  /** The input holds every ServiceAccount of its namespaces (live scans, snapshots). */
  completeServiceAccounts?: boolean;
  serverVersion?: string;
  /**
   * A reader thread's builder (see sources/manifests/parallel.ts): objects are handed over with `takePart`,
   * and the main builder's `addPart` decides duplicates, so ServiceAccounts are queued rather than keyed here.
   */
  partMode?: boolean;
  /**
   * Keep a record of every Pod for `--format jq-audit` (default true). ~500 B per pod: 75 MB at 150,000 pods,
   * so the CLI keeps them only when that format is asked for.
   */
  keepPodRecords?: boolean;
  /**
   * Keep the names and uids of the Pods folded into each workload (default true). Only audit-log evidence reads
   * them (to attribute requests to pods); at 150,000 pods they are ~37 MB, so the CLI keeps them only when
   * audit logs are given.
   */
  keepPodIdentities?: boolean;
}

export const SERVICE_ACCOUNT_TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** Annotation kubectl apply writes with the whole object: large, and never needed here. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A field path, built lazily as a linked list (cheap per field); turned into an array only for a problem. */
interface PathNode {
  readonly up: Path;
  readonly key: string | number;
}
type Path = PathNode | null | readonly (string | number)[];
function sub(p: Path, ...keys: (string | number)[]): Path {
  let n: PathNode | null = Array.isArray(p) ? (sub(null, ...(p as (string | number)[])) as PathNode | null) : (p as PathNode | null);
  for (const key of keys) n = { up: n, key };
  return n;
}
function toArray(p: Path): (string | number)[] {
  if (Array.isArray(p)) return [...(p as (string | number)[])];
  const out: (string | number)[] = [];
  for (let n = p as PathNode | null; n; n = n.up as PathNode | null) out.push(n.key);
  return out.reverse();
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

const dotted = (path: Path): string => toArray(path).map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');

/**
 * Most labels and annotations maps of ServiceAccounts, roles and bindings are empty: they share one frozen empty
 * map (read-only like the rest of the inventory) instead of ~50,000 objects at 150,000 pods.
 */
const EMPTY_STRING_MAP: Record<string, string> = Object.freeze({}) as Record<string, string>;
/** The same for empty lists of names (a ServiceAccount's secrets, an owner's folded pods when not kept). */
const NO_STRINGS: string[] = Object.freeze([]) as unknown as string[];

function stringMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return EMPTY_STRING_MAP;
  let out: Record<string, string> | undefined;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') (out ??= {})[k] = val;
  return out ?? EMPTY_STRING_MAP;
}

/** Per-object reading context: where problems point, and the problems found so far. */
class ObjectReader {
  readonly so: SourcedObject;
  readonly what: string;
  readonly errors: string[] = [];
  readonly sink: (p: InputProblem) => void;
  constructor(so: SourcedObject, what: string, sink: (p: InputProblem) => void) {
    this.so = so;
    this.what = what;
    this.sink = sink;
  }
  line(p: Path): number {
    // Walk up to the nearest ancestor the reader knows a line for.
    const path = toArray(p);
    if (this.so.lineOf) {
      for (let n = path.length; n >= 0; n--) {
        const l = this.so.lineOf(path.slice(0, n));
        if (l !== undefined) return l;
      }
    }
    return this.so.location.line;
  }
  /** A field of the wrong type: one problem line; the caller decides whether the object survives. */
  bad(path: Path, expected: string, got: unknown): void {
    const field = dotted(path);
    this.errors.push(field);
    this.sink({ file: this.so.location.file, line: this.line(path), message: `${this.what}: ${field} must be ${expected}, got ${describe(got)}`, level: 'error' });
  }
  optString(v: unknown, path: Path): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    this.bad(path, 'a string', v);
    return undefined;
  }
  optBool(v: unknown, path: Path): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    this.bad(path, 'a boolean (true or false)', v);
    return undefined;
  }
  optNumber(v: unknown, path: Path): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    this.bad(path, 'a number', v);
    return undefined;
  }
  /** A list of mappings; a non-list is a type error and yields []. Non-mapping items are type errors and skipped. */
  list(v: unknown, path: Path): Record<string, unknown>[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.bad(path, 'a list', v);
      return [];
    }
    const out: Record<string, unknown>[] = [];
    v.forEach((item, i) => {
      if (isObject(item)) out.push(item);
      else this.bad(sub(path, i), 'a mapping', item);
    });
    return out;
  }
  stringList(v: unknown, path: Path): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.bad(path, 'a list of strings', v);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === 'string') out.push(item);
      else this.bad(sub(path, i), 'a string', item);
    });
    return out;
  }
}

function ownerRefs(meta: ObjectMeta | undefined): OwnerReference[] | undefined {
  const refs = (meta as { ownerReferences?: unknown } | undefined)?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const out: OwnerReference[] = [];
  for (const r of refs) {
    if (isObject(r) && typeof r.kind === 'string' && typeof r.name === 'string') {
      const ref: OwnerReference = { kind: r.kind, name: r.name };
      if (typeof r.apiVersion === 'string') ref.apiVersion = r.apiVersion;
      if (typeof r.uid === 'string') ref.uid = r.uid;
      if (r.controller === true) ref.controller = true;
      out.push(ref);
    }
  }
  return out.length ? out : undefined;
}

function trimMeta(meta: unknown): ObjectMeta {
  if (!isObject(meta)) return {};
  const annotations = stringMap(meta.annotations);
  delete annotations[LAST_APPLIED];
  const out: ObjectMeta = {};
  if (typeof meta.name === 'string') out.name = meta.name;
  if (typeof meta.namespace === 'string') out.namespace = meta.namespace;
  const labels = stringMap(meta.labels);
  if (Object.keys(labels).length) out.labels = labels;
  if (Object.keys(annotations).length) out.annotations = annotations;
  return out;
}

function secretKeyRef(name: string | undefined, key: string | undefined, optional: boolean): { name?: string; key?: string; optional?: boolean } {
  const ref: { name?: string; key?: string; optional?: boolean } = {};
  if (name !== undefined) ref.name = name;
  if (key !== undefined) ref.key = key;
  if (optional) ref.optional = true;
  return ref;
}

/** Reads one container, keeping only what the token analyses need. */
function readContainer(r: ObjectReader, c: Record<string, unknown>, path: Path): Container {
  const name = r.optString(c.name, sub(path, 'name')) ?? `#${String(toArray(path).at(-1))}`;
  const out: Container = { name };
  if (typeof c.image === 'string') out.image = c.image;
  const restartPolicy = r.optString(c.restartPolicy, sub(path, 'restartPolicy'));
  if (restartPolicy !== undefined) out.restartPolicy = restartPolicy;
  const mounts: VolumeMount[] = [];
  r.list(c.volumeMounts, sub(path, 'volumeMounts')).forEach((m, i) => {
    const p = sub(path, 'volumeMounts', i);
    const mName = r.optString(m.name, sub(p, 'name'));
    const mountPath = r.optString(m.mountPath, sub(p, 'mountPath'));
    if (mName === undefined || mountPath === undefined) return;
    const vm: VolumeMount = { name: mName, mountPath };
    if (m.readOnly === true) vm.readOnly = true;
    if (typeof m.subPath === 'string' && m.subPath !== '') vm.subPath = m.subPath;
    mounts.push(vm);
  });
  if (mounts.length) out.volumeMounts = mounts;
  // Only Secret references matter in env: plain values may hold anything and are dropped.
  const env: EnvVar[] = [];
  r.list(c.env, sub(path, 'env')).forEach((e, i) => {
    const vf = e.valueFrom;
    if (!isObject(vf) || vf.secretKeyRef === undefined) return;
    const p = sub(path, 'env', i, 'valueFrom', 'secretKeyRef');
    if (!isObject(vf.secretKeyRef)) {
      r.bad(p, 'a mapping', vf.secretKeyRef);
      return;
    }
    const ref = vf.secretKeyRef;
    const secretName = r.optString(ref.name, sub(p, 'name'));
    const key = r.optString(ref.key, sub(p, 'key'));
    env.push({
      name: typeof e.name === 'string' ? e.name : `#${i}`,
      valueFrom: { secretKeyRef: secretKeyRef(secretName, key, ref.optional === true) },
    });
  });
  if (env.length) out.env = env;
  const envFrom: EnvFromSource[] = [];
  r.list(c.envFrom, sub(path, 'envFrom')).forEach((e, i) => {
    if (e.secretRef === undefined) return;
    const p = sub(path, 'envFrom', i, 'secretRef');
    if (!isObject(e.secretRef)) {
      r.bad(p, 'a mapping', e.secretRef);
      return;
    }
    const secretName = r.optString(e.secretRef.name, sub(p, 'name'));
    const ef: EnvFromSource = { secretRef: secretName !== undefined ? { name: secretName } : {} };
    if (typeof e.prefix === 'string') ef.prefix = e.prefix;
    envFrom.push(ef);
  });
  if (envFrom.length) out.envFrom = envFrom;
  return out;
}

function readItems(r: ObjectReader, v: unknown, path: Path): { key: string; path: string }[] | undefined {
  if (v === undefined || v === null) return undefined;
  return r.list(v, path).flatMap((it, i) => {
    const key = r.optString(it.key, sub(path, i, 'key'));
    const p = r.optString(it.path, sub(path, i, 'path'));
    return key !== undefined ? [{ key, path: p ?? key }] : [];
  });
}

function readVolume(r: ObjectReader, v: Record<string, unknown>, path: Path): Volume | undefined {
  const name = r.optString(v.name, sub(path, 'name'));
  if (name === undefined) return undefined;
  const out: Volume = { name };
  if (v.secret !== undefined) {
    if (!isObject(v.secret)) r.bad(sub(path, 'secret'), 'a mapping', v.secret);
    else {
      const secretName = r.optString(v.secret.secretName, sub(path, 'secret', 'secretName'));
      const items = readItems(r, v.secret.items, sub(path, 'secret', 'items'));
      out.secret = {};
      if (secretName !== undefined) out.secret.secretName = secretName;
      if (v.secret.optional === true) out.secret.optional = true;
      if (items) (out.secret as Record<string, unknown>).items = items;
    }
  }
  if (v.projected !== undefined) {
    if (!isObject(v.projected)) r.bad(sub(path, 'projected'), 'a mapping', v.projected);
    else {
      const sources: VolumeProjection[] = [];
      r.list(v.projected.sources, sub(path, 'projected', 'sources')).forEach((s, i) => {
        const p = sub(path, 'projected', 'sources', i);
        if (s.serviceAccountToken !== undefined) {
          if (!isObject(s.serviceAccountToken)) r.bad(sub(p, 'serviceAccountToken'), 'a mapping', s.serviceAccountToken);
          else {
            const sat = s.serviceAccountToken;
            const audience = r.optString(sat.audience, sub(p, 'serviceAccountToken', 'audience'));
            const expirationSeconds = r.optNumber(sat.expirationSeconds, sub(p, 'serviceAccountToken', 'expirationSeconds'));
            const tokenPath = r.optString(sat.path, sub(p, 'serviceAccountToken', 'path')) ?? '';
            const projection: ServiceAccountTokenProjection = { path: tokenPath };
            if (audience !== undefined) projection.audience = audience;
            if (expirationSeconds !== undefined) projection.expirationSeconds = expirationSeconds;
            sources.push({ serviceAccountToken: projection });
          }
        } else if (s.secret !== undefined) {
          if (!isObject(s.secret)) r.bad(sub(p, 'secret'), 'a mapping', s.secret);
          else {
            const secretName = r.optString(s.secret.name, sub(p, 'secret', 'name'));
            const items = readItems(r, s.secret.items, sub(p, 'secret', 'items'));
            const secret: NonNullable<VolumeProjection['secret']> = {};
            if (secretName !== undefined) secret.name = secretName;
            if (items) secret.items = items;
            sources.push({ secret });
          }
        }
        // ConfigMap and downwardAPI projections carry no token: prune() would drop them, so they are not read
        // (the JSON splitter cuts their contents before parsing).
      });
      out.projected = { sources };
    }
  }
  return out;
}

export interface TrimmedTemplate {
  metadata: ObjectMeta;
  spec: PodSpec;
}

/** Reads a pod spec at `path` into the trimmed form. Returns undefined (and reports) when it is not a mapping. */
function readPodSpec(r: ObjectReader, spec: unknown, path: Path): PodSpec | undefined {
  if (!isObject(spec)) {
    r.bad(path, 'a mapping (a pod spec)', spec);
    return undefined;
  }
  const out: PodSpec = {};
  const sa = r.optString(spec.serviceAccountName, sub(path, 'serviceAccountName'));
  if (sa !== undefined) out.serviceAccountName = sa;
  const deprecated = r.optString(spec.serviceAccount, sub(path, 'serviceAccount'));
  if (deprecated !== undefined) out.serviceAccount = deprecated;
  const automount = r.optBool(spec.automountServiceAccountToken, sub(path, 'automountServiceAccountToken'));
  if (automount !== undefined) out.automountServiceAccountToken = automount;
  if (spec.containers !== undefined && !Array.isArray(spec.containers)) r.bad(sub(path, 'containers'), 'a list', spec.containers);
  else out.containers = r.list(spec.containers, sub(path, 'containers')).map((c, i) => readContainer(r, c, sub(path, 'containers', i)));
  const init = r.list(spec.initContainers, sub(path, 'initContainers')).map((c, i) => readContainer(r, c, sub(path, 'initContainers', i)));
  if (init.length) out.initContainers = init;
  const eph = r.list(spec.ephemeralContainers, sub(path, 'ephemeralContainers')).map((c, i) => readContainer(r, c, sub(path, 'ephemeralContainers', i)));
  if (eph.length) out.ephemeralContainers = eph;
  const volumes = r
    .list(spec.volumes, sub(path, 'volumes'))
    .map((v, i) => readVolume(r, v, sub(path, 'volumes', i)))
    .filter((v): v is Volume => v !== undefined);
  if (volumes.length) out.volumes = volumes;
  // imagePullSecrets are validated by the list read but not kept: no token analysis reads them.
  r.list(spec.imagePullSecrets, sub(path, 'imagePullSecrets'));
  return prune(out);
}

const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Keeps only what decides a token verdict, so 150,000 retained pods stay small: volumes that can carry a token
 * (projected serviceAccountToken or secret sources, secret volumes, any `kube-api-access-*` name), the mounts of
 * those volumes plus any mount at the token path, `env` references to a Secret's `token` key, `envFrom`
 * Secrets, and `restartPolicy: Always` (sidecars). Images, plain env, other volumes and their mounts are dropped.
 */
function prune(spec: PodSpec): PodSpec {
  const relevant = new Set<string>();
  const volumes: Volume[] = [];
  for (const v of spec.volumes ?? []) {
    const sources = (v.projected?.sources ?? []).filter((x) => x.serviceAccountToken !== undefined || x.secret !== undefined);
    const keep = v.name.startsWith('kube-api-access-') || v.secret !== undefined || sources.length > 0;
    if (!keep) continue;
    relevant.add(v.name);
    const kept: Volume = { name: v.name };
    if (v.secret) kept.secret = v.secret;
    if (v.projected) kept.projected = { sources };
    volumes.push(kept);
  }
  const trimContainer = (c: Container): Container => {
    const out: Container = { name: c.name };
    if (c.restartPolicy === 'Always') out.restartPolicy = 'Always';
    const mounts = (c.volumeMounts ?? []).filter((m) => relevant.has(m.name) || m.mountPath === SA_MOUNT_PATH).map((m) => ({ name: m.name, mountPath: m.mountPath === SA_MOUNT_PATH ? SA_MOUNT_PATH : m.mountPath }));
    if (mounts.length) out.volumeMounts = mounts;
    const env = (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef?.key === 'token');
    if (env.length) out.env = env;
    if (c.envFrom?.length) out.envFrom = c.envFrom;
    return out;
  };
  const out: PodSpec = {};
  if (spec.serviceAccountName !== undefined) out.serviceAccountName = spec.serviceAccountName;
  if (spec.serviceAccount !== undefined) out.serviceAccount = spec.serviceAccount;
  if (spec.automountServiceAccountToken !== undefined) out.automountServiceAccountToken = spec.automountServiceAccountToken;
  if (spec.containers) out.containers = spec.containers.map(trimContainer);
  if (spec.initContainers) out.initContainers = spec.initContainers.map(trimContainer);
  if (spec.ephemeralContainers) out.ephemeralContainers = spec.ephemeralContainers.map(trimContainer);
  if (volumes.length) out.volumes = volumes;
  return out;
}

/**
 * An Argo WorkflowSpec is not a pod spec: synthesise one (see pod-templates.ts for what is and is not modelled).
 * Each step template's `container`/`script` becomes a container named after the step.
 */
function readArgoWorkflowSpec(r: ObjectReader, spec: unknown, path: Path): PodSpec | undefined {
  if (!isObject(spec)) {
    r.bad(path, 'a mapping (a WorkflowSpec)', spec);
    return undefined;
  }
  const synthetic: Record<string, unknown> = {
    serviceAccountName: spec.serviceAccountName,
    automountServiceAccountToken: spec.automountServiceAccountToken,
    volumes: spec.volumes,
    imagePullSecrets: spec.imagePullSecrets,
  };
  const base = readPodSpec(r, synthetic, path);
  if (!base) return undefined;
  const containers: Container[] = [];
  const inits: Container[] = [];
  r.list(spec.templates, sub(path, 'templates')).forEach((tpl, i) => {
    const tp = sub(path, 'templates', i);
    const stepName = typeof tpl.name === 'string' ? tpl.name : `#${i}`;
    for (const field of ['container', 'script'] as const) {
      if (isObject(tpl[field])) containers.push({ ...readContainer(r, tpl[field], sub(tp, field)), name: stepName });
    }
    if (isObject(tpl.containerSet)) {
      r.list(tpl.containerSet.containers, sub(tp, 'containerSet', 'containers')).forEach((c, j) => {
        const rc = readContainer(r, c, sub(tp, 'containerSet', 'containers', j));
        containers.push({ ...rc, name: `${stepName}/${rc.name}` });
      });
    }
    r.list(tpl.sidecars, sub(tp, 'sidecars')).forEach((c, j) => {
      const rc = readContainer(r, c, sub(tp, 'sidecars', j));
      containers.push({ ...rc, name: `${stepName}/${rc.name}` });
    });
    r.list(tpl.initContainers, sub(tp, 'initContainers')).forEach((c, j) => {
      const rc = readContainer(r, c, sub(tp, 'initContainers', j));
      inits.push({ ...rc, name: `${stepName}/${rc.name}` });
    });
  });
  base.containers = containers;
  if (inits.length) base.initContainers = inits;
  return base;
}

function at(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const EMPTY_META: ObjectMeta = Object.freeze({}) as ObjectMeta;

function podMeta(meta: unknown): ObjectMeta {
  const ann = isObject(meta) ? meta.annotations : undefined;
  const mirror = isObject(ann) ? ann[MIRROR_POD_ANNOTATION] : undefined;
  return typeof mirror === 'string' ? { annotations: { [MIRROR_POD_ANNOTATION]: mirror } } : EMPTY_META;
}

/** Name every injected volume of a read-back pod gets in the shared copy (the random suffix carries no meaning). */
export const SHARED_INJECTED_VOLUME_NAME = 'kube-api-access-*';

/**
 * The kube-api-access-<random> volume of an admitted pod renamed to one fixed name (volume and mounts), so that
 * pods differing only in that suffix share one spec. The resolver matches the prefix, so verdicts do not change.
 */
function canonicalInjectedName(spec: PodSpec): PodSpec {
  const injected = (spec.volumes ?? []).find((v) => v.name.startsWith('kube-api-access-'))?.name;
  if (injected === undefined || injected === SHARED_INJECTED_VOLUME_NAME) return spec;
  for (const v of spec.volumes ?? []) if (v.name === injected) v.name = SHARED_INJECTED_VOLUME_NAME;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const m of c.volumeMounts ?? []) if (m.name === injected) m.name = SHARED_INJECTED_VOLUME_NAME;
  }
  return spec;
}

/** Whether an admitted pod has a `kube-api-access-*` token volume that some container mounts. */
function carriesInjectedToken(w: Workload): boolean {
  const s = w.template.spec;
  const vol = (s.volumes ?? []).find((v) => v.name.startsWith('kube-api-access-') && (v.projected?.sources ?? []).some((p) => p.serviceAccountToken));
  if (!vol) return false;
  return [...(s.initContainers ?? []), ...(s.containers ?? []), ...(s.ephemeralContainers ?? [])].some((c) => (c.volumeMounts ?? []).some((m) => m.name === vol.name));
}

function sameOwners(a: readonly OwnerReference[], b: readonly OwnerReference[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.kind !== y.kind || x.name !== y.name || x.apiVersion !== y.apiVersion || x.uid !== y.uid || x.controller !== y.controller) return false;
  }
  return true;
}

/** A workload record: its identity, where it was read, and its (pruned) template. `uid` is kept when non-empty. */
function workload(so: SourcedObject, tpl: PodTemplatePath, kind: string, apiVersion: string, namespace: string, name: string, template: Workload['template'], pods: Workload['pods'], alreadyAdmitted: boolean, uid: string | undefined): Workload {
  const w: Workload = { kind, apiVersion, namespace, name, location: so.location, template, templatePath: tpl.path, pods, alreadyAdmitted };
  if (uid) w.uid = uid;
  return w;
}

/** The template of a linked workload: never read (it is always folded into its owner), so one shared value. */
const LINKED_TEMPLATE: Workload['template'] = Object.freeze({ metadata: Object.freeze({}), spec: Object.freeze({}) }) as Workload['template'];

/** The index of a List item from its location's `items/<n>`. */
function itemIndexOf(itemPath: string | undefined): number {
  return itemPath !== undefined && itemPath.startsWith('items/') ? Number(itemPath.slice(6)) : 0;
}

/** Pods read back from a cluster: admission already ran, so their volumes are the truth, not a simulation. */
function isReadBack(obj: KubeObject, origin: Inventory['origin']): boolean {
  if (origin === 'cluster') return true;
  const meta = obj.metadata as Record<string, unknown> | undefined;
  return typeof meta?.uid === 'string' || typeof meta?.creationTimestamp === 'string' || isObject(obj.status);
}

/**
 * Placeholder `pods` of a Pod until finish(): most Pods are folded into their owner, and three objects per Pod
 * (~110 B) for 150,000 Pods were held only to be dropped. Recognised by count 1 with no names (structured clone
 * of reader-thread parts copies it, so not by identity); any other workload starts at count 0.
 */
const UNFOLDED_POD: Workload['pods'] = Object.freeze({ count: 1, names: Object.freeze([]) as unknown as string[], uids: Object.freeze([]) as unknown as string[] });

export class InventoryBuilder implements PartSink {
  private readonly origin: Inventory['origin'];
  private readonly table: PodTemplateTable;
  private readonly completeServiceAccounts: boolean;
  private readonly serverVersion: string | undefined;
  private readonly wanted: Set<string>;
  private readonly inv: Inventory;
  private documents = 0;
  private finished = false;
  /**
   * Equal pruned specs (pods of one ReplicaSet/DaemonSet/Job once pruned, a Deployment and its ReplicaSets) and
   * equal owner lists (~150 B per pod at 150,000 pods) are held once; read-only. Bounded: distinct values
   * beyond it are simply not shared.
   */
  private readonly shared = new Interner(100_000);
  /**
   * The verbs, resources and groups of RBAC rules: thousands of Roles repeat a few lists (`["get","list","watch"]`),
   * each a fresh array of fresh strings from `JSON.parse` (roles were ~2 KB each at 150,000 pods). Kept apart
   * from `shared`, which workloads read before them can fill. Frozen, like every shared value.
   */
  private readonly ruleLists = new Interner(20_000);

  private readonly partMode: boolean;
  private readonly keepPodRecords: boolean;
  private readonly keepPodIdentities: boolean;
  /** partMode: ServiceAccounts read since the last `takePart`, in input order. */
  private partServiceAccounts: PartServiceAccount[] = [];
  /** Owned Pods kept as rows until finish() knows whether their owner is in the input (deferred-pods.ts). */
  private readonly deferred = new DeferredPods();
  /** The files deferred Pods are read again from, closed by finish(). */
  private readonly rereaders = new Set<ObjectRereader>();
  /**
   * Workloads without an owner reference, by uid: what link() may link to. A later object with the same uid
   * replaces an earlier one here as in finish() (uids are unique in any input a cluster produced).
   */
  private readonly ownersByUid = new Map<string, Workload>();
  /** Linked workloads and the owner finish() folds each into (see link()). */
  private readonly linkedTo = new Map<Workload, Workload>();
  /** Set while finish() builds a deferred Pod in full: it was recorded (pod records) when first read. */
  private rebuilding = false;

  constructor(opts: InventoryBuilderOptions = {}) {
    this.partMode = opts.partMode ?? false;
    this.keepPodRecords = opts.keepPodRecords ?? true;
    this.keepPodIdentities = opts.keepPodIdentities ?? true;
    this.origin = opts.origin ?? 'manifests';
    this.table = opts.podTemplates ?? new PodTemplateTable();
    this.completeServiceAccounts = opts.completeServiceAccounts ?? false;
    this.serverVersion = opts.serverVersion;
    this.wanted = new Set([...this.table.kinds(), 'Namespace', 'ServiceAccount', 'Secret', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
    this.inv = {
      namespaces: new Set(),
      namespaceObjects: new Map(),
      serviceAccounts: new Map(),
      workloads: [],
      tokenSecrets: new Map(),
      roles: [],
      clusterRoles: [],
      roleBindings: [],
      clusterRoleBindings: [],
      skipped: { count: 0, byReason: {} },
      problems: [],
      origin: this.origin,
      gaps: [],
      completeServiceAccounts: this.completeServiceAccounts,
      podRecords: [],
      otherSecrets: new Map(),
    };
    if (this.serverVersion !== undefined) this.inv.serverVersion = this.serverVersion;
  }

  partBuilderOptions(): PartBuilderOptions {
    return { origin: this.origin, podTemplates: [...this.table.entries.values()], keepPodRecords: this.keepPodRecords };
  }

  /**
   * One copy of each kind, apiVersion and namespace string: `JSON.parse` makes a new string for every value,
   * and 330,000 objects of a 150,000-pod dump repeat a few thousand of them (~90 B per object).
   */
  private readonly strings = new Interner(200_000);
  private intern(v: string): string {
    return this.strings.string(v);
  }

  /**
   * `intern` for a field that usually repeats the previous object's value (kind, apiVersion and namespace: a
   * dump is sorted by kind, then namespace). Comparing with that value is cheaper than hashing a fresh string.
   */
  private internRepeated(v: string, field: 0 | 1 | 2): string {
    const last = this.lastValues[field]!;
    return v === last ? last : (this.lastValues[field] = this.intern(v));
  }

  private readonly lastValues = ['', '', ''];

  wantsKind(kind: string): boolean {
    return this.wanted.has(kind);
  }

  document(): void {
    this.documents++;
  }

  skipped(reason: string): void {
    this.inv.skipped.count++;
    this.inv.skipped.byReason[reason] = (this.inv.skipped.byReason[reason] ?? 0) + 1;
  }

  problem(p: InputProblem): void {
    this.inv.problems.push(p);
  }

  /** Marks the input as holding every ServiceAccount (a live source knows this only after listing them). */
  setCompleteServiceAccounts(v: boolean): void {
    this.inv.completeServiceAccounts = v;
  }

  setServerVersion(v: string): void {
    this.inv.serverVersion = v;
  }

  object(so: SourcedObject): void {
    const obj = so.object;
    const kind = typeof obj.kind === 'string' ? this.internRepeated(obj.kind, 0) : '';
    const apiVersion = typeof obj.apiVersion === 'string' ? this.internRepeated(obj.apiVersion, 1) : '';
    if (!this.wanted.has(kind)) {
      this.skipped(`kind ${kind || '(none)'} not used`);
      return;
    }
    const meta = isObject(obj.metadata) ? obj.metadata : undefined;
    const name = typeof meta?.name === 'string' ? meta.name : typeof meta?.generateName === 'string' ? `${meta.generateName}*` : '';
    const group = groupOf(apiVersion);
    const clusterScoped = (group === '' && kind === 'Namespace') || (group === RBAC_GROUP && (kind === 'ClusterRole' || kind === 'ClusterRoleBinding'));
    // Namespaced objects without a namespace land where `kubectl apply` puts them: the default namespace.
    const namespace = clusterScoped ? '' : typeof meta?.namespace === 'string' && meta.namespace !== '' ? this.internRepeated(meta.namespace, 2) : 'default';
    const what = `${kind} ${namespace ? namespace + '/' : ''}${name || '(unnamed)'}`;
    const r = new ObjectReader(so, what, (p) => this.problem(p));
    if (obj.metadata !== undefined && !isObject(obj.metadata)) {
      r.bad(['metadata'], 'a mapping', obj.metadata);
      return;
    }
    for (const f of ['name', 'namespace'] as const) {
      if (meta && meta[f] !== undefined && meta[f] !== null && typeof meta[f] !== 'string') {
        new ObjectReader(so, `${kind} ${name || '(unnamed)'}`, (p) => this.problem(p)).bad(['metadata', f], 'a string', meta[f]);
        return;
      }
    }
    if (!name) {
      this.problem({ file: so.location.file, line: so.location.line, message: `${kind}: metadata.name is missing; object ignored`, level: 'error' });
      return;
    }
    if (namespace) this.inv.namespaces.add(namespace);

    const tpl = this.table.lookup(apiVersion, kind);
    if (tpl) {
      this.readWorkload(so, r, tpl, apiVersion, kind, namespace, name, meta);
      return;
    }
    if (group === '' && kind === 'Namespace') {
      this.inv.namespaces.add(name);
      this.inv.namespaceObjects.set(name, { labels: stringMap(meta?.labels), location: so.location });
      return;
    }
    if (group === '' && kind === 'ServiceAccount') return this.readServiceAccount(so, r, namespace, name, meta);
    if (group === '' && kind === 'Secret') return this.readSecret(so, r, namespace, name, meta);
    if (group === RBAC_GROUP) {
      if (kind === 'Role' || kind === 'ClusterRole') return this.readRole(so, r, kind, namespace, name, meta);
      if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') return this.readBinding(so, r, kind, namespace, name, meta);
    }
    this.skipped(`kind ${kind} (${apiVersion || 'no apiVersion'}) not used`);
  }

  private readWorkload(so: SourcedObject, r: ObjectReader, tpl: PodTemplatePath, apiVersion: string, kind: string, namespace: string, name: string, meta: Record<string, unknown> | undefined): void {
    const obj = so.object;
    const isPod = tpl.group === '' && kind === 'Pod';
    if (isPod && this.keepPodRecords && !this.rebuilding) this.recordPod(obj, meta);
    const owners = ownerRefs(meta as ObjectMeta | undefined);
    if (isPod && so.reread && owners && this.defer(so, namespace, name, meta, owners)) return;
    const templateObj = tpl.path.length === 0 ? obj : at(obj, tpl.path);
    let spec: PodSpec | undefined;
    let tmeta: ObjectMeta = {};
    let specPath: string[];
    if (tpl.shape === 'argo-workflow') {
      specPath = tpl.path;
      spec = readArgoWorkflowSpec(r, templateObj, specPath);
    } else {
      specPath = [...tpl.path, 'spec'];
      if (tpl.path.length > 0 && !isObject(templateObj)) {
        if (templateObj === undefined) {
          // A workload without a template (e.g. an Argo Rollout with workloadRef) creates no pods of its own.
          this.skipped(`${kind} without ${tpl.path.join('.')}`);
          return;
        }
        r.bad(tpl.path, 'a mapping (a pod template)', templateObj);
        return;
      }
      const t = templateObj as Record<string, unknown>;
      if (!isPod && owners?.length === 1 && this.link(so, tpl, kind, apiVersion, namespace, name, meta, t, owners)) return;
      if (t.metadata !== undefined && !isObject(t.metadata)) r.bad(sub(tpl.path, 'metadata'), 'a mapping', t.metadata);
      // A Pod's own labels are not read by any analysis; only the mirror-pod annotation is (§1.7).
      tmeta = isPod ? podMeta(t.metadata) : trimMeta(t.metadata);
      spec = readPodSpec(r, t.spec, specPath);
    }
    if (!spec) return; // reported: the object cannot be analysed at all
    const readBack = isPod && isReadBack(obj, this.origin);
    if (readBack && r.errors.length === 0) {
      // Pods of one ReplicaSet/DaemonSet/Job differ only in names once pruned: share one copy of their spec.
      spec = this.shared.byContent(canonicalInjectedName(spec));
    } else if (!isPod && r.errors.length === 0) {
      // A Deployment and its ReplicaSets (a CronJob and its Jobs) carry the same pod template: one copy.
      spec = this.shared.byContent(spec);
    }
    const uid = typeof meta?.uid === 'string' ? meta.uid : undefined;
    // A Pod's own `pods` (itself) is made in finish() only for Pods no owner in the input takes in.
    const pods = isPod ? UNFOLDED_POD : this.keepPodIdentities ? { count: 0, names: [], uids: [] } : { count: 0, names: NO_STRINGS, uids: NO_STRINGS };
    const w = workload(so, tpl, kind, apiVersion, namespace, name, { metadata: tmeta, spec }, pods, readBack, uid);
    // The version read, so `fix --apply` patches with optimistic concurrency against exactly what was analysed.
    if (!isPod && typeof meta?.resourceVersion === 'string' && meta.resourceVersion !== '') w.resourceVersion = meta.resourceVersion;
    if (owners) w.ownerReferences = this.shared.byContent(owners);
    // An owner a later ReplicaSet or Job may be linked to (see link()).
    else if (!isPod && uid && !this.partMode) this.ownersByUid.set(uid, w);
    if (r.errors.length) w.typeErrors = [...r.errors];
    if (spec.automountServiceAccountToken !== undefined) {
      const p = [...specPath, 'automountServiceAccountToken'];
      const line = so.lineOf?.(p);
      if (line !== undefined) w.automountLine = line;
      const text = so.sourceText?.(p);
      if (text !== undefined) w.automountSpelling = text;
    }
    this.inv.workloads.push(w);
  }

  /**
   * Keeps an owned, admitted, well-typed Pod that can be read again as a row (see deferred-pods.ts); false when
   * it must be built now. Its verdicts are the same either way: finish() builds it in full if its owner is absent.
   */
  private defer(so: SourcedObject, namespace: string, name: string, meta: Record<string, unknown> | undefined, owners: OwnerReference[]): boolean {
    const obj = so.object;
    if (this.partMode || obj.apiVersion !== 'v1' || so.lineOf || so.sourceText) return false;
    if (!isReadBack(obj, this.origin) || !podFieldsWellTyped(obj)) return false;
    const d = this.deferred;
    const reread = so.reread!;
    d.pos.push(this.inv.workloads.length);
    d.start.push(reread.start);
    d.end.push(reread.end);
    d.by.push(reread.by);
    this.rereaders.add(reread.by);
    d.line.push(so.location.line);
    d.document.push(so.location.document ?? 0);
    d.item.push(itemIndexOf(so.location.itemPath));
    d.injected.push(carriesInjectedTokenRaw(obj) ? 1 : 0);
    d.namespace.push(namespace);
    // A single owner with a uid (the usual Pod) is kept as that uid alone: finish() looks owners up by uid first,
    // and when that fails it builds the Pod in full from its bytes, whose owner lookup then does the rest. Whole
    // lists (~390 B each, ~60,000 of them) were 24 MB of the rows at 150,000 pods. Other lists are shared with
    // the row before when equal (one owner's Pods are often next to each other: kubectl sorts by name). Not
    // through `shared`: a row's list is read only by finish(), and ~60,000 JSON keys filled the table that
    // Deployments' specs are shared through.
    const only = owners.length === 1 ? owners[0]!.uid : undefined;
    const before = d.owners[d.owners.length - 1];
    if (only) d.owners.push(typeof before === 'string' && before === only ? before : only);
    else d.owners.push(before !== undefined && typeof before !== 'string' && sameOwners(before, owners) ? before : owners);
    if (this.keepPodIdentities) {
      d.names.push(name);
      d.uids.push(typeof meta?.uid === 'string' ? meta.uid : '');
    }
    return true;
  }

  /**
   * A ReplicaSet or Job (any templated workload) whose one owner reference names, by uid, a workload already read
   * that has no owner itself, is folded into that owner by finish() whatever its template says: only its
   * identity and owner reference are kept (Pods find their top owner through it), and its template is neither
   * read nor pruned nor shared (~50,000 of them at 150,000 pods: Deployments print before their ReplicaSets,
   * CronJobs before their Jobs). Only when every field the builder reads has its type, so that nothing it would
   * report is hidden. False: build it in full.
   */
  private link(so: SourcedObject, tpl: PodTemplatePath, kind: string, apiVersion: string, namespace: string, name: string, meta: Record<string, unknown> | undefined, template: Record<string, unknown>, owners: OwnerReference[]): boolean {
    if (this.partMode || tpl.shape === 'argo-workflow' || tpl.path.length === 0 || so.lineOf || so.sourceText) return false;
    const uid = owners[0]!.uid;
    const owner = uid ? this.ownersByUid.get(uid) : undefined;
    if (!owner || (template.metadata !== undefined && !isObject(template.metadata)) || !podFieldsWellTyped(template)) return false;
    const w = workload(so, tpl, kind, apiVersion, namespace, name, LINKED_TEMPLATE, { count: 0, names: NO_STRINGS, uids: NO_STRINGS }, false, typeof meta?.uid === 'string' ? meta.uid : undefined);
    w.ownerReferences = owners;
    this.linkedTo.set(w, owner);
    this.inv.workloads.push(w);
    return true;
  }

  /** What the well-known jq audit reads of a Pod, kept for every Pod in input order. */
  private recordPod(obj: KubeObject, meta: Record<string, unknown> | undefined): void {
    const spec = obj.spec as Record<string, unknown> | undefined;
    const rec: PodRecord = {
      namespace: meta?.namespace ?? null,
      name: meta?.name ?? null,
      serviceAccountName: isObject(spec) ? (spec.serviceAccountName ?? null) : null,
      automountFalse: isObject(spec) && spec.automountServiceAccountToken === false,
    };
    this.inv.podRecords!.push(rec);
  }

  private readServiceAccount(so: SourcedObject, r: ObjectReader, namespace: string, name: string, meta: Record<string, unknown> | undefined): void {
    const obj = so.object;
    const automount = r.optBool(obj.automountServiceAccountToken, ['automountServiceAccountToken']);
    const names = (v: unknown, field: string): string[] => {
      const found = r.list(v, [field]).flatMap((s) => (typeof s.name === 'string' ? [s.name] : []));
      return found.length ? found : NO_STRINGS;
    };
    const sa: ServiceAccount = {
      namespace,
      name,
      secrets: names(obj.secrets, 'secrets'),
      imagePullSecrets: names(obj.imagePullSecrets, 'imagePullSecrets'),
      labels: stringMap(meta?.labels),
      annotations: (() => {
        const a = stringMap(meta?.annotations);
        delete a[LAST_APPLIED];
        return a;
      })(),
      location: so.location,
    };
    if (typeof meta?.uid === 'string') sa.uid = meta.uid;
    if (typeof meta?.resourceVersion === 'string' && meta.resourceVersion !== '') sa.resourceVersion = meta.resourceVersion;
    if (automount !== undefined) {
      sa.automountServiceAccountToken = automount;
      const text = so.sourceText?.(['automountServiceAccountToken']);
      if (text !== undefined) sa.automountSpelling = text;
      const line = so.lineOf?.(['automountServiceAccountToken']);
      if (line !== undefined) sa.location = { ...so.location, line };
    }
    if (r.errors.length) sa.typeErrors = [...r.errors];
    const key = serviceAccountKey(namespace, name);
    if (this.partMode) {
      // Whether this key was seen before is only known where all parts meet (addPart).
      this.partServiceAccounts.push({ key, sa, problemsBefore: this.inv.problems.length, file: so.location.file, line: so.location.line });
      return;
    }
    this.putServiceAccount(key, sa, so.location.file, so.location.line);
  }

  private putServiceAccount(key: string, sa: ServiceAccount, file: string, line: number): void {
    if (this.inv.serviceAccounts.has(key)) {
      this.problem({ file, line, message: `ServiceAccount ${key} appears more than once; the last one is used (as kubectl apply would leave it)`, level: 'warning' });
    }
    this.inv.serviceAccounts.set(key, sa);
  }

  /**
   * partMode: everything read since the last call, in input order, and a fresh start (the spec and owner
   * sharing tables stay). A reader thread posts parts as it goes, so its own memory stays flat.
   */
  takePart(): InventoryPart {
    const inv = this.inv;
    const part: InventoryPart = {
      documents: this.documents,
      namespaces: [...inv.namespaces],
      namespaceObjects: [...inv.namespaceObjects],
      serviceAccounts: this.partServiceAccounts,
      tokenSecrets: [...inv.tokenSecrets],
      otherSecrets: [...inv.otherSecrets!],
      workloads: inv.workloads,
      podRecords: inv.podRecords!,
      roles: inv.roles,
      clusterRoles: inv.clusterRoles,
      roleBindings: inv.roleBindings,
      clusterRoleBindings: inv.clusterRoleBindings,
      problems: inv.problems,
      skipped: Object.entries(inv.skipped.byReason),
    };
    this.documents = 0;
    this.partServiceAccounts = [];
    inv.namespaces = new Set();
    inv.namespaceObjects = new Map();
    inv.tokenSecrets = new Map();
    inv.otherSecrets = new Map();
    inv.workloads = [];
    inv.podRecords = [];
    inv.roles = [];
    inv.clusterRoles = [];
    inv.roleBindings = [];
    inv.clusterRoleBindings = [];
    inv.problems = [];
    inv.skipped = { count: 0, byReason: {} };
    return part;
  }

  /**
   * Adds a part read elsewhere as if its objects had been pushed here one by one: parts must come in input
   * order. Later duplicates of a ServiceAccount win and are warned about at their place among the problems.
   */
  addPart(part: InventoryPart): void {
    const inv = this.inv;
    this.documents += part.documents;
    for (const ns of part.namespaces) inv.namespaces.add(ns);
    for (const [k, v] of part.namespaceObjects) inv.namespaceObjects.set(k, v);
    let p = 0;
    for (const e of part.serviceAccounts) {
      while (p < e.problemsBefore) inv.problems.push(part.problems[p++]!);
      this.putServiceAccount(e.key, e.sa, e.file, e.line);
    }
    while (p < part.problems.length) inv.problems.push(part.problems[p++]!);
    for (const [k, v] of part.tokenSecrets) inv.tokenSecrets.set(k, v);
    for (const [k, v] of part.otherSecrets) inv.otherSecrets!.set(k, v);
    for (const w of part.workloads) inv.workloads.push(w);
    for (const r of part.podRecords) inv.podRecords!.push(r);
    for (const r of part.roles) inv.roles.push(r);
    for (const r of part.clusterRoles) inv.clusterRoles.push(r);
    for (const b of part.roleBindings) inv.roleBindings.push(b);
    for (const b of part.clusterRoleBindings) inv.clusterRoleBindings.push(b);
    for (const [reason, n] of part.skipped) {
      inv.skipped.count += n;
      inv.skipped.byReason[reason] = (inv.skipped.byReason[reason] ?? 0) + n;
    }
  }

  /** Secrets: type and metadata only. `data`/`stringData` are never looked at. */
  private readSecret(so: SourcedObject, r: ObjectReader, namespace: string, name: string, meta: Record<string, unknown> | undefined): void {
    const type = r.optString(so.object.type, ['type']) ?? 'Opaque';
    const key = serviceAccountKey(namespace, name);
    if (type !== SERVICE_ACCOUNT_TOKEN_SECRET_TYPE) {
      this.inv.otherSecrets!.set(key, { type });
      return;
    }
    const annotations = stringMap(meta?.annotations);
    const ts: TokenSecret = { namespace, name, labels: stringMap(meta?.labels), location: so.location };
    const saName = annotations['kubernetes.io/service-account.name'];
    if (saName !== undefined) ts.serviceAccountName = saName;
    const saUid = annotations['kubernetes.io/service-account.uid'];
    if (saUid !== undefined) ts.serviceAccountUid = saUid;
    this.inv.tokenSecrets.set(key, ts);
  }

  private readRole(so: SourcedObject, r: ObjectReader, kind: 'Role' | 'ClusterRole', namespace: string, name: string, meta: Record<string, unknown> | undefined): void {
    const obj = so.object;
    const rules: PolicyRule[] = [];
    r.list(obj.rules, ['rules']).forEach((rule, i) => {
      const p = ['rules', i];
      const before = r.errors.length;
      const verbs = this.ruleLists.list(r.stringList(rule.verbs, sub(p, 'verbs')) ?? []);
      const pr: PolicyRule = { verbs };
      for (const f of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
        const v = r.stringList(rule[f], sub(p, f));
        if (v !== undefined) pr[f] = this.ruleLists.list(v);
      }
      // A rule with a wrong field type is dropped (reported): the API server would reject the whole object.
      if (r.errors.length === before) rules.push(pr);
    });
    const role: RbacRole = { kind, namespace: kind === 'Role' ? namespace : '', name, rules, labels: stringMap(meta?.labels), annotations: stringMap(meta?.annotations), location: so.location, builtin: false };
    delete role.annotations[LAST_APPLIED];
    if (kind === 'ClusterRole' && isObject(obj.aggregationRule)) {
      const selectors = r.list(obj.aggregationRule.clusterRoleSelectors, ['aggregationRule', 'clusterRoleSelectors']).map((s) => {
        const sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } = {};
        if (isObject(s.matchLabels)) sel.matchLabels = stringMap(s.matchLabels);
        if (Array.isArray(s.matchExpressions)) {
          sel.matchExpressions = s.matchExpressions.filter(isObject).flatMap((e) =>
            typeof e.key === 'string' && typeof e.operator === 'string'
              ? [{ key: e.key, operator: e.operator, ...(Array.isArray(e.values) ? { values: e.values.filter((x): x is string => typeof x === 'string') } : {}) }]
              : [],
          );
        }
        return sel;
      });
      role.aggregationRule = { clusterRoleSelectors: selectors };
    }
    (kind === 'Role' ? this.inv.roles : this.inv.clusterRoles).push(role);
  }

  private readBinding(so: SourcedObject, r: ObjectReader, kind: 'RoleBinding' | 'ClusterRoleBinding', namespace: string, name: string, meta: Record<string, unknown> | undefined): void {
    const obj = so.object;
    if (!isObject(obj.roleRef)) {
      r.bad(['roleRef'], 'a mapping', obj.roleRef);
      return;
    }
    const refKind = r.optString(obj.roleRef.kind, ['roleRef', 'kind']);
    const refName = r.optString(obj.roleRef.name, ['roleRef', 'name']);
    if (refKind === undefined || refName === undefined) {
      if (r.errors.length === 0) this.problem({ file: so.location.file, line: r.line(['roleRef']), message: `${r.what}: roleRef needs kind and name`, level: 'error' });
      return;
    }
    // v1 defaulting (pkg/apis/rbac/v1/defaults.go): empty roleRef.apiGroup → rbac.authorization.k8s.io.
    const refGroup = r.optString(obj.roleRef.apiGroup, ['roleRef', 'apiGroup']) || RBAC_GROUP;
    const subjects: RbacSubject[] = [];
    r.list(obj.subjects, ['subjects']).forEach((s, i) => {
      const sKind = r.optString(s.kind, ['subjects', i, 'kind']);
      const sName = r.optString(s.name, ['subjects', i, 'name']);
      if (sKind === undefined || sName === undefined) return;
      const sNs = r.optString(s.namespace, ['subjects', i, 'namespace']);
      // Empty subject.apiGroup → "" for ServiceAccount, rbac.authorization.k8s.io for User and Group.
      const given = r.optString(s.apiGroup, ['subjects', i, 'apiGroup']);
      const apiGroup = given || (sKind === 'ServiceAccount' ? '' : sKind === 'User' || sKind === 'Group' ? RBAC_GROUP : '');
      // Kinds, groups and namespaces repeat across thousands of bindings: one copy each (names rarely do).
      subjects.push({ kind: this.intern(sKind), name: sName, apiGroup: this.intern(apiGroup), ...(sNs ? { namespace: this.intern(sNs) } : {}) });
    });
    const b: RbacBinding = {
      kind,
      namespace: kind === 'RoleBinding' ? namespace : '',
      name,
      roleRef: { apiGroup: this.intern(refGroup), kind: this.intern(refKind), name: refName },
      subjects,
      labels: stringMap(meta?.labels),
      annotations: stringMap(meta?.annotations),
      location: so.location,
      builtin: false,
    };
    delete b.annotations[LAST_APPLIED];
    (kind === 'RoleBinding' ? this.inv.roleBindings : this.inv.clusterRoleBindings).push(b);
  }

  /**
   * Folds pods (and ReplicaSets/Jobs) into the top-most owner of the same input, following ownerReferences by
   * uid, else by kind/namespace/name (manifests rarely carry uids), and returns the inventory.
   */
  /** Workloads read so far, deferred Pods included (before finish() folds them into their owners). */
  get workloadsRead(): number {
    return this.inv.workloads.length + this.deferred.length;
  }

  finish(): Inventory {
    if (this.finished) return this.inv;
    this.finished = true;
    this.inv.documents = this.documents;
    const all = this.inv.workloads;
    const byUid = new Map<string, Workload>();
    for (const w of all) if (w.kind !== 'Pod' && w.uid) byUid.set(w.uid, w); // a Pod owns nothing
    // Owners by kind, namespace and name, for references without a uid match (manifests carry no uids). Made on
    // first use: in a dump every reference is found by uid, and the table's ~110,000 keys were ~11 MB at the
    // peak of a 150,000-pod finish().
    const keyOf = (kind: string, ns: string, name: string): string => `${kind}\u0000${ns}\u0000${name}`;
    let byKeyTable: Map<string, Workload> | undefined;
    const byKey = (): Map<string, Workload> => {
      if (byKeyTable === undefined) {
        byKeyTable = new Map();
        for (const w of all) if (w.kind !== 'Pod') byKeyTable.set(keyOf(w.kind, w.namespace, w.name), w);
      }
      return byKeyTable;
    };
    const parentFor = (refs: readonly OwnerReference[] | undefined, namespace: string, self: Workload | undefined): Workload | undefined => {
      if (!refs) return undefined;
      // The controller reference first, then the others.
      for (const controllerPass of [true, false]) {
        for (const ref of refs) {
          if ((ref.controller === true) !== controllerPass) continue;
          const p = (ref.uid ? byUid.get(ref.uid) : undefined) ?? byKey().get(keyOf(ref.kind, namespace, ref.name));
          if (p && p !== self) return p;
        }
      }
      return undefined;
    };
    const parentOf = (w: Workload): Workload | undefined => parentFor(w.ownerReferences, w.namespace, w);
    // Top owner above each owning workload, memoised (every pod of a ReplicaSet climbs the same chain);
    // a workload being visited maps to null, so an ownership cycle ends instead of looping.
    const tops = new Map<Workload, Workload | null>();
    const topAbove = (w: Workload): Workload | undefined => {
      if (tops.has(w)) return tops.get(w) ?? undefined;
      tops.set(w, null);
      const p = parentOf(w);
      const top = p ? (topAbove(p) ?? p) : undefined;
      tops.set(w, top ?? null);
      return top;
    };
    const topOf = (w: Workload): Workload | undefined => {
      const top = w.kind === 'Pod' ? ((p) => (p ? (topAbove(p) ?? p) : undefined))(parentOf(w)) : topAbove(w);
      return top === w ? undefined : top;
    };
    const injected = new WeakMap<PodSpec, boolean>();
    const kept: Workload[] = [];
    const keepPodIdentities = this.keepPodIdentities;
    const d = this.deferred;
    const place = (w: Workload): void => {
      const top = this.linkedTo.get(w) ?? topOf(w);
      if (!top) {
        // A Pod still holding its placeholder (or a reader thread's copy of it) reports itself. Owners are not
        // asked: with keepPodIdentities off, one with a single folded pod also has a count of 1 and no names.
        if (w.kind === 'Pod' && w.pods.count === 1 && w.pods.names.length === 0) w.pods = { count: 1, names: [w.name], uids: w.uid ? [w.uid] : [] };
        kept.push(w);
        return;
      }
      if (w.kind === 'Pod') {
        top.pods.count += 1;
        if (keepPodIdentities) {
          top.pods.names.push(w.name);
          if (w.uid) top.pods.uids.push(w.uid);
        }
        if (w.alreadyAdmitted) {
          top.admittedPods ??= { count: 0, withInjectedToken: 0 };
          top.admittedPods.count += 1;
          let has = injected.get(w.template.spec);
          if (has === undefined) injected.set(w.template.spec, (has = carriesInjectedToken(w)));
          if (has) top.admittedPods.withInjectedToken += 1;
        }
      }
    };
    // A deferred Pod is folded into its owner like any other; with no owner in the input it is built in full.
    const settleDeferred = (j: number): void => {
      const o = d.owners[j]!;
      // A uid alone stands for a single owner reference; when no workload has that uid, the Pod is built in full
      // below and its reference is looked up by kind and name as well, as parentFor would have.
      const p = typeof o === 'string' ? byUid.get(o) : parentFor(o, d.namespace[j]!, undefined);
      if (!p) {
        const w = this.rebuildDeferred(j);
        if (w) place(w);
        return;
      }
      const top = topAbove(p) ?? p;
      top.pods.count += 1;
      if (keepPodIdentities) {
        top.pods.names.push(d.names[j]!);
        if (d.uids[j]) top.pods.uids.push(d.uids[j]!);
      }
      top.admittedPods ??= { count: 0, withInjectedToken: 0 };
      top.admittedPods.count += 1;
      top.admittedPods.withInjectedToken += d.injected[j]!;
    };
    let next = 0;
    for (let k = 0; k < all.length; k++) {
      while (next < d.length && d.pos[next]! <= k) settleDeferred(next++);
      place(all[k]!);
    }
    while (next < d.length) settleDeferred(next++);
    // Workloads kept have no owner in the input: their declared ownerReferences stay (contract).
    this.inv.workloads = kept;
    for (const r of this.rereaders) r.close();
    this.rereaders.clear();
    // Emptied rather than dropped: see DeferredPods.clear.
    d.clear();
    this.ownersByUid.clear();
    this.linkedTo.clear();
    all.length = 0;
    tops.clear();
    byUid.clear();
    byKeyTable?.clear();
    this.shared.clear();
    this.ruleLists.clear();
    this.strings.clear();
    return this.inv;
  }

  /**
   * A deferred Pod whose owner is not in the input, read again from its file and built in full (no problem can
   * arise: it was well-typed when first read). A file changed in between is an input problem.
   */
  private rebuildDeferred(j: number): Workload | undefined {
    const d = this.deferred;
    const by = d.by[j]!;
    const location: SourceLocation = { file: by.file, line: d.line[j]!, document: d.document[j]!, itemPath: `items/${d.item[j]!}` };
    let obj: unknown;
    try {
      const bytes = by.read(d.start[j]!, d.end[j]!);
      obj = isUtf8(bytes) ? JSON.parse(bytes.toString('utf8')) : undefined;
    } catch {
      obj = undefined;
    }
    if (!isObject(obj) || obj.kind !== 'Pod') {
      this.problem({ file: by.file, line: location.line, message: `item ${d.item[j]!} of the List (a Pod) changed while the file was being read; scan it again`, level: 'error' });
      return undefined;
    }
    const before = this.inv.workloads;
    this.inv.workloads = [];
    this.rebuilding = true;
    try {
      this.object({ object: obj as KubeObject, location });
      return this.inv.workloads[0];
    } finally {
      this.rebuilding = false;
      this.inv.workloads = before;
    }
  }
}

/** Convenience for tests and small inputs: builds an inventory from objects already in memory. */
export function buildInventory(objects: Iterable<SourcedObject>, opts: InventoryBuilderOptions = {}): Inventory {
  const b = new InventoryBuilder(opts);
  for (const o of objects) {
    b.document();
    b.object(o);
  }
  return b.finish();
}

/** A SourcedObject for an in-memory object (tests, examples). */
export function sourced(object: KubeObject, location: Partial<SourceLocation> = {}): SourcedObject {
  return { object, location: { file: location.file ?? '(memory)', line: location.line ?? 0, ...location } };
}

