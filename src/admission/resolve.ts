// Simulates the ServiceAccount admission plugin on Pod creation (kubernetes-semantics.md §1), then finds every
// other way a service-account token reaches a container (§2): hand-made projected `serviceAccountToken`
// volumes and legacy `kubernetes.io/service-account-token` Secrets.
//
// Upstream: plugin/pkg/admission/serviceaccount/admission.go (Admit: mirror pods, default SA name, SA lookup,
// shouldAutomount, mountServiceAccountToken), pkg/apis/core/v1/conversion.go (deprecated serviceAccount alias),
// pkg/serviceaccount/jwt.go (audiences).
import type { Container, Inventory, ServiceAccount, Volume, Workload } from '../inventory/types.ts';
import { serviceAccountKey } from '../inventory/types.ts';
import { serviceAccountGap } from '../inventory/gaps.ts';
import type { AutomountDecision, TokenSource, TokenVerdict, Tri } from '../analysis/types.ts';
import { isApiAudience, type AudienceOptions } from './audience.ts';
import { internerFor } from '../inventory/intern.ts';

/** `DefaultAPITokenMountPath` (k8s.io/api core/v1). Compared as a plain string, no normalisation. */
export const SA_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** `MirrorPodAnnotationKey`. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
export const KUBE_API_ACCESS_PREFIX = 'kube-api-access-';
/** `WarnOnlyBoundTokenExpirationSeconds` = 60*60+7: what the injected volume requests (pkg/serviceaccount/claims.go). */
export const AUTOMOUNT_EXPIRATION_SECONDS = 3607;
/** `ServiceAccountTokenProjection.expirationSeconds` default (core/v1). */
export const PROJECTED_DEFAULT_EXPIRATION_SECONDS = 3600;
/** Label the legacy-token cleaner puts on an invalidated Secret token; its token no longer authenticates (§2.4). */
export const LEGACY_TOKEN_INVALID_SINCE_LABEL = 'kubernetes.io/legacy-token-invalid-since';
/** Name shown for the volume admission would add (its real name has 5 random characters). */
export const GENERATED_VOLUME_NAME = 'kube-api-access-<random>';

export type ResolveOptions = AudienceOptions;

type ContainerKind = 'init' | 'sidecar' | 'container' | 'ephemeral';
interface ContainerRef {
  kind: ContainerKind;
  c: Container;
}

/** Init containers first (sidecars are init containers with restartPolicy Always), then containers, then ephemeral. */
function containersOf(w: Workload): ContainerRef[] {
  const s = w.template.spec;
  return [
    ...(s.initContainers ?? []).map((c) => ({ kind: (c.restartPolicy === 'Always' ? 'sidecar' : 'init') as ContainerKind, c })),
    ...(s.containers ?? []).map((c) => ({ kind: 'container' as ContainerKind, c })),
    ...(s.ephemeralContainers ?? []).map((c) => ({ kind: 'ephemeral' as ContainerKind, c })),
  ];
}

export interface EffectiveServiceAccount {
  name: string;
  /** Which field named it (§1.3): `serviceAccountName` wins over the deprecated alias; neither → `default`. */
  from: 'serviceAccountName' | 'serviceAccount' | 'default';
}

export function effectiveServiceAccount(w: Workload): EffectiveServiceAccount {
  const s = w.template.spec;
  if (s.serviceAccountName) return { name: s.serviceAccountName, from: 'serviceAccountName' };
  if (s.serviceAccount) return { name: s.serviceAccount, from: 'serviceAccount' };
  return { name: 'default', from: 'default' };
}

export interface ServiceAccountLookup {
  name: string;
  from: EffectiveServiceAccount['from'];
  /** `present` in the input; `builtin-default` = `default`, which the ServiceAccount controller keeps in every namespace; `missing`. */
  status: 'present' | 'builtin-default' | 'missing';
  sa?: ServiceAccount;
}

export function lookupServiceAccount(w: Workload, inv: Inventory): ServiceAccountLookup {
  const eff = effectiveServiceAccount(w);
  const sa = inv.serviceAccounts.get(serviceAccountKey(w.namespace, eff.name));
  if (sa) return { ...eff, status: 'present', sa };
  // The controller keeps `default` in every namespace, but its automount value is only known when the input
  // could hold it: a live scan refused `list serviceaccounts` cannot assume the built-in (unset) value.
  if (eff.name === 'default' && !serviceAccountGap(inv, w.namespace)) return { ...eff, status: 'builtin-default' };
  return { ...eff, status: 'missing' };
}

