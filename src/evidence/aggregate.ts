// Folds service-account calls into per-principal statistics as they stream in. Memory grows with the number of
// distinct (service account, pod, operation) triples the cluster has, never with the size of the logs; object
// names per operation are capped (past the cap, the operation counts as "many names", as audit2rbac widens it).
import type { ServiceAccountCall } from '../sources/audit-log/types.ts';

export const MAX_NAMES_PER_OP = 64;

/** One operation as the authorizer sees it: a resource request or a non-resource path, with a verb. */
export interface OpStats {
  verb: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  /** undefined = cluster-scoped request or across all namespaces. */
  namespace?: string;
  /** Non-resource URL path. */
  path?: string;
  calls: number;
  allowed: number;
  denied: number;
  /** Names the allowed calls targeted; null once more than MAX_NAMES_PER_OP were seen. */
  names: Set<string> | null;
  /** Allowed calls without an object name (list, create, …). */
  unnamed: number;
  /** The op is needed to impersonate another identity (the request itself ran as that identity). */
  forImpersonation?: boolean;
}

export interface PrincipalStats {
  namespace: string;
  serviceAccount: string;
  /** `pod`: Pod-bound token; `service-account`: token without pod identity; `impersonated`: someone acted as the SA. */
  kind: 'pod' | 'service-account' | 'impersonated';
  podName?: string;
  podUid?: string;
  calls: number;
  allowed: number;
  denied: number;
  legacyTokenCalls: number;
  firstSeen?: string;
  lastSeen?: string;
  ops: Map<string, OpStats>;
  /** Impersonators (identity `impersonated`). */
  impersonatedBy: Set<string>;
  /** Credential IDs (user.extra credential-id) of tokens without pod identity; capped. */
  credentialIds: Set<string>;
  userAgents: Set<string>;
}

const MAX_USER_AGENTS = 5;
const MAX_CREDENTIAL_IDS = 1000;

/** Whether the authorizer allowed the request: the decision annotation, else a 403 means it did not. */
export function callAllowed(c: ServiceAccountCall): boolean {
  if (c.decision) return c.decision === 'allow';
  return c.code !== 403;
}

function opKey(verb: string, g: string, r: string, sub: string, ns: string, path: string): string {
  return `${verb}\u0000${g}\u0000${r}\u0000${sub}\u0000${ns}\u0000${path}`;
}

export class EvidenceAggregator {
  readonly principals = new Map<string, PrincipalStats>();

  add(c: ServiceAccountCall): void {
    const kind: PrincipalStats['kind'] = c.identity === 'impersonated' ? 'impersonated' : c.podName || c.podUid ? 'pod' : 'service-account';
    const { namespace, name } = c.serviceAccount;
    const key = kind === 'pod' ? `${namespace}\u0000${name}\u0000pod\u0000${c.podName ?? ''}\u0000${c.podUid ?? ''}` : `${namespace}\u0000${name}\u0000${kind}`;
    let p = this.principals.get(key);
    if (!p) {
      p = { namespace, serviceAccount: name, kind, calls: 0, allowed: 0, denied: 0, legacyTokenCalls: 0, ops: new Map(), impersonatedBy: new Set(), credentialIds: new Set(), userAgents: new Set() };
      if (kind === 'pod') {
        if (c.podName) p.podName = c.podName;
        if (c.podUid) p.podUid = c.podUid;
      }
      this.principals.set(key, p);
    }
    const allowed = callAllowed(c);
    p.calls++;
    if (allowed) p.allowed++; else p.denied++;
    if (c.legacyToken) p.legacyTokenCalls++;
    const t = c.requestReceivedTimestamp;
    if (!p.firstSeen || t < p.firstSeen) p.firstSeen = t;
    if (!p.lastSeen || t > p.lastSeen) p.lastSeen = t;
    if (c.impersonatedBy) p.impersonatedBy.add(c.impersonatedBy);
    if (c.userAgent && p.userAgents.size < MAX_USER_AGENTS) p.userAgents.add(c.userAgent);
    if (kind === 'service-account' && c.credentialId && p.credentialIds.size < MAX_CREDENTIAL_IDS) p.credentialIds.add(c.credentialId);

    if (c.impersonating) {
      // The request was authorised as the impersonated identity; what the SA itself needed is `impersonate`.
      if (allowed) for (const op of impersonationOps(c)) this.addOp(p, op.verb, op.apiGroup, op.resource, op.subresource ?? '', op.namespace ?? '', '', op.name, true, true);
      return;
    }
    if (c.objectRef) {
      const o = c.objectRef;
      this.addOp(p, c.verb, o.apiGroup, o.resource, o.subresource ?? '', o.namespace ?? '', '', o.name, allowed, false);
    } else {
      this.addOp(p, c.verb, '', '', '', '', c.path ?? '/', undefined, allowed, false);
    }
  }

