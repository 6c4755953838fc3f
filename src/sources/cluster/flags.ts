// The kubectl-style flags every live command accepts (scan, snapshot, fix --live), parsed one way.
// kubectl does not parse global flags for plugins, so -n/--context/--kubeconfig are ours to handle.
import type { ParseArgsConfig } from 'node:util';
import { EXIT, UserError } from '../../cli/exit-codes.ts';
import type { ClusterOptions } from './index.ts';

export const CLUSTER_FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' },
  'request-timeout': { type: 'string' },
  'chunk-size': { type: 'string' },
  'secrets-metadata': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  as: { type: 'string' },
  'as-group': { type: 'string', multiple: true },
  'as-uid': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const CLUSTER_FLAGS_HELP = `Cluster flags (as kubectl):
  --kubeconfig PATH        kubeconfig file (default: $KUBECONFIG, several files merged, else ~/.kube/config,
                           else the in-cluster service account)
  --context NAME           kubeconfig context (default: current-context)
  -n, --namespace NS       only this namespace (default: all namespaces)
  -A, --all-namespaces     all namespaces (the default; wins over -n, as in kubectl)
  -l, --selector SEL       label selector for pods and workloads
  --request-timeout DUR    per request, e.g. 30s, 1m (0 = none; default 30s)
  --chunk-size N           list page size (default 500; 0 = unpaged)
  --secrets-metadata       also list service-account-token Secrets, metadata only (needs list secrets)
  --as USER, --as-group G, --as-uid UID
                           impersonate (replaces the kubeconfig's as/as-groups; --as-group repeatable)
  -q, --quiet              no progress on stderr
`;

/** `30s`, `1m30s`, `500ms`, `2h`, or bare seconds; `0` = no timeout. As kubectl --request-timeout. */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(t))) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    pos = re.lastIndex;
  }
  if (pos !== t.length || t === '') throw new UserError(`invalid duration ${JSON.stringify(s)} (use e.g. 30s, 1m, 0)`, EXIT.USAGE);
  return total;
}

type FlagValues = {
  [K in keyof typeof CLUSTER_FLAGS]?: (typeof CLUSTER_FLAGS)[K] extends { multiple: true } ? string[] : (typeof CLUSTER_FLAGS)[K]['type'] extends 'boolean' ? boolean : string;
};

export function clusterOptionsFromFlags(v: FlagValues & Record<string, unknown>): ClusterOptions {
  const o: ClusterOptions = {};
  if (v.kubeconfig) o.kubeconfig = v.kubeconfig;
  if (v.context) o.context = v.context;
  if (v.namespace && !v['all-namespaces']) o.namespace = v.namespace;
  if (v.selector) o.selector = v.selector;
  if (v.quiet) o.quiet = true;
  if (v['secrets-metadata']) o.secretsMetadata = true;
  if (v.as || v['as-group']?.length || v['as-uid']) {
    // kubectl: --as-group without --as is an error ("requesting groups or user-extra for … without impersonating a user").
    if (!v.as) throw new UserError('--as-group and --as-uid need --as (as in kubectl)', EXIT.USAGE);
    o.impersonate = { user: v.as, groups: v['as-group'] ?? [] };
    if (v['as-uid']) o.impersonate.uid = v['as-uid'];
  }
  if (v['request-timeout'] !== undefined) {
    const ms = parseDuration(v['request-timeout']);
    // 0 means no timeout in kubectl; a day stands in for "none" so a dead connection still ends.
    o.requestTimeoutMs = ms === 0 ? 86_400_000 : ms;
  }
  if (v['chunk-size'] !== undefined) {
    if (!/^\d+$/.test(v['chunk-size'])) throw new UserError(`--chunk-size must be a whole number, not ${JSON.stringify(v['chunk-size'])}`, EXIT.USAGE);
    o.pageSize = Number(v['chunk-size']);
  }
  return o;
}