const hasTypeError = (errors: readonly string[] | undefined, field: string): boolean => (errors ?? []).some((e) => e === field || e.endsWith('.' + field));

/** shouldAutomount (§1.4): the pod's value, else the ServiceAccount's, else true. */
export function automountDecision(w: Workload, lookup: ServiceAccountLookup): AutomountDecision {
  const podValue = w.template.spec.automountServiceAccountToken;
  const podLocation = w.automountLine !== undefined ? { ...w.location, line: w.automountLine } : w.location;
  if (hasTypeError(w.typeErrors, 'automountServiceAccountToken')) return { effective: 'unknown', decidedBy: 'unknown', podLocation };
  if (podValue !== undefined) {
    const d: AutomountDecision = { effective: podValue, decidedBy: 'pod', podValue, podLocation };
    if (lookup.sa?.automountServiceAccountToken !== undefined) {
      d.serviceAccountValue = lookup.sa.automountServiceAccountToken;
      d.serviceAccountLocation = lookup.sa.location;
    }
    return d;
  }
  if (hasTypeError(w.typeErrors, 'serviceAccountName') || hasTypeError(w.typeErrors, 'serviceAccount')) return { effective: 'unknown', decidedBy: 'unknown' };
  if (lookup.status === 'missing') return { effective: 'unknown', decidedBy: 'unknown' };
  const sa = lookup.sa;
  if (sa && hasTypeError(sa.typeErrors, 'automountServiceAccountToken')) return { effective: 'unknown', decidedBy: 'unknown', serviceAccountLocation: sa.location };
  if (sa?.automountServiceAccountToken !== undefined) {
    return { effective: sa.automountServiceAccountToken, decidedBy: 'serviceaccount', serviceAccountValue: sa.automountServiceAccountToken, serviceAccountLocation: sa.location };
  }
  return { effective: true, decidedBy: 'default', ...(sa ? { serviceAccountLocation: sa.location } : {}) };
}

const mounts = (c: Container, volume: string): boolean => (c.volumeMounts ?? []).some((m) => m.name === volume);
const isTokenVolume = (v: Volume): boolean => (v.projected?.sources ?? []).some((s) => s.serviceAccountToken !== undefined);

function fmtSeconds(s: number): string {
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  return `${s}s`;
}

function list(names: string[]): string {
  return names.length ? names.join(', ') : '(none)';
}

/** One source per projected `serviceAccountToken` entry of a volume, delivered to the containers that mount it. */
function projectedSources(v: Volume, receivers: string[], kind: 'automount' | 'projected', identity: string, opts: ResolveOptions, how: string): TokenSource[] {
  const out: TokenSource[] = [];
  for (const src of v.projected?.sources ?? []) {
    const sat = src.serviceAccountToken;
    if (!sat) continue;
    const audiences = sat.audience ? [sat.audience] : [];
    const api = isApiAudience(sat.audience, opts);
    const exp = sat.expirationSeconds ?? PROJECTED_DEFAULT_EXPIRATION_SECONDS;
    const aud = sat.audience ? `audience ${sat.audience}` : "the API server's own audiences";
    out.push({
      kind,
      volume: v.name,
      audiences,
      expirationSeconds: exp,
      apiAudience: api,
      containers: receivers,
      serviceAccount: identity,
      detail:
        `${how} volume ${v.name}: token of ServiceAccount ${identity} for ${aud}, ${fmtSeconds(exp)} expiry, ` +
        (api ? 'accepted by the API server' : `not accepted by the API server by default (--api-audiences defaults to the issuer)`),
    });
  }
  return out;
}

/**
 * Resolves which service-account tokens the pods of a workload carry, exactly as the API server would admit a
 * Pod created from its template (or, for a Pod read back from a cluster, as it was admitted).
 * `needed` is left `unknown`: the RBAC and audit-evidence analyses fill it.
 */