  private addOp(p: PrincipalStats, verb: string, g: string, r: string, sub: string, ns: string, path: string, name: string | undefined, allowed: boolean, forImpersonation: boolean): void {
    const k = opKey(verb, g, r, sub, ns, path);
    let op = p.ops.get(k);
    if (!op) {
      op = path ? { verb, path, calls: 0, allowed: 0, denied: 0, names: new Set(), unnamed: 0 } : { verb, apiGroup: g, resource: r, calls: 0, allowed: 0, denied: 0, names: new Set(), unnamed: 0 };
      if (sub) op.subresource = sub;
      if (ns) op.namespace = ns;
      if (forImpersonation) op.forImpersonation = true;
      p.ops.set(k, op);
    }
    op.calls++;
    if (!allowed) { op.denied++; return; }
    op.allowed++;
    if (name && op.names) {
      op.names.add(name);
      if (op.names.size > MAX_NAMES_PER_OP) op.names = null;
    } else if (!name) op.unnamed++;
  }
}

/** The `impersonate` checks a request with Impersonate-* headers passed (k8s.io/apiserver impersonation filter). */
function impersonationOps(c: ServiceAccountCall): { verb: string; apiGroup: string; resource: string; subresource?: string; namespace?: string; name: string }[] {
  const t = c.impersonating!;
  const out: { verb: string; apiGroup: string; resource: string; subresource?: string; namespace?: string; name: string }[] = [];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(t.username);
  if (sa) out.push({ verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa[1]!, name: sa[2]! });
  else out.push({ verb: 'impersonate', apiGroup: '', resource: 'users', name: t.username });
  // Groups the filter adds by itself are not requested with Impersonate-Group.
  const implicit = new Set(['system:authenticated', 'system:unauthenticated', ...(sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [])]);
  for (const g of t.groups) if (!implicit.has(g)) out.push({ verb: 'impersonate', apiGroup: '', resource: 'groups', name: g });
  for (const [k, vals] of Object.entries(t.extra)) for (const v of vals) out.push({ verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, name: v });
  if (t.uid) out.push({ verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: t.uid });
  return out;
}

/** Merges op maps (several pods of one workload). */
export function mergeOps(into: Map<string, OpStats>, from: Map<string, OpStats>): void {
  for (const [k, op] of from) {
    const cur = into.get(k);
    if (!cur) {
      into.set(k, { ...op, names: op.names ? new Set(op.names) : null });
      continue;
    }
    cur.calls += op.calls;
    cur.allowed += op.allowed;
    cur.denied += op.denied;
    cur.unnamed += op.unnamed;
    if (!cur.names || !op.names) cur.names = null;
    else {
      for (const n of op.names) cur.names.add(n);
      if (cur.names.size > MAX_NAMES_PER_OP) cur.names = null;
    }
  }
}

/** `get,list configmaps in team-a`, `update leases.coordination.k8s.io in team-a`, `get /version`. */
export function describeOps(ops: Iterable<OpStats>, which: 'allowed' | 'denied'): string[] {
  const groups = new Map<string, { verbs: Set<string>; target: string }>();
  for (const op of ops) {
    if ((which === 'allowed' ? op.allowed : op.denied) === 0) continue;
    let target: string;
    if (op.path !== undefined) target = op.path;
    else {
      const res = (op.apiGroup ? `${op.resource}.${op.apiGroup}` : op.resource!) + (op.subresource ? `/${op.subresource}` : '');
      target = `${res} ${op.namespace ? `in ${op.namespace}` : 'cluster-wide'}`;
    }
    const g = groups.get(target) ?? groups.set(target, { verbs: new Set(), target }).get(target)!;
    g.verbs.add(op.verb);
  }
  return [...groups.values()].map((g) => `${[...g.verbs].sort().join(',')} ${g.target}`).sort();
}
