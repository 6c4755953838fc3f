// How to reach the cluster, resolved exactly as kubectl (client-go clientcmd) does it.
//
// @kubernetes/client-node 2.0.1 was checked (dist/config.js, config_types.js, exec_auth.js) and is wrong for a
// kubectl plugin in ways that change which cluster we talk to or as whom:
//  - merging KUBECONFIG files throws on a repeated cluster/user/context name and lets the LAST file's
//    current-context win; clientcmd keeps the FIRST file's entry per name and the first non-empty current-context;
//  - a missing file listed in KUBECONFIG throws; clientcmd skips it;
//  - `token-file` is read relative to the process cwd at load time, and a relative exec `command` is not resolved;
//    clientcmd resolves both relative to the kubeconfig file that names them;
//  - with nothing configured it silently connects to http://localhost:8080 with no credentials;
//  - in-cluster config is chosen by the token file alone and uses plain http on ports 80/8080/8001; client-go
//    requires KUBERNETES_SERVICE_HOST/PORT and always uses https;
//  - exec plugins get no KUBERNETES_EXEC_INFO, never run interactively, and their stderr is swallowed;
//  - `as-groups` (impersonated groups) is dropped.
// So the kubeconfig model is implemented here; it is small. Values are parsed with `yaml` (YAML 1.2 core; kubeconfig
// fields are strings and booleans, written by kubectl itself).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { parse as parseYaml } from 'yaml';
import { EXIT, UserError } from '../../cli/exit-codes.ts';

export const IN_CLUSTER_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
}

/** How requests authenticate. Token values are kept out of errors and logs. */
export type AuthConfig =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** Re-read on use (projected SA tokens rotate). */
  | { kind: 'token-file'; path: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'exec'; exec: ExecConfig; userName: string };

export interface ClusterConnection {
  /** Context name (`in-cluster` inside a pod without kubeconfig). Used in locations as `cluster:<context>`. */
  contextName: string;
  server: string;
  /** The context's namespace, else `default` (in a pod: the SA's namespace). */
  namespace: string;
  clusterName: string;
  userName: string;
  tls: {
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    insecureSkipTLSVerify: boolean;
    serverName?: string;
  };
  proxyUrl?: string;
  disableCompression: boolean;
  auth: AuthConfig;
  impersonate?: { user?: string; uid?: string; groups: string[]; extra: Record<string, string[]> };
  /** Where it came from, for error messages. */
  origin: { kind: 'kubeconfig'; files: string[] } | { kind: 'in-cluster' };
  /** The raw cluster entry (for exec plugins with provideClusterInfo). */
  clusterInfo: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean; 'tls-server-name'?: string; 'proxy-url'?: string; 'disable-compression'?: boolean; config?: unknown };
}

export interface LoadKubeConfigOptions {
  /** --kubeconfig: replaces KUBECONFIG and ~/.kube/config; must exist. */
  kubeconfig?: string;
  /** --context: overrides current-context. */
  context?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** For tests: where the in-cluster service-account files live (default /var/run/secrets/kubernetes.io/serviceaccount). */
  inClusterRoot?: string;
  /** For tests: the home directory holding .kube/config (default: $HOME, else os.homedir()). */
  homeDir?: string;
}

/** One kubeconfig file's named entries, paths already resolved against the file's directory. */
interface KubeconfigFile {
  file: string;
  clusters: Map<string, Record<string, unknown>>;
  users: Map<string, Record<string, unknown>>;
  contexts: Map<string, Record<string, unknown>>;
  currentContext?: string;
}

const fail = (message: string): never => {
  throw new UserError(message, EXIT.CLUSTER_UNAVAILABLE);
};

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function resolveAgainst(dir: string, p: unknown): unknown {
  if (typeof p !== 'string' || p === '' || path.isAbsolute(p)) return p;
  return path.join(dir, p);
}