export function resolveWorkloadToken(w: Workload, inv: Inventory, opts: ResolveOptions = {}): TokenVerdict {
  const spec = w.template.spec;
  const lookup = lookupServiceAccount(w, inv);
  const identity = serviceAccountKey(w.namespace, lookup.name);
  const decision = automountDecision(w, lookup);
  const refs = containersOf(w);
  const volumes = spec.volumes ?? [];
  const sources: TokenSource[] = [];
  const notes: string[] = [];
  let automountPending: string[] = []; // containers that get the token if the unknown automount turns out true
  let automountVolume: string | undefined; // volume handled as the automount volume (excluded from the projected scan)
  let head: string;

  const isMirror = w.kind === 'Pod' && w.template.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
  const saText = lookup.status === 'builtin-default' ? `ServiceAccount ${identity} (not in the input; the cluster creates it with automount unset)` : `ServiceAccount ${identity}`;

  if (isMirror) {
    // §1.7: mirror pods are never mutated; Validate rejects them if they reference an SA, a Secret or a token projection.
    head = 'mirror (static) pod: the ServiceAccount admission plugin never mutates it, so no token is added';
    const refsSomething = !!spec.serviceAccountName || volumes.some((v) => isTokenVolume(v) || v.secret) || refs.some(({ c }) => (c.env ?? []).length > 0 || (c.envFrom ?? []).length > 0);
    if (refsSomething) notes.push('the API server rejects a mirror pod that names a ServiceAccount, references a Secret or projects a token');
    return finish(w, inv, decision, [], [], head, notes);
  }

  if (lookup.status === 'missing' && inv.completeServiceAccounts && !w.alreadyAdmitted) {
    head = `ServiceAccount ${identity} does not exist and the input lists every ServiceAccount: the API server rejects the pod ("error looking up service account ${identity}"), so it never runs`;
    return finish(w, inv, { ...decision, effective: false }, [], [], head, notes);
  }

  if (w.alreadyAdmitted) {
    // Admission already ran: whatever kube-api-access-* volume the pod has is the injected one.
    const injected = volumes.find((v) => v.name.startsWith(KUBE_API_ACCESS_PREFIX));
    if (injected) {
      automountVolume = injected.name;
      const receivers = refs.filter(({ c }) => mounts(c, injected.name)).map(({ c }) => c.name);
      if (receivers.length && isTokenVolume(injected)) sources.push(...projectedSources(injected, receivers, 'automount', identity, opts, 'injected'));
      head = `pod read back from the cluster (admission already ran): injected volume ${injected.name} is mounted into ${list(receivers)}`;
    } else {
      head = 'pod read back from the cluster (admission already ran): it has no kube-api-access volume, so no automounted token';
    }
  } else {
    head = automountHead(decision, lookup, saText);
    if (decision.effective !== false) {
      // mountServiceAccountToken (§1.5): init containers (incl. sidecars) then containers; ephemeral never;
      // a container that already mounts something at the token path is skipped.
      const candidates = refs.filter((r) => r.kind !== 'ephemeral');
      const skipped = candidates.filter(({ c }) => (c.volumeMounts ?? []).some((m) => m.mountPath === SA_TOKEN_MOUNT_PATH)).map(({ c }) => c.name);
      const receivers = candidates.filter(({ c }) => !skipped.includes(c.name)).map(({ c }) => c.name);
      const existing = volumes.find((v) => v.name.startsWith(KUBE_API_ACCESS_PREFIX));
      if (skipped.length) notes.push(`${skipped.join(', ')} already mount${skipped.length === 1 ? 's' : ''} something at ${SA_TOKEN_MOUNT_PATH} and ${skipped.length === 1 ? 'is' : 'are'} skipped`);
      if (decision.effective === 'unknown') {
        automountPending = receivers;
      } else if (receivers.length === 0) {
        notes.push('no container receives the automounted token, so admission adds no volume');
      } else if (existing) {
        // Name-only check: the pod's own kube-api-access-* volume is reused, whatever it holds.
        automountVolume = existing.name;
        if (isTokenVolume(existing)) {
          sources.push(...projectedSources(existing, receivers, 'automount', identity, opts, `reused (the pod already has a kube-api-access-* volume)`));
        } else {
          notes.push(`the pod already has a volume named ${existing.name}: admission reuses it by name and mounts it at ${SA_TOKEN_MOUNT_PATH}, but it holds no token`);
        }
      } else {
        sources.push({
          kind: 'automount',
          volume: GENERATED_VOLUME_NAME,
          audiences: [],
          expirationSeconds: AUTOMOUNT_EXPIRATION_SECONDS,
          apiAudience: true,
          containers: receivers,
          serviceAccount: identity,
          detail: `admission adds projected volume ${GENERATED_VOLUME_NAME} (token of ${identity}, API audiences, requested 3607s, which the API server extends to one year) at ${SA_TOKEN_MOUNT_PATH}`,
        });
      }
    }
  }

  // Hand-made projected serviceAccountToken volumes (§1.4: automount false does not stop them).
  for (const v of volumes) {
    if (v.name === automountVolume || !isTokenVolume(v)) continue;
    const receivers = refs.filter(({ c }) => mounts(c, v.name)).map(({ c }) => c.name);
    if (!receivers.length) {
      notes.push(`volume ${v.name} projects a token but no container mounts it`);
      continue;
    }
    sources.push(...projectedSources(v, receivers, 'projected', identity, opts, 'hand-made projected'));
  }

  sources.push(...legacySecretSources(w, inv, refs, volumes, automountVolume));

  if (w.alreadyAdmitted && lookup.status === 'missing' && inv.completeServiceAccounts) {
    // The authenticator checks that the token's ServiceAccount still exists (claims.go Validate, §2.1): a pod
    // admitted before its ServiceAccount was deleted holds a token the API server now rejects.
    for (const s of sources) {
      if (s.kind === 'automount' || s.kind === 'projected') {
        s.apiAudience = false;
        s.detail += `; ServiceAccount ${identity} no longer exists, so the API server rejects this token`;
      }
    }
  }

  return finish(w, inv, decision, sources, automountPending, head, notes);
}

