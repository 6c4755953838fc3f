// The live-cluster source: lists what a scan needs, read-only, in pages, and pushes each object into the sink
// looking exactly as `kubectl get -o json` prints it (apiVersion/kind filled in, managedFields dropped as kubectl
// does by default), so a live scan and an offline scan of the same objects see identical input.
//
// Secrets are requested only as PartialObjectMetadataList with a field selector for service-account-token
// Secrets, and only with --secrets-metadata; the last-applied-configuration annotation (which holds the whole
// Secret, data included, when it was created with `kubectl apply`) is dropped before anything else sees it.
import type { InventorySink } from '../../inventory/sink.ts';
import type { CoverageGap, KubeObject, SourceLocation } from '../../inventory/types.ts';
import type { CliIO } from '../../cli/io.ts';
import { EXIT, UserError } from '../../cli/exit-codes.ts';
import { loadKubeConfig, type ClusterConnection, type LoadKubeConfigOptions } from './connection.ts';
import { CredentialSource } from './credentials.ts';
import { ApiError, KubeClient, type RequestPolicy } from './transport.ts';
import { CLUSTER_RESOURCES, apiVersionOf, collectionPath, type ClusterResource } from './resources.ts';
import { makeProgress, type Progress } from './progress.ts';

export { loadKubeConfig } from './connection.ts';
export type { ClusterConnection } from './connection.ts';
export { CLUSTER_RESOURCES, requiredClusterRole } from './resources.ts';

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  /** undefined = all namespaces. */
  namespace?: string;
  selector?: string;
  quiet?: boolean;
  /** List kubernetes.io/service-account-token Secrets as metadata only (needs `list secrets`). Default off. */
  secretsMetadata?: boolean;
  /** Page size (kubectl --chunk-size); default 500. */
  pageSize?: number;
  /** Per-request timeout in ms (kubectl --request-timeout); default 30 s. */
  requestTimeoutMs?: number;
  /** Retry/backoff overrides (tests use short delays). */
  retry?: Partial<RequestPolicy>;
  /** How often one list may restart from scratch after 410 Gone (expired continue token); default 3. */
  maxRelists?: number;
  /** Lists in flight at once; default 2 (API Priority and Fairness charges a LIST by its size). */
  concurrency?: number;
  /** Instrumentation: every raw list item exactly as received, before any processing. */
  onRawItem?: (resource: string, item: Record<string, unknown>) => void;
  /** Already-resolved connection (fix helper, tests); skips kubeconfig loading. */
  connection?: ClusterConnection;
  /** Test hook for in-cluster detection. */
  inClusterRoot?: string;
  /** --as/--as-group/--as-uid: replaces the kubeconfig's impersonation. */
  impersonate?: { user: string; groups: string[]; uid?: string };
}

export interface ResourceStats {
  items: number;
  pages: number;
  relists: number;
  /** 'ok' | 'forbidden' | 'not-served' | 'skipped' (opt-in not given). */
  status: 'ok' | 'forbidden' | 'not-served' | 'skipped';
}

export interface ClusterReadResult {
  serverVersion: string;
  context: string;
  gaps: CoverageGap[];
  /** The namespace read (undefined = all). */
  namespace?: string;
  server?: string;
  stats?: { byResource: Record<string, ResourceStats>; requests: number; retries: number; bytes: number };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** Fields a Secret list item may carry that hold values; none may ever reach us (asserted by tests). */
export const SECRET_VALUE_FIELDS = ['data', 'stringData'] as const;

/** What the scan puts into the Inventory from a live read (origin, version, gaps, completeness). */
export function clusterInventoryFields(r: ClusterReadResult): { origin: 'cluster'; serverVersion: string; gaps: CoverageGap[]; completeServiceAccounts: boolean } {
  return {
    origin: 'cluster',
    serverVersion: r.serverVersion,
    gaps: r.gaps,
    completeServiceAccounts: !r.gaps.some((g) => g.resource === 'serviceaccounts'),
  };
}

/** A tiny counting semaphore: at most `n` lists in flight. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

function stripMetadata(meta: Record<string, unknown> | undefined): void {
  if (!meta) return;
  delete meta.managedFields;
  const ann = meta.annotations as Record<string, string> | undefined;
  if (ann && LAST_APPLIED in ann) {
    delete ann[LAST_APPLIED];
    if (Object.keys(ann).length === 0) delete meta.annotations;
  }
}

/** Shapes one list item like `kubectl get -o json` prints it. Secrets become metadata-only objects with their type. */
export function normaliseItem(r: ClusterResource, item: Record<string, unknown>): KubeObject {
  if (r.resource === 'secrets') {
    const meta = (item.metadata ?? {}) as Record<string, unknown>;
    stripMetadata(meta);
    // Only metadata was requested; anything else in the item is ignored, never copied.
    return { apiVersion: 'v1', kind: 'Secret', metadata: meta, type: SA_TOKEN_TYPE } as KubeObject;
  }
  stripMetadata(item.metadata as Record<string, unknown> | undefined);
  // List items come without apiVersion/kind; kubectl fills them in. Key order as kubectl prints it.
  const { apiVersion: _a, kind: _k, ...rest } = item;
  return { apiVersion: apiVersionOf(r), kind: r.kind, ...rest } as KubeObject;
}

function query(params: Record<string, string | undefined>): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');
  return q ? `?${q}` : '';
}

