// Owned Pods kept as compact rows until their owners are known.
//
// kubectl prints Pods before the workloads that own them, so a streamed dump held every Pod in full (its
// Workload record, pruned spec and location: ~670 B each, 100 MB at 150,000 pods) until the end of the input,
// only for finish() to fold nearly all of them into their owners as a count. A Pod whose bytes can be read again
// (a List item of a regular file), that has owner references, that was admitted (read back) and whose fields all
// have the types the builder expects is kept instead as one row of plain values here: where its bytes are, its
// owner references (shared), and whether it carries the injected token. At finish(), a row whose owner is in the
// input adds to that owner's counts; the others are read again from the file and built in full, exactly as if
// they had been built when first read. Which rows become which is decided only by ownership, so the inventory is
// the same either way.
import type { ObjectRereader, OwnerReference } from './types.ts';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOptString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/** Columns of deferred Pods: numbers stay unboxed in number arrays, strings and owner lists are shared. */
export class DeferredPods {
  /** How many workloads were built before this Pod: it sits just before workloads[pos] in input order. */
  readonly pos: number[] = [];
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly line: number[] = [];
  readonly document: number[] = [];
  readonly item: number[] = [];
  /** 1 when the Pod carries the injected token (see carriesInjectedToken in build.ts), else 0. */
  readonly injected: number[] = [];
  readonly namespace: string[] = [];
  /** Owner references, or the uid of the only one (build.ts, defer). */
  readonly owners: (OwnerReference[] | string)[] = [];
  readonly by: ObjectRereader[] = [];
  /** Kept only when the builder keeps the identities of folded pods (audit-log evidence reads them). */
  readonly names: string[] = [];
  readonly uids: string[] = [];

  get length(): number {
    return this.pos.length;
  }

  /**
   * Empties every column. finish() calls it rather than dropping the object: right after finish() returns, V8
   * can still hold its scope for a moment (a forced collection there kept ~110 MB alive at 150,000 pods).
   */
  clear(): void {
    for (const column of [this.pos, this.start, this.end, this.line, this.document, this.item, this.injected, this.namespace, this.owners, this.by, this.names, this.uids]) {
      column.length = 0;
    }
  }
}

/**
 * Whether every field the builder reads from this Pod has the type it expects, so that building it would report
 * no problem (deferring it must not hide one). Mirrors readPodSpec, readContainer, readVolume and readItems in
 * build.ts field for field (metadata and names were checked before); test/inventory/deferred-pods.test.ts checks
 * the two agree on mutated Pods.
 */
export function podFieldsWellTyped(pod: Obj): boolean {
  const spec = pod.spec;
  if (!isObject(spec)) return false;
  if (!isOptString(spec.serviceAccountName) || !isOptString(spec.serviceAccount)) return false;
  const am = spec.automountServiceAccountToken;
  if (am !== undefined && am !== null && typeof am !== 'boolean') return false;
  if (spec.containers !== undefined && !Array.isArray(spec.containers)) return false;
  if (!containersWellTyped(spec.containers) || !containersWellTyped(spec.initContainers) || !containersWellTyped(spec.ephemeralContainers)) return false;
  if (!listOf(spec.volumes, volumeWellTyped)) return false;
  return listOf(spec.imagePullSecrets, () => true);
}

/** A list the builder reads with `ObjectReader.list`: absent, null, or a list of mappings each passing `ok`. */
function listOf(v: unknown, ok: (item: Obj) => boolean): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) return false;
  for (const item of v) if (!isObject(item) || !ok(item)) return false;
  return true;
}

function containersWellTyped(v: unknown): boolean {
  return listOf(v, containerWellTyped);
}

function containerWellTyped(c: Obj): boolean {
  if (!isOptString(c.name) || !isOptString(c.restartPolicy)) return false;
  if (!listOf(c.volumeMounts, (m) => isOptString(m.name) && isOptString(m.mountPath))) return false;
  const envOk = listOf(c.env, (e) => {
    const vf = e.valueFrom;
    if (!isObject(vf) || vf.secretKeyRef === undefined) return true;
    const ref = vf.secretKeyRef;
    return isObject(ref) && isOptString(ref.name) && isOptString(ref.key);
  });
  if (!envOk) return false;
  return listOf(c.envFrom, (e) => e.secretRef === undefined || (isObject(e.secretRef) && isOptString(e.secretRef.name)));
}

const itemsWellTyped = (v: unknown): boolean => listOf(v, (it) => isOptString(it.key) && isOptString(it.path));

function volumeWellTyped(v: Obj): boolean {
  if (!isOptString(v.name)) return false;
  // A volume without a name is dropped before any other field of it is read.
  if (v.name === undefined || v.name === null) return true;
  if (v.secret !== undefined && !(isObject(v.secret) && isOptString(v.secret.secretName) && itemsWellTyped(v.secret.items))) return false;
  if (v.projected === undefined) return true;
  if (!isObject(v.projected)) return false;
  return listOf(v.projected.sources, (s) => {
    if (s.serviceAccountToken !== undefined) {
      const t = s.serviceAccountToken;
      if (!isObject(t) || !isOptString(t.audience) || !isOptString(t.path)) return false;
      const exp = t.expirationSeconds;
      return exp === undefined || exp === null || (typeof exp === 'number' && Number.isFinite(exp));
    }
    if (s.secret !== undefined) return isObject(s.secret) && isOptString(s.secret.name) && itemsWellTyped(s.secret.items);
    return true;
  });
}

const INJECTED_PREFIX = 'kube-api-access-';
const SHARED_NAME = 'kube-api-access-*';
const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Whether a well-typed admitted Pod carries the injected token: what carriesInjectedToken in build.ts answers on
 * its pruned spec, computed on the parsed object. The pruned spec renames the first `kube-api-access-*` volume
 * to one shared name (volume and mounts); names are compared through the same renaming so that the answer is
 * the same even for inputs where the renaming merges two names.
 */
export function carriesInjectedTokenRaw(pod: Obj): boolean {
  const spec = pod.spec as Obj;
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Obj[]) : [];
  let first: string | undefined;
  let target: string | undefined;
  let volumeNamedShared = false;
  for (const v of volumes) {
    const name = v.name;
    if (typeof name !== 'string' || !name.startsWith(INJECTED_PREFIX)) continue;
    first ??= name;
    if (name === SHARED_NAME) volumeNamedShared = true;
    if (target === undefined && isObject(v.projected) && Array.isArray(v.projected.sources) && (v.projected.sources as Obj[]).some((s) => isObject(s.serviceAccountToken))) target = name;
  }
  if (target === undefined) return false;
  const canonical = (n: string): string => (n === first ? SHARED_NAME : n);
  const want = canonical(target);
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list as Obj[]) {
      const mounts = c.volumeMounts;
      if (!Array.isArray(mounts)) continue;
      for (const m of mounts as Obj[]) {
        if (typeof m.name !== 'string' || typeof m.mountPath !== 'string' || canonical(m.name) !== want) continue;
        // Pruning keeps a mount of a volume it keeps, or at the token path: a mount literally named
        // `kube-api-access-*` with no such volume survives only at the token path.
        if (m.name !== SHARED_NAME || volumeNamedShared || m.mountPath === SA_MOUNT_PATH) return true;
      }
    }
  }
  return false;
}