function automountHead(d: AutomountDecision, lookup: ServiceAccountLookup, saText: string): string {
  const field = 'automountServiceAccountToken';
  switch (d.decidedBy) {
    case 'pod': {
      const over = d.serviceAccountValue !== undefined && d.serviceAccountValue !== d.podValue ? ` (overriding ${saText}, which sets ${d.serviceAccountValue})` : '';
      return `automount ${d.podValue ? 'on' : 'off'}: the pod template sets ${field}: ${d.podValue}${over}`;
    }
    case 'serviceaccount':
      return `automount ${d.serviceAccountValue ? 'on' : 'off'}: ${saText} sets ${field}: ${d.serviceAccountValue} and the pod does not set it`;
    case 'default':
      return `automount on by default: neither the pod nor ${saText} sets ${field}`;
    default:
      if (lookup.status === 'missing') return `automount unknown: ServiceAccount ${lookup.name} is not in the input and the pod does not set ${field}`;
      return `automount unknown: ${field} or the ServiceAccount name has the wrong type in the input`;
  }
}

/** Legacy Secret tokens reached by a secret volume, a projected secret source, env secretKeyRef or envFrom (§2.4). */
function legacySecretSources(w: Workload, inv: Inventory, refs: ContainerRef[], volumes: Volume[], skipVolume: string | undefined): TokenSource[] {
  const out: TokenSource[] = [];
  const tokenSecret = (name: string | undefined) => (name ? inv.tokenSecrets.get(serviceAccountKey(w.namespace, name)) : undefined);
  const describeSecret = (name: string): { identity: string; api: Tri; why: string } => {
    const ts = tokenSecret(name)!;
    const identity = serviceAccountKey(w.namespace, ts.serviceAccountName ?? '(unannotated)');
    const invalid = ts.labels[LEGACY_TOKEN_INVALID_SINCE_LABEL];
    return invalid
      ? { identity, api: false, why: `invalidated by the legacy-token cleaner since ${invalid}: the API server rejects it` }
      : { identity, api: true, why: 'no expiry, no audience: the API server accepts it until the Secret is deleted' };
  };
  const hasTokenKey = (items: { key: string }[] | undefined): boolean => items === undefined || items.some((i) => i.key === 'token');
  for (const v of volumes) {
    if (v.name === skipVolume) continue;
    const names: string[] = [];
    if (v.secret?.secretName && tokenSecret(v.secret.secretName) && hasTokenKey((v.secret as { items?: { key: string }[] }).items)) names.push(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) if (s.secret?.name && tokenSecret(s.secret.name) && hasTokenKey(s.secret.items)) names.push(s.secret.name);
    if (!names.length) continue;
    const receivers = refs.filter(({ c }) => mounts(c, v.name)).map(({ c }) => c.name);
    if (!receivers.length) continue;
    for (const name of names) {
      const d = describeSecret(name);
      out.push({ kind: 'legacy-secret', volume: v.name, secret: name, audiences: [], apiAudience: d.api, containers: receivers, serviceAccount: d.identity, detail: `legacy token Secret ${name} (ServiceAccount ${d.identity}) mounted through volume ${v.name}: ${d.why}` });
    }
  }
  const envBySecret = new Map<string, string[]>();
  for (const { c } of refs) {
    const names = new Set<string>();
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref?.name && ref.key === 'token' && tokenSecret(ref.name)) names.add(ref.name);
    }
    for (const e of c.envFrom ?? []) if (e.secretRef?.name && tokenSecret(e.secretRef.name)) names.add(e.secretRef.name);
    for (const n of names) envBySecret.set(n, [...(envBySecret.get(n) ?? []), c.name]);
  }
  for (const [name, receivers] of envBySecret) {
    const d = describeSecret(name);
    out.push({ kind: 'env', secret: name, audiences: [], apiAudience: d.api, containers: receivers, serviceAccount: d.identity, detail: `legacy token Secret ${name} (ServiceAccount ${d.identity}) exposed as an environment variable: ${d.why}` });
  }
  return out;
}

