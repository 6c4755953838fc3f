// Which workload made a request: from the Pod a bound token names (user.extra pod-name/pod-uid) to the workload
// that owns the pod. Pods of the input are folded into their workloads already (Workload.pods); pods that are
// not in the input (deleted since, or a manifest-only scan) are matched by the names controllers generate,
// only within the service account's namespace and only among workloads that use that service account.

/** utilrand.String's alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0/1/3. */
const RAND = 'bcdfghjklmnpqrstvwxz2456789';
const RAND5 = new RegExp(`^[${RAND}]{5}$`);
/** pod-template-hash: rand.SafeEncodeString(fmt.Sprint(fnv32)), 1–10 characters of the same alphabet. */
const HASH_DASH = new RegExp(`^[${RAND}]{1,10}-$`);
const HASH_DASH_TRUNCATED = new RegExp(`^[${RAND}]{0,10}-?$`);
const DIGITS_DASH = /^\d+-$/;
const DIGITS_DASH_TRUNCATED = /^\d*-?$/;
const TWO_NUMBERS_DASH = /^\d+-\d+-$/;
const TWO_NUMBERS_DASH_TRUNCATED = /^\d*(-\d*)?-?$/;
const ORDINAL = /^(0|[1-9]\d*)$/;
/** names.SimpleNameGenerator: maxNameLength 63 − randomLength 5; a longer generateName is cut to 58. */
const MAX_GENERATED_BASE = 58;

/** `generateName` + 5 random characters, the base possibly cut to 58 characters. */
function splitGenerated(pod: string): string | undefined {
  if (pod.length < 6) return undefined;
  const rand = pod.slice(-5);
  return RAND5.test(rand) ? pod.slice(0, -5) : undefined;
}

/** Whether `base` is `prefix` + something matching `rest` (or its cut-to-58 form). */
function baseMatches(base: string, prefix: string, rest: RegExp | null, restTruncated: RegExp | null): boolean {
  if (base.length === MAX_GENERATED_BASE) {
    if (prefix.startsWith(base)) return true; // the workload name itself was cut
    if (base.startsWith(prefix)) return restTruncated ? restTruncated.test(base.slice(prefix.length)) : base === prefix;
    return false;
  }
  if (!base.startsWith(prefix)) return false;
  const r = base.slice(prefix.length);
  return rest ? rest.test(r) : r === '';
}

/**
 * Whether a pod name can have been generated for a workload of this kind and name:
 * Deployment → ReplicaSet `<name>-<pod-template-hash>` → pod `<rs>-<5>`; ReplicaSet, DaemonSet,
 * ReplicationController, Job → `<name>-<5>` (Indexed Jobs `<name>-<index>-<5>`); CronJob → Job
 * `<name>-<scheduled minutes>` → pod `<job>-<5>`; StatefulSet `<name>-<ordinal>`; Pod its own name.
 * Other kinds (custom resources) are tried as Deployment-like and ReplicaSet-like owners.
 */
export function podNameMatchesWorkload(kind: string, name: string, pod: string): boolean {
  if (kind === 'Pod') return pod === name;
  if (kind === 'StatefulSet') return pod.startsWith(name + '-') && ORDINAL.test(pod.slice(name.length + 1));
  const base = splitGenerated(pod);
  if (base === undefined) return false;
  const prefix = name + '-';
  switch (kind) {
    case 'Deployment':
      return baseMatches(base, prefix, HASH_DASH, HASH_DASH_TRUNCATED);
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'ReplicationController':
      return baseMatches(base, prefix, null, null);
    case 'Job':
      return baseMatches(base, prefix, null, null) || baseMatches(base, prefix, DIGITS_DASH, DIGITS_DASH_TRUNCATED);
    case 'CronJob':
      return baseMatches(base, prefix, DIGITS_DASH, DIGITS_DASH_TRUNCATED) || baseMatches(base, prefix, TWO_NUMBERS_DASH, TWO_NUMBERS_DASH_TRUNCATED);
    default:
      return baseMatches(base, prefix, HASH_DASH, HASH_DASH_TRUNCATED) || baseMatches(base, prefix, null, null);
  }
}

/** Kinds whose pods are always named by the patterns above, so a pod name that does not match is not theirs. */
export function hasKnownPodNaming(kind: string): boolean {
  return ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'].includes(kind);
}

export interface AttributionTarget {
  kind: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  pods: { names: string[]; uids: string[] };
}

export type PodMatch =
  | { workload: number; how: 'pod-uid' | 'pod-name' | 'generated-name' }
  | { workload?: undefined; how: 'ambiguous'; candidates: number[] }
  | { workload?: undefined; how: 'none' };

/** Index over the workloads for pod → workload lookups. */
export class WorkloadIndex {
  private readonly byUid = new Map<string, number>();
  private readonly byPodName = new Map<string, number>();
  private readonly bySa = new Map<string, number[]>();
  private readonly memo = new Map<string, PodMatch>();
  readonly targets: readonly AttributionTarget[];

  constructor(targets: readonly AttributionTarget[]) {
    this.targets = targets;
    targets.forEach((t, i) => {
      for (const u of t.pods.uids) if (u) this.byUid.set(u, i);
      for (const n of t.pods.names) if (n) this.byPodName.set(`${t.namespace}/${n}`, i);
      if (t.kind === 'Pod' && !t.pods.names.includes(t.name)) this.byPodName.set(`${t.namespace}/${t.name}`, i);
      const k = `${t.namespace}/${t.serviceAccount}`;
      (this.bySa.get(k) ?? this.bySa.set(k, []).get(k)!).push(i);
    });
  }

  /** Workloads (indexes) that run as this service account. */
  usersOf(namespace: string, serviceAccount: string): readonly number[] {
    return this.bySa.get(`${namespace}/${serviceAccount}`) ?? [];
  }

  match(namespace: string, serviceAccount: string, podName: string | undefined, podUid: string | undefined): PodMatch {
    const key = `${namespace}\u0000${serviceAccount}\u0000${podName ?? ''}\u0000${podUid ?? ''}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const m = this.compute(namespace, serviceAccount, podName, podUid);
    this.memo.set(key, m);
    return m;
  }

  private compute(namespace: string, serviceAccount: string, podName: string | undefined, podUid: string | undefined): PodMatch {
    if (podUid) {
      const i = this.byUid.get(podUid);
      if (i !== undefined) return { workload: i, how: 'pod-uid' };
    }
    if (podName) {
      const i = this.byPodName.get(`${namespace}/${podName}`);
      if (i !== undefined) return { workload: i, how: 'pod-name' };
      const candidates = this.usersOf(namespace, serviceAccount).filter((i) => {
        const t = this.targets[i]!;
        return podNameMatchesWorkload(t.kind, t.name, podName);
      });
      if (candidates.length === 1) return { workload: candidates[0]!, how: 'generated-name' };
      if (candidates.length > 1) {
        // A Job of a CronJob (or a ReplicaSet of a Deployment) listed on its own matches as well as its owner:
        // the candidate whose name extends every other's is the direct owner of the pod.
        const byLength = [...candidates].sort((a, b) => this.targets[b]!.name.length - this.targets[a]!.name.length);
        const longest = this.targets[byLength[0]!]!.name;
        if (byLength.slice(1).every((i) => longest.startsWith(this.targets[i]!.name + '-'))) return { workload: byLength[0]!, how: 'generated-name' };
        return { how: 'ambiguous', candidates };
      }
    }
    return { how: 'none' };
  }
}