function isExpired(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

/** Lists the cluster read-only and pushes every object into the sink. Never reads Secret values. */
export async function readCluster(opts: ClusterOptions, sink: InventorySink, io: CliIO): Promise<ClusterReadResult> {
  const kcOpts: LoadKubeConfigOptions = { env: io.env };
  if (opts.kubeconfig) kcOpts.kubeconfig = opts.kubeconfig;
  if (opts.context) kcOpts.context = opts.context;
  if (opts.inClusterRoot) kcOpts.inClusterRoot = opts.inClusterRoot;
  let conn = opts.connection ?? loadKubeConfig(kcOpts);
  if (opts.impersonate) {
    conn = { ...conn, impersonate: { user: opts.impersonate.user, groups: opts.impersonate.groups, extra: {}, ...(opts.impersonate.uid ? { uid: opts.impersonate.uid } : {}) } };
  }
  const progress = makeProgress(io.stderr, opts.quiet ?? false);
  const creds = new CredentialSource(conn, { env: io.env, stdinIsTTY: !!io.stdin.isTTY, stderr: io.stderr });
  let retries = 0;
  const policy: Partial<RequestPolicy> = { ...opts.retry };
  if (opts.requestTimeoutMs !== undefined) policy.timeoutMs = opts.requestTimeoutMs;
  const client = new KubeClient(conn, creds, {
    env: io.env,
    policy,
    maxSockets: Math.max(2, opts.concurrency ?? 2),
    onRetry: (e) => {
      retries++;
      progress.retry(e.path.split('?')[0]!.split('/').pop() ?? e.path, e.cause, e.delayMs, e.attempt);
    },
  });
  const stats = { byResource: {} as Record<string, ResourceStats>, requests: 0, retries: 0, bytes: 0 };
  const gaps: CoverageGap[] = [];
  const location: SourceLocation = { file: `cluster:${conn.contextName}`, line: 0 };
  const where = `${conn.server} (context ${conn.contextName})`;

  const fatal = (err: unknown, what: string): never => {
    if (err instanceof UserError) throw err;
    if (err instanceof ApiError) {
      if (err.status === 401) throw new UserError(`${where} rejected the credentials of user "${conn.userName || '(none)'}" (401 Unauthorized) while ${what}`, EXIT.CLUSTER_UNAVAILABLE);
      throw new UserError(`${what} on ${where} failed: HTTP ${err.status}: ${err.message}`, EXIT.CLUSTER_UNAVAILABLE);
    }
    throw err;
  };

  try {
    let serverVersion = '';
    try {
      const v = await client.get('/version');
      stats.requests++;
      serverVersion = String((v.body as { gitVersion?: unknown })?.gitVersion ?? '');
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        gaps.push({ resource: '/version', reason: `forbidden: ${err.message}`, weakens: ['built-in RBAC policy version (the pinned release is assumed)'] });
      } else fatal(err, 'reading /version');
    }

    const run = limiter(Math.max(1, opts.concurrency ?? 2));
    const pageSize = opts.pageSize ?? 500;
    const maxRelists = opts.maxRelists ?? 3;

    const listOne = async (r: ClusterResource): Promise<void> => {
      const st: ResourceStats = { items: 0, pages: 0, relists: 0, status: 'ok' };
      stats.byResource[r.resource] = st;
      if (r.optIn === 'secrets-metadata' && !opts.secretsMetadata) {
        st.status = 'skipped';
        return;
      }
      progress.listing(r.resource);
      // -n: a namespace is read as the single object (get), the collection otherwise.
      if (r.resource === 'namespaces' && opts.namespace) {
        try {
          const res = await client.get(`/api/v1/namespaces/${encodeURIComponent(opts.namespace)}`);
          stats.requests++;
          stats.bytes += res.bytes;
          const item = res.body as Record<string, unknown>;
          opts.onRawItem?.(r.resource, item);
          push(r, item);
          st.items = 1;
          st.pages = 1;
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) throw new UserError(`namespace "${opts.namespace}" not found on ${where}`, EXIT.USAGE);
          if (err instanceof ApiError && err.status === 403) recordGap(r, st, err);
          else fatal(err, `reading namespace ${opts.namespace}`);
        }
        progress.done(r.resource, st.items, st.pages);
        return;
      }
      const path = collectionPath(r, opts.namespace);
      const accept = r.resource === 'secrets' ? METADATA_LIST_ACCEPT : 'application/json';
      const base = {
        labelSelector: r.selectable ? opts.selector : undefined,
        fieldSelector: r.resource === 'secrets' ? `type=${SA_TOKEN_TYPE}` : undefined,
        limit: pageSize > 0 ? String(pageSize) : undefined,
      };
      // Objects already pushed, so a restart after 410 does not push them twice (uid, else namespace/name).
      const pushed = new Set<string>();
      let cont: string | undefined;
      for (;;) {
        let body: { metadata?: { continue?: string }; items?: Record<string, unknown>[] };
        try {
          const res = await client.get(path + query({ ...base, continue: cont }), accept);
          stats.requests++;
          stats.bytes += res.bytes;
          body = res.body as typeof body;
        } catch (err) {
          if (isExpired(err) && cont !== undefined && st.relists < maxRelists) {
            // The continue token expired: a consistent list needs a restart from the beginning.
            st.relists++;
            cont = undefined;
            continue;
          }
          if (err instanceof ApiError && err.status === 403) {
            recordGap(r, st, err);
            progress.done(r.resource, st.items, st.pages, 'forbidden');
            return;
          }
          if (err instanceof ApiError && err.status === 404 && st.pages === 0) {
            st.status = 'not-served';
            progress.done(r.resource, 0, 0, 'not served by this API server');
            return;
          }
          if (isExpired(err)) throw new UserError(`listing ${r.resource} on ${where}: the continue token expired ${st.relists} times in a row (410 Gone); the list is too slow for the server's token lifetime — try a larger --chunk-size`, EXIT.CLUSTER_UNAVAILABLE);
          return fatal(err, `listing ${r.resource}`);
        }
        st.pages++;
        const items = Array.isArray(body?.items) ? body.items : [];
        for (const item of items) {
          opts.onRawItem?.(r.resource, item);
          const m = (item.metadata ?? {}) as { uid?: string; namespace?: string; name?: string };
          const key = m.uid ?? `${m.namespace ?? ''}/${m.name ?? ''}`;
          if (st.relists > 0 && pushed.has(key)) continue;
          pushed.add(key);
          push(r, item);
          st.items++;
        }
        progress.page(r.resource, st.items, st.pages);
        cont = body?.metadata?.continue || undefined;
        if (!cont) break;
      }
      progress.done(r.resource, st.items, st.pages, st.relists ? `restarted ${st.relists}× after 410 Gone` : undefined);
    };

    const recordGap = (r: ClusterResource, st: ResourceStats, err: ApiError) => {
      st.status = 'forbidden';
      const gap: CoverageGap = { resource: r.group ? `${r.resource}.${r.group}` : r.resource, reason: `forbidden (403): ${err.message}`, weakens: [...r.weakens] };
      if (r.namespaced && opts.namespace) gap.namespace = opts.namespace;
      gaps.push(gap);
    };

    const push = (r: ClusterResource, item: Record<string, unknown>) => {
      if (sink.wantsKind && !sink.wantsKind(r.kind)) {
        sink.skipped(`kind ${r.kind} not analysed`);
        return;
      }
      sink.document();
      sink.object({ object: normaliseItem(r, item), location });
    };

    await Promise.all(CLUSTER_RESOURCES.map((r) => run(() => listOne(r))));
    stats.retries = retries;
    const total = Object.values(stats.byResource).reduce((a, s) => a + s.items, 0);
    progress.finish(`read ${total} objects from ${conn.contextName} in ${stats.requests} requests${retries ? `, ${retries} retries` : ''}${gaps.length ? `; ${gaps.length} resource(s) forbidden` : ''}`);
    const result: ClusterReadResult = { serverVersion, context: conn.contextName, gaps, server: conn.server, stats };
    if (opts.namespace) result.namespace = opts.namespace;
    return result;
  } finally {
    client.close();
  }
}