/**
 * The verdict from what the resolver found. Its sentences and lists are taken from the scan's interner
 * (inventory/intern.ts): workloads of one ServiceAccount repeat them, and the reason is joined from the shared
 * parts, so equal parts are held once however many workloads name them.
 */
function finish(w: Workload, inv: Inventory, decision: AutomountDecision, found: TokenSource[], pending: string[], head: string, notes: string[]): TokenVerdict {
  const I = internerFor(inv);
  const sources = found.filter((s) => s.containers.length > 0);
  for (const s of sources) {
    s.containers = I.list(s.containers);
    if (s.audiences) s.audiences = I.list(s.audiences);
    s.detail = I.string(s.detail);
  }
  const typeErrors = w.typeErrors ?? [];
  const order = containersOf(w).map(({ c }) => c.name);
  const names = new Set(sources.flatMap((s) => s.containers));
  const containers = I.list(order.filter((n) => names.has(n)));
  const uncertain = pending.length > 0 || typeErrors.length > 0;
  const mounted: Tri = sources.length ? true : uncertain ? 'unknown' : false;
  const apiAccess: Tri = sources.some((s) => s.apiAudience === true)
    ? true
    : uncertain || sources.some((s) => s.apiAudience === 'unknown')
      ? 'unknown'
      : false;
  const parts = [I.string(head)];
  if (pending.length) parts.push(I.string(`${pending.join(', ')} would get the token if it is on`));
  for (const s of sources) if (s.kind !== 'automount' || !head.includes(s.volume ?? '\u0000')) parts.push(I.string(`${s.detail}; into ${s.containers.join(', ')}`));
  for (const n of notes) parts.push(I.string(n));
  const ap = w.admittedPods;
  if (ap) parts.push(I.string(`${ap.withInjectedToken} of ${ap.count} running pod${ap.count === 1 ? '' : 's'} read back from the cluster carr${ap.withInjectedToken === 1 && ap.count === 1 ? 'ies' : 'y'} the injected token`));
  if (typeErrors.length) parts.push(`fields with the wrong type make the answer unknown: ${typeErrors.join(', ')}`);
  // `+`, not join: the result refers to the shared parts instead of copying them into a new string. It is not
  // interned itself: hashing a 400-character sentence per workload cost more time than the rare repeat saved.
  let reason = parts[0]!;
  for (let i = 1; i < parts.length; i++) reason = reason + '; ' + parts[i]!;
  return {
    mounted,
    apiAccess,
    containers,
    sources,
    automount: decision,
    reason,
    needed: 'unknown',
    neededReason: 'not analysed: needs the RBAC analysis',
  };
}
