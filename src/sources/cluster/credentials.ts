// Credentials for each request: static tokens, re-read token files, and exec credential plugins run the way
// client-go runs them (k8s.io/client-go/plugin/pkg/client/auth/exec): KUBERNETES_EXEC_INFO carries an
// ExecCredential with spec.interactive (and spec.cluster when provideClusterInfo), the plugin's stdin is the
// user's terminal only when interactive, its stderr goes to the user (login prompts, device codes), and the
// credential is cached until status.expirationTimestamp or until the server answers 401.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { EXIT, UserError } from '../../cli/exit-codes.ts';
import type { ClusterConnection, ExecConfig } from './connection.ts';

export interface Credentials {
  /** Authorization and impersonation headers. Never logged. */
  headers: Record<string, string | string[]>;
  /** Client certificate from an exec plugin (overrides the kubeconfig's). */
  cert?: Buffer;
  key?: Buffer;
}

export interface CredentialEnv {
  env: NodeJS.ProcessEnv;
  /** Whether our stdin is a terminal (decides interactive mode, as kubectl does). */
  stdinIsTTY: boolean;
  /** Where the plugin's stderr goes. */
  stderr: Writable;
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

const TOKEN_FILE_TTL_MS = 60_000;

export class CredentialSource {
  private readonly conn: ClusterConnection;
  private readonly cenv: CredentialEnv;
  private cached?: { creds: Credentials; expiresAt: number };
  private pending?: Promise<Credentials>;

  constructor(conn: ClusterConnection, cenv: CredentialEnv) {
    this.conn = conn;
    this.cenv = cenv;
  }

  /** Drops a cached credential (after a 401); returns whether a fresh one can be obtained. */
  invalidate(): boolean {
    this.cached = undefined;
    return this.conn.auth.kind === 'exec' || this.conn.auth.kind === 'token-file';
  }

  async get(): Promise<Credentials> {
    if (this.cached && this.cached.expiresAt > Date.now()) return this.cached.creds;
    // One plugin run at a time: concurrent lists share it (and the user sees one login prompt).
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<Credentials> {
    const headers: Record<string, string | string[]> = {};
    const auth = this.conn.auth;
    let expiresAt = Number.POSITIVE_INFINITY;
    let cert: Buffer | undefined;
    let key: Buffer | undefined;
    switch (auth.kind) {
      case 'none':
        break;
      case 'token':
        headers.authorization = `Bearer ${auth.token}`;
        break;
      case 'token-file': {
        let t: string;
        try {
          t = fs.readFileSync(auth.path, 'utf8').trim();
        } catch (err) {
          throw new UserError(`cannot read token file ${auth.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.CLUSTER_UNAVAILABLE);
        }
        headers.authorization = `Bearer ${t}`;
        expiresAt = Date.now() + TOKEN_FILE_TTL_MS;
        break;
      }
      case 'basic':
        headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
        break;
      case 'exec': {
        const status = await this.runExec(auth.exec);
        if (status.token) headers.authorization = `Bearer ${status.token}`;
        if (status.clientCertificateData) cert = Buffer.from(status.clientCertificateData);
        if (status.clientKeyData) key = Buffer.from(status.clientKeyData);
        if (status.expirationTimestamp) {
          const t = Date.parse(status.expirationTimestamp);
          if (!Number.isNaN(t)) expiresAt = t;
        }
        break;
      }
    }
    const imp = this.conn.impersonate;
    if (imp) {
      if (imp.user) headers['impersonate-user'] = imp.user;
      if (imp.uid) headers['impersonate-uid'] = imp.uid;
      // One header line per group: node's http module sends an array as repeated headers (client-node's fetch
      // joins them into one value, kubernetes-client/javascript#2474).
      if (imp.groups.length) headers['impersonate-group'] = imp.groups;
      for (const [k, v] of Object.entries(imp.extra)) headers[`impersonate-extra-${encodeURIComponent(k)}`] = v;
    }
    const creds: Credentials = { headers };
    if (cert) creds.cert = cert;
    if (key) creds.key = key;
    this.cached = { creds, expiresAt };
    return creds;
  }

  private interactive(exec: ExecConfig): boolean {
    const mode = exec.interactiveMode ?? 'IfAvailable';
    if (mode === 'Never') return false;
    if (mode === 'Always' && !this.cenv.stdinIsTTY) {
      throw new UserError(`exec plugin ${exec.command} needs an interactive terminal (interactiveMode: Always) but standard input is not a terminal`, EXIT.CLUSTER_UNAVAILABLE);
    }
    return this.cenv.stdinIsTTY;
  }

  private runExec(exec: ExecConfig): Promise<ExecCredentialStatus> {
    const interactive = this.interactive(exec);
    const spec: Record<string, unknown> = { interactive };
    if (exec.provideClusterInfo) spec.cluster = this.conn.clusterInfo;
    const execInfo = { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec };
    const env: NodeJS.ProcessEnv = { ...this.cenv.env };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(execInfo);
    const name = exec.command;
    return new Promise((resolve, reject) => {
      const child = spawn(exec.command, exec.args ?? [], { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      child.stdout!.on('data', (b: Buffer) => out.push(b));
      child.stderr!.on('data', (b: Buffer) => this.cenv.stderr.write(b));
      let spawnError: NodeJS.ErrnoException | undefined;
      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
      });
      child.on('close', (code, signal) => {
        if (spawnError) {
          const hint = exec.installHint ? ` (${exec.installHint.trim().replace(/\s*\n\s*/g, ' ')})` : '';
          reject(new UserError(spawnError.code === 'ENOENT' ? `exec plugin ${name} not found${hint}` : `exec plugin ${name} could not start: ${spawnError.message}`, EXIT.CLUSTER_UNAVAILABLE));
          return;
        }
        if (code !== 0) {
          reject(new UserError(`exec plugin ${name} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`, EXIT.CLUSTER_UNAVAILABLE));
          return;
        }
        let cred: { apiVersion?: unknown; kind?: unknown; status?: ExecCredentialStatus };
        try {
          cred = JSON.parse(Buffer.concat(out).toString('utf8')) as typeof cred;
        } catch {
          reject(new UserError(`exec plugin ${name} did not print an ExecCredential (invalid JSON)`, EXIT.CLUSTER_UNAVAILABLE));
          return;
        }
        if (cred?.kind !== 'ExecCredential' || cred.apiVersion !== exec.apiVersion) {
          reject(new UserError(`exec plugin ${name} returned ${String(cred?.kind)} ${String(cred?.apiVersion)}, expected ExecCredential ${exec.apiVersion}`, EXIT.CLUSTER_UNAVAILABLE));
          return;
        }
        const st = cred.status ?? {};
        const hasCert = !!st.clientCertificateData && !!st.clientKeyData;
        if (!st.token && !hasCert) {
          reject(new UserError(`exec plugin ${name} returned neither status.token nor a client certificate and key`, EXIT.CLUSTER_UNAVAILABLE));
          return;
        }
        if (!!st.clientCertificateData !== !!st.clientKeyData) {
          reject(new UserError(`exec plugin ${name} returned only one of clientCertificateData and clientKeyData`, EXIT.CLUSTER_UNAVAILABLE));
          return;
        }
        resolve(st);
      });
    });
  }
}