/** Parses one kubeconfig file; relative file references become absolute against its directory (clientcmd ResolvePaths). */
export function parseKubeconfigFile(file: string, text: string): KubeconfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    const e = err as { message?: string; linePos?: { line: number }[] };
    const line = e.linePos?.[0]?.line;
    return fail(`${file}${line ? `:${line}` : ''}: kubeconfig is not valid YAML: ${String(e.message).split('\n')[0]}`);
  }
  const root = doc == null ? {} : asRecord(doc);
  if (!root) return fail(`${file}: kubeconfig is not a mapping (expected apiVersion: v1, kind: Config)`);
  const dir = path.dirname(path.resolve(file));
  const out: KubeconfigFile = { file, clusters: new Map(), users: new Map(), contexts: new Map() };
  const section = (key: 'clusters' | 'users' | 'contexts', inner: 'cluster' | 'user' | 'context', into: Map<string, Record<string, unknown>>) => {
    const list = root[key];
    if (list == null) return;
    if (!Array.isArray(list)) fail(`${file}: "${key}" must be a list`);
    (list as unknown[]).forEach((entry, i) => {
      const e = asRecord(entry);
      const name = e && str(e.name);
      if (!e || !name) return fail(`${file}: ${key}[${i}] has no name`);
      // Within one file a repeated name keeps the first entry as well (clientcmd converts the list to a map).
      if (into.has(name)) return;
      const body = { ...(asRecord(e[inner]) ?? {}) };
      if (inner === 'cluster') {
        body['certificate-authority'] = resolveAgainst(dir, body['certificate-authority']);
      } else if (inner === 'user') {
        body['client-certificate'] = resolveAgainst(dir, body['client-certificate']);
        body['client-key'] = resolveAgainst(dir, body['client-key']);
        body['token-file'] = resolveAgainst(dir, body['token-file']);
        const exec = asRecord(body.exec);
        // clientcmd resolves an exec command only when it contains a path separator (a bare name is looked up in PATH).
        if (exec && typeof exec.command === 'string' && exec.command.includes(path.sep)) {
          body.exec = { ...exec, command: resolveAgainst(dir, exec.command) };
        }
      }
      into.set(name, body);
    });
  };
  section('clusters', 'cluster', out.clusters);
  section('users', 'user', out.users);
  section('contexts', 'context', out.contexts);
  const cc = str(root['current-context']);
  if (cc) out.currentContext = cc;
  return out;
}

/** The kubeconfig file list as kubectl builds it: --kubeconfig, else KUBECONFIG entries, else ~/.kube/config. */
export function kubeconfigFiles(opts: LoadKubeConfigOptions): { files: string[]; explicit: boolean } {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) return { files: [opts.kubeconfig], explicit: true };
  const fromEnv = env.KUBECONFIG;
  if (fromEnv && fromEnv.length > 0) {
    const seen = new Set<string>();
    const files: string[] = [];
    for (const f of fromEnv.split(path.delimiter)) {
      if (f === '' || seen.has(f)) continue;
      seen.add(f);
      files.push(f);
    }
    return { files, explicit: false };
  }
  const home = opts.homeDir ?? (env.HOME || os.homedir());
  return { files: [path.join(home, '.kube', 'config')], explicit: false };
}

/** Merges files in precedence order: the first file that names a cluster/user/context wins, and the first non-empty current-context. */
export function mergeKubeconfigs(files: KubeconfigFile[]): KubeconfigFile & { files: string[] } {
  const merged: KubeconfigFile & { files: string[] } = { file: files[0]?.file ?? '', files: files.map((f) => f.file), clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const f of files) {
    for (const [k, v] of f.clusters) if (!merged.clusters.has(k)) merged.clusters.set(k, v);
    for (const [k, v] of f.users) if (!merged.users.has(k)) merged.users.set(k, v);
    for (const [k, v] of f.contexts) if (!merged.contexts.has(k)) merged.contexts.set(k, v);
    if (merged.currentContext === undefined && f.currentContext) merged.currentContext = f.currentContext;
  }
  return merged;
}

