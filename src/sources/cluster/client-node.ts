// A @kubernetes/client-node KubeConfig built from the connection kubectl would use, for code that writes
// (fix --apply) through client-node's typed API. client-node's own loadFromDefault() gets the merge, the
// in-cluster choice and exec plugins wrong (see connection.ts), so resolution happens here and client-node
// receives one already-resolved cluster/user/context. Exec credentials are obtained once, our way
// (KUBERNETES_EXEC_INFO, interactive on a TTY), and handed over as a bearer token or client certificate.
// Limits: impersonated groups/uid/extra are not expressible in client-node's User (only `as`); callers that
// need them get an error instead of a silently different identity.
import { KubeConfig } from '@kubernetes/client-node';
import type { CliIO } from '../../cli/io.ts';
import { EXIT, UserError } from '../../cli/exit-codes.ts';
import { loadKubeConfig, type LoadKubeConfigOptions } from './connection.ts';
import { CredentialSource } from './credentials.ts';

export async function clientNodeKubeConfig(opts: { kubeconfig?: string; context?: string; inClusterRoot?: string }, io: CliIO): Promise<KubeConfig> {
  const lo: LoadKubeConfigOptions = { env: io.env };
  if (opts.kubeconfig) lo.kubeconfig = opts.kubeconfig;
  if (opts.context) lo.context = opts.context;
  if (opts.inClusterRoot) lo.inClusterRoot = opts.inClusterRoot;
  const conn = loadKubeConfig(lo);
  if (conn.impersonate && (conn.impersonate.groups.length || conn.impersonate.uid || Object.keys(conn.impersonate.extra).length)) {
    throw new UserError(`user "${conn.userName}" impersonates groups/uid/extra (as-groups, as-uid, as-user-extra), which the write client cannot send; use kubectl for this context`, EXIT.CLUSTER_UNAVAILABLE);
  }
  const creds = await new CredentialSource(conn, { env: io.env, stdinIsTTY: !!io.stdin.isTTY, stderr: io.stderr }).get();
  const auth = typeof creds.headers.authorization === 'string' ? creds.headers.authorization : undefined;
  const cert = creds.cert ?? conn.tls.cert;
  const key = creds.key ?? conn.tls.key;
  const userName = conn.userName || 'user';
  const user: Parameters<KubeConfig['loadFromOptions']>[0]['users'][number] = { name: userName };
  if (auth?.startsWith('Bearer ')) user.token = auth.slice('Bearer '.length);
  if (conn.auth.kind === 'basic') {
    user.username = conn.auth.username;
    user.password = conn.auth.password;
  }
  if (cert) user.certData = cert.toString('base64');
  if (key) user.keyData = key.toString('base64');
  if (conn.impersonate?.user) user.impersonateUser = conn.impersonate.user;
  const cluster: Parameters<KubeConfig['loadFromOptions']>[0]['clusters'][number] = { name: conn.clusterName, server: conn.server, skipTLSVerify: conn.tls.insecureSkipTLSVerify };
  if (conn.tls.ca) cluster.caData = conn.tls.ca.toString('base64');
  if (conn.tls.serverName) cluster.tlsServerName = conn.tls.serverName;
  if (conn.proxyUrl) cluster.proxyUrl = conn.proxyUrl;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: conn.contextName, cluster: conn.clusterName, user: userName, namespace: conn.namespace }],
    currentContext: conn.contextName,
  });
  return kc;
}