function readFileOrFail(p: string, what: string): Buffer {
  try {
    return fs.readFileSync(p);
  } catch (err) {
    return fail(`cannot read ${what} ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function dataOrFile(data: unknown, file: unknown, what: string): Buffer | undefined {
  // Inline data wins over the file when both are set (clientcmd: "…-data will override").
  const d = str(data);
  if (d) return Buffer.from(d, 'base64');
  const f = str(file);
  if (f) return readFileOrFail(f, what);
  return undefined;
}

function parseExec(raw: Record<string, unknown>, where: string): ExecConfig {
  const command = str(raw.command);
  if (!command) fail(`${where}: exec.command is missing`);
  const apiVersion = str(raw.apiVersion);
  if (!apiVersion) fail(`${where}: exec.apiVersion is missing`);
  const mode = raw.interactiveMode;
  if (mode !== undefined && mode !== 'Never' && mode !== 'IfAvailable' && mode !== 'Always') fail(`${where}: exec.interactiveMode must be Never, IfAvailable or Always, not ${JSON.stringify(mode)}`);
  // client.authentication.k8s.io/v1 requires interactiveMode; v1beta1 defaults it to IfAvailable (client-go validation).
  if (apiVersion === 'client.authentication.k8s.io/v1' && mode === undefined) fail(`${where}: exec.interactiveMode must be set for client.authentication.k8s.io/v1`);
  const env = Array.isArray(raw.env) ? (raw.env as unknown[]).map((e) => asRecord(e)).filter((e): e is Record<string, unknown> => !!e).map((e) => ({ name: String(e.name ?? ''), value: String(e.value ?? '') })) : undefined;
  const exec: ExecConfig = {
    command: command!,
    apiVersion: apiVersion!,
    interactiveMode: (mode as ExecConfig['interactiveMode']) ?? 'IfAvailable',
    provideClusterInfo: raw.provideClusterInfo === true,
  };
  if (Array.isArray(raw.args)) exec.args = (raw.args as unknown[]).map(String);
  if (env) exec.env = env;
  const hint = str(raw.installHint);
  if (hint) exec.installHint = hint;
  return exec;
}

function inClusterConnection(root: string, env: NodeJS.ProcessEnv): ClusterConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const tokenPath = path.join(root, 'token');
  if (!fs.existsSync(tokenPath)) return undefined;
  const caPath = path.join(root, 'ca.crt');
  const nsPath = path.join(root, 'namespace');
  const server = `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const ca = fs.existsSync(caPath) ? fs.readFileSync(caPath) : undefined;
  const namespace = fs.existsSync(nsPath) ? fs.readFileSync(nsPath, 'utf8').trim() || 'default' : 'default';
  return {
    contextName: 'in-cluster',
    server,
    namespace,
    clusterName: 'in-cluster',
    userName: 'in-cluster',
    tls: { ...(ca ? { ca } : {}), insecureSkipTLSVerify: false },
    disableCompression: false,
    auth: { kind: 'token-file', path: tokenPath },
    origin: { kind: 'in-cluster' },
    clusterInfo: { server, ...(ca ? { 'certificate-authority-data': ca.toString('base64') } : {}) },
  };
}

const NO_CONFIG =
  'no cluster configured: no kubeconfig found (set KUBECONFIG or pass --kubeconfig; ~/.kube/config does not exist) and not running in a pod (KUBERNETES_SERVICE_HOST unset); refusing to guess localhost:8080';

/**
 * Resolves the cluster, user and namespace kubectl would use. Throws UserError (exit 5) when nothing is
 * configured, the context is missing, or a referenced file cannot be read.
 */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): ClusterConnection {
  const env = opts.env ?? process.env;
  const { files, explicit } = kubeconfigFiles(opts);
  const parsed: KubeconfigFile[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // clientcmd ignores missing files in KUBECONFIG and the default path; an explicit --kubeconfig must exist.
      if (code === 'ENOENT' && !explicit) continue;
      return fail(`cannot read kubeconfig ${f}: ${code ?? (err as Error).message}`);
    }
    parsed.push(parseKubeconfigFile(f, text));
  }
  const merged = mergeKubeconfigs(parsed);
  const empty = merged.clusters.size === 0 && merged.contexts.size === 0 && merged.users.size === 0 && !merged.currentContext;
  if (empty && !opts.context) {
    // clientcmd falls back to in-cluster only when no kubeconfig contributed anything and no overrides were given.
    if (!explicit) {
      const ic = inClusterConnection(opts.inClusterRoot ?? IN_CLUSTER_ROOT, env);
      if (ic) return ic;
    }
    return fail(NO_CONFIG);
  }
  const contextName = opts.context ?? merged.currentContext;
  const where = merged.files.join(path.delimiter);
  if (!contextName) return fail(`no current context in kubeconfig ${where}: run \`kubectl config use-context <name>\` or pass --context`);
  const context = merged.contexts.get(contextName);
  if (!context) return fail(`context "${contextName}" not found in kubeconfig ${where}`);
  const clusterName = str(context.cluster);
  if (!clusterName) return fail(`context "${contextName}" names no cluster (kubeconfig ${where})`);
  const cluster = merged.clusters.get(clusterName);
  if (!cluster) return fail(`cluster "${clusterName}" of context "${contextName}" not found in kubeconfig ${where}`);
  const server = str(cluster.server);
  if (!server) return fail(`cluster "${clusterName}" has no server (kubeconfig ${where})`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return fail(`cluster "${clusterName}" has an invalid server URL ${JSON.stringify(server)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`cluster "${clusterName}": server URL must be https:// or http://, not ${url.protocol}`);
  const userName = str(context.user) ?? '';
  const user = userName ? merged.users.get(userName) : undefined;
  if (userName && !user) fail(`user "${userName}" of context "${contextName}" not found in kubeconfig ${where}`);
  const u = user ?? {};
  const clusterWhere = `cluster "${clusterName}"`;
  const userWhere = `user "${userName}"`;
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const ca = dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority');
  if (insecure && ca) fail(`${clusterWhere}: certificate-authority and insecure-skip-tls-verify are both set; kubectl rejects this`);
  const cert = dataOrFile(u['client-certificate-data'], u['client-certificate'], 'client-certificate');
  const key = dataOrFile(u['client-key-data'], u['client-key'], 'client-key');
  if ((cert && !key) || (!cert && key)) fail(`${userWhere}: client-certificate and client-key must be set together`);

  let auth: AuthConfig = { kind: 'none' };
  const execRaw = asRecord(u.exec);
  const token = str(u.token);
  const tokenFile = str(u['token-file']);
  const provider = asRecord(u['auth-provider']);
  if (provider && provider.name !== 'oidc') {
    fail(`${userWhere}: the ${String(provider.name)} auth-provider was removed from kubectl (1.26); use its exec credential plugin (gke-gcloud-auth-plugin, kubelogin)`);
  }
  const oidcToken = provider ? str(asRecord(provider.config)?.['id-token']) : undefined;
  if (provider && !oidcToken) fail(`${userWhere}: the oidc auth-provider has no id-token yet; run any kubectl command once to log in`);
  if (oidcToken && !execRaw && !token) {
    // kubectl's oidc provider also refreshes an expired id-token with the refresh-token and writes it back to
    // the kubeconfig; a read-only audit does not rewrite the user's kubeconfig, so an expired token ends in 401.
    auth = { kind: 'token', token: oidcToken };
  } else if (execRaw) auth = { kind: 'exec', exec: parseExec(execRaw, userWhere), userName };
  else if (token) auth = { kind: 'token', token };
  else if (tokenFile) {
    if (!fs.existsSync(tokenFile)) fail(`${userWhere}: token-file ${tokenFile} does not exist`);
    auth = { kind: 'token-file', path: tokenFile };
  } else if (str(u.username) !== undefined) auth = { kind: 'basic', username: String(u.username), password: String(u.password ?? '') };

  const asUser = str(u.as);
  const asGroups = Array.isArray(u['as-groups']) ? (u['as-groups'] as unknown[]).map(String) : [];
  const asUid = str(u['as-uid']);
  const asExtra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(asRecord(u['as-user-extra']) ?? {})) asExtra[k] = Array.isArray(v) ? v.map(String) : [String(v)];

  const conn: ClusterConnection = {
    contextName,
    server: server.replace(/\/+$/, ''),
    namespace: str(context.namespace) ?? 'default',
    clusterName,
    userName,
    tls: { insecureSkipTLSVerify: insecure },
    disableCompression: cluster['disable-compression'] === true,
    auth,
    origin: { kind: 'kubeconfig', files: merged.files },
    clusterInfo: {
      server,
      ...(str(cluster['certificate-authority-data']) ? { 'certificate-authority-data': String(cluster['certificate-authority-data']) } : ca ? { 'certificate-authority-data': ca.toString('base64') } : {}),
      ...(insecure ? { 'insecure-skip-tls-verify': true } : {}),
      ...(str(cluster['tls-server-name']) ? { 'tls-server-name': String(cluster['tls-server-name']) } : {}),
      ...(str(cluster['proxy-url']) ? { 'proxy-url': String(cluster['proxy-url']) } : {}),
      ...(cluster['disable-compression'] === true ? { 'disable-compression': true } : {}),
      // client-go passes the cluster's extension named client.authentication.k8s.io/exec as spec.cluster.config.
      ...(execConfigExtension(cluster) !== undefined ? { config: execConfigExtension(cluster) } : {}),
    },
  };
  if (ca) conn.tls.ca = ca;
  if (cert) conn.tls.cert = cert;
  if (key) conn.tls.key = key;
  const sni = str(cluster['tls-server-name']);
  if (sni) conn.tls.serverName = sni;
  const proxy = str(cluster['proxy-url']);
  if (proxy) {
    let p: URL;
    try {
      p = new URL(proxy);
    } catch {
      return fail(`${clusterWhere}: invalid proxy-url ${JSON.stringify(proxy)}`);
    }
    if (!['http:', 'https:', 'socks5:'].includes(p.protocol)) fail(`${clusterWhere}: proxy-url scheme must be http, https or socks5 (as kubectl), not ${p.protocol.replace(':', '')}`);
    conn.proxyUrl = proxy;
  }
  if (asUser || asGroups.length || asUid || Object.keys(asExtra).length) {
    conn.impersonate = { groups: asGroups, extra: asExtra };
    if (asUser) conn.impersonate.user = asUser;
    if (asUid) conn.impersonate.uid = asUid;
  }
  return conn;
}

function execConfigExtension(cluster: Record<string, unknown>): unknown {
  const exts = cluster.extensions;
  if (!Array.isArray(exts)) return undefined;
  for (const e of exts) {
    const r = asRecord(e);
    if (r && r.name === 'client.authentication.k8s.io/exec') return r.extension;
  }
  return undefined;
}
