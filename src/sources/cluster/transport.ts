// HTTP to the API server with node:https (full control over Accept headers, timeouts and retries), through the
// kubeconfig's TLS settings and proxy: http(s) proxies with CONNECT, socks5, or HTTPS_PROXY/NO_PROXY from the
// environment as Go's http.ProxyFromEnvironment (which never proxies loopback addresses).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import type { Duplex } from 'node:stream';
import { EXIT, UserError } from '../../cli/exit-codes.ts';
import { VERSION } from '../../version.ts';
import type { ClusterConnection } from './connection.ts';
import type { CredentialSource, Credentials } from './credentials.ts';

export interface RequestPolicy {
  /** Per request, including reading the body. */
  timeoutMs: number;
  /** Attempts per request, including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it (a server asking for minutes would stall the scan). */
  maxRetryAfterMs: number;
}

export const DEFAULT_POLICY: RequestPolicy = { timeoutMs: 30_000, maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

/** A non-2xx answer (after retries), with the API Status message when the server sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason?: string;
  readonly path: string;
  constructor(status: number, path: string, message: string, reason?: string) {
    super(message);
    this.status = status;
    this.path = path;
    if (reason !== undefined) this.reason = reason;
  }
}

export interface RetryEvent {
  path: string;
  attempt: number;
  delayMs: number;
  cause: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  /** Uncompressed body size in bytes. */
  bytes: number;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'KSA_TIMEOUT', 'KSA_PROXY']);

class RequestTimeout extends Error {
  readonly code = 'KSA_TIMEOUT';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After in ms (delta-seconds or HTTP-date), undefined when absent or unparsable. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Exponential backoff with equal jitter: half fixed, half random, so retries of parallel lists spread out. */
export function backoffDelay(attempt: number, policy: RequestPolicy, random = Math.random): number {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** HTTPS_PROXY / NO_PROXY as Go's httpproxy package reads them. */
export function proxyFromEnvironment(serverUrl: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (isLoopbackHost(serverUrl.hostname)) return undefined;
  const proxy = serverUrl.protocol === 'https:' ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy;
  if (!proxy) return undefined;
  const noProxy = env.NO_PROXY ?? env.no_proxy ?? '';
  const host = serverUrl.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return undefined;
    const [h, port] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':');
    if (port && port !== (serverUrl.port || (serverUrl.protocol === 'https:' ? '443' : '80'))) continue;
    if (!h) continue;
    if (h.includes('/') && net.isIP(host)) {
      if (cidrContains(h, host)) return undefined;
      continue;
    }
    const bare = h.replace(/^\*?\./, '');
    if (host === bare || host.endsWith('.' + bare)) return undefined;
  }
  return /^[a-z0-9+.-]+:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsS] = cidr.split('/');
  const bits = Number(bitsS);
  if (!base || !net.isIPv4(base) || !net.isIPv4(ip) || !(bits >= 0 && bits <= 32)) return false;
  const n = (s: string) => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (n(base) & mask) === (n(ip) & mask);
}

type ConnectCallback = (err: Error | null, socket: Duplex) => void;

/** Opens a tunnel to host:port through an http(s) proxy (CONNECT) or socks5, then optionally TLS on top. */
function tunnel(proxyUrl: URL, host: string, port: number, timeoutMs: number, cb: (err: Error | null, s?: net.Socket) => void): void {
  const done = (err: Error | null, s?: net.Socket) => {
    clearTimeout(timer);
    cb(err, s);
  };
  const timer = setTimeout(() => done(Object.assign(new Error(`proxy ${proxyUrl.host} did not answer within ${timeoutMs} ms`), { code: 'KSA_PROXY' })), timeoutMs);
  if (proxyUrl.protocol === 'socks5:') {
    socks5Connect(proxyUrl, host, port, done);
    return;
  }
  const proxyPort = Number(proxyUrl.port || (proxyUrl.protocol === 'https:' ? 443 : 80));
  const headers: Record<string, string> = { host: `${host}:${port}` };
  if (proxyUrl.username) headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(proxyUrl.username)}:${decodeURIComponent(proxyUrl.password)}`).toString('base64')}`;
  const req = (proxyUrl.protocol === 'https:' ? https : http).request({ host: proxyUrl.hostname, port: proxyPort, method: 'CONNECT', path: `${host.includes(':') ? `[${host}]` : host}:${port}`, headers, agent: false });
  req.on('connect', (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      done(Object.assign(new Error(`proxy ${proxyUrl.host} refused CONNECT: HTTP ${res.statusCode}`), { code: 'KSA_PROXY_REFUSED' }));
      return;
    }
    done(null, socket);
  });
  req.on('error', (err) => done(err));
  req.end();
}

function socks5Connect(proxyUrl: URL, host: string, port: number, cb: (err: Error | null, s?: net.Socket) => void): void {
  const sock = net.connect(Number(proxyUrl.port || 1080), proxyUrl.hostname);
  const user = decodeURIComponent(proxyUrl.username);
  const pass = decodeURIComponent(proxyUrl.password);
  let stage = 0;
  let buf = Buffer.alloc(0);
  const fail = (m: string) => {
    sock.destroy();
    cb(Object.assign(new Error(`socks5 proxy ${proxyUrl.host}: ${m}`), { code: 'KSA_PROXY_REFUSED' }));
  };
  const sendConnect = () => {
    const hb = Buffer.from(host.replace(/^\[|\]$/g, ''));
    const portB = Buffer.from([port >> 8, port & 0xff]);
    sock.write(Buffer.concat([Buffer.from([5, 1, 0, 3, hb.length]), hb, portB]));
    stage = 2;
  };
  sock.on('connect', () => sock.write(user ? Buffer.from([5, 1, 2]) : Buffer.from([5, 1, 0])));
  sock.on('error', (e) => cb(e));
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (stage === 0) {
      if (buf.length < 2) return;
      const method = buf[1];
      buf = buf.subarray(2);
      if (method === 0) sendConnect();
      else if (method === 2 && user) {
        const u = Buffer.from(user);
        const p = Buffer.from(pass);
        sock.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
        stage = 1;
      } else return fail('no acceptable authentication method');
    } else if (stage === 1) {
      if (buf.length < 2) return;
      if (buf[1] !== 0) return fail('authentication failed');
      buf = buf.subarray(2);
      sendConnect();
    } else if (stage === 2) {
      if (buf.length < 5) return;
      if (buf[1] !== 0) return fail(`connect refused (reply ${buf[1]})`);
      const atyp = buf[3];
      const len = atyp === 1 ? 10 : atyp === 4 ? 22 : 7 + (buf[4] ?? 0);
      if (buf.length < len) return;
      sock.removeListener('data', onData);
      stage = 3;
      cb(null, sock);
    }
  };
  sock.on('data', onData);
}

/** An https.Agent whose sockets are tunnelled through a proxy; keeps connection reuse. */
class TunnelAgent extends https.Agent {
  private readonly proxyUrl: URL;
  private readonly timeoutMs: number;
  private readonly plain: boolean;
  constructor(proxyUrl: URL, plain: boolean, timeoutMs: number, opts: https.AgentOptions) {
    super(opts);
    this.proxyUrl = proxyUrl;
    this.plain = plain;
    this.timeoutMs = timeoutMs;
  }
  override createConnection(options: http.ClientRequestArgs, cb?: ConnectCallback): Duplex | null | undefined {
    const o = options as tls.ConnectionOptions & { host?: string; port?: number };
    const host = o.host ?? 'localhost';
    tunnel(this.proxyUrl, host, Number(o.port), this.timeoutMs, (err, socket) => {
      if (err || !socket) return cb?.(err ?? new Error('proxy tunnel failed'), undefined as unknown as Duplex);
      if (this.plain) return cb?.(null, socket);
      const servername = o.servername ?? (net.isIP(host) ? undefined : host);
      const s = tls.connect({ ...o, socket, ...(servername ? { servername } : {}) });
      s.once('secureConnect', () => cb?.(null, s));
      s.once('error', (e) => cb?.(e, undefined as unknown as Duplex));
    });
    return undefined;
  }
}

export interface KubeClientOptions {
  policy?: Partial<RequestPolicy>;
  env?: NodeJS.ProcessEnv;
  onRetry?: (e: RetryEvent) => void;
  /** Sockets per agent; the reader keeps two lists in flight. */
  maxSockets?: number;
}

/** GETs JSON from the API server with retries; the only way the cluster source talks to the network. */
export class KubeClient {
  readonly conn: ClusterConnection;
  readonly policy: RequestPolicy;
  private readonly creds: CredentialSource;
  private readonly url: URL;
  private readonly opts: KubeClientOptions;
  private agent?: { agent: http.Agent; cert?: Buffer; key?: Buffer };
  private readonly proxy?: URL;

  constructor(conn: ClusterConnection, creds: CredentialSource, opts: KubeClientOptions = {}) {
    this.conn = conn;
    this.creds = creds;
    this.opts = opts;
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.url = new URL(conn.server);
    const p = conn.proxyUrl ?? proxyFromEnvironment(this.url, opts.env ?? process.env);
    if (p) this.proxy = new URL(p);
  }

  close(): void {
    this.agent?.agent.destroy();
  }

  private agentFor(c: Credentials): http.Agent {
    const cert = c.cert ?? this.conn.tls.cert;
    const key = c.key ?? this.conn.tls.key;
    if (this.agent && this.agent.cert === cert && this.agent.key === key) return this.agent.agent;
    this.agent?.agent.destroy();
    const https_ = this.url.protocol === 'https:';
    const o: https.AgentOptions = { keepAlive: true, maxSockets: this.opts.maxSockets ?? 4 };
    if (https_) {
      if (this.conn.tls.ca) o.ca = this.conn.tls.ca;
      if (cert) o.cert = cert;
      if (key) o.key = key;
      o.rejectUnauthorized = !this.conn.tls.insecureSkipTLSVerify;
      if (this.conn.tls.serverName) o.servername = this.conn.tls.serverName;
    }
    let agent: http.Agent;
    if (this.proxy) agent = new TunnelAgent(this.proxy, !https_, this.policy.timeoutMs, o);
    else agent = https_ ? new https.Agent(o) : new http.Agent(o);
    this.agent = { agent };
    if (cert) this.agent.cert = cert;
    if (key) this.agent.key = key;
    return agent;
  }

  /** GET `path` (with query) and parse JSON; retries transient failures; throws ApiError or UserError (exit 5). */
  async get(path: string, accept = 'application/json'): Promise<ApiResponse> {
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      let delayMs: number | undefined;
      let cause: string;
      try {
        const creds = await this.creds.get();
        const res = await this.once(path, accept, creds);
        if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.json, bytes: res.bytes };
        if (res.status === 401 && !refreshedAuth && this.creds.invalidate()) {
          refreshedAuth = true;
          attempt--;
          continue;
        }
        const st = (res.json ?? {}) as { message?: string; reason?: string };
        const msg = st.message ?? (res.text.slice(0, 200) || http.STATUS_CODES[res.status] || 'error');
        if (!RETRYABLE_STATUS.has(res.status)) throw new ApiError(res.status, path, msg, st.reason);
        cause = `HTTP ${res.status}${st.message ? `: ${st.message}` : ''}`;
        const ra = parseRetryAfter(res.retryAfter);
        if (ra !== undefined) delayMs = Math.min(ra, this.policy.maxRetryAfterMs);
        if (attempt >= this.policy.maxAttempts) throw new ApiError(res.status, path, `${msg} (gave up after ${attempt} attempts)`, st.reason);
      } catch (err) {
        if (err instanceof ApiError || err instanceof UserError) throw err;
        const e = err as NodeJS.ErrnoException;
        const code = e.code ?? '';
        if (!RETRYABLE_CODES.has(code) && !/socket hang up|aborted/i.test(e.message ?? '')) throw this.connectionError(e);
        cause = code === 'KSA_TIMEOUT' ? `no complete answer within ${this.policy.timeoutMs} ms` : `${code || e.message}`;
        if (attempt >= this.policy.maxAttempts) {
          throw new UserError(`cannot read ${this.conn.server}${path.split('?')[0]}: ${cause} (gave up after ${attempt} attempts)`, EXIT.CLUSTER_UNAVAILABLE);
        }
      }
      const d = delayMs ?? backoffDelay(attempt, this.policy);
      this.opts.onRetry?.({ path, attempt, delayMs: d, cause });
      await sleep(d);
    }
  }

  private connectionError(e: NodeJS.ErrnoException): UserError {
    const code = e.code ?? '';
    const where = `${this.conn.server} (context ${this.conn.contextName})`;
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return new UserError(`TLS verification of ${where} failed: ${e.message}`, EXIT.CLUSTER_UNAVAILABLE);
    if (code === 'ENOTFOUND') return new UserError(`cannot resolve ${this.url.hostname} (context ${this.conn.contextName})`, EXIT.CLUSTER_UNAVAILABLE);
    return new UserError(`cannot connect to ${where}: ${code ? `${code} ` : ''}${e.message}`, EXIT.CLUSTER_UNAVAILABLE);
  }

  private once(path: string, accept: string, creds: Credentials): Promise<{ status: number; json: unknown; text: string; bytes: number; retryAfter?: string }> {
    const agent = this.agentFor(creds);
    const headers: Record<string, string | string[]> = {
      accept,
      'user-agent': `kube-sa-audit/${VERSION}`,
      ...creds.headers,
    };
    if (!this.conn.disableCompression) headers['accept-encoding'] = 'gzip';
    const mod = this.url.protocol === 'https:' ? https : http;
    const basePath = this.url.pathname.replace(/\/+$/, '');
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | null, v?: { status: number; json: unknown; text: string; bytes: number; retryAfter?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(v!);
      };
      const req = mod.request({ protocol: this.url.protocol, hostname: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port || undefined, path: basePath + path, method: 'GET', headers, agent });
      const timer = setTimeout(() => {
        const err = new RequestTimeout(`timeout after ${this.policy.timeoutMs} ms`);
        req.destroy(err);
        finish(err);
      }, this.policy.timeoutMs);
      req.on('error', (err) => finish(err));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        const gz = /gzip/i.test(String(res.headers['content-encoding'] ?? ''));
        const stream = gz ? res.pipe(zlib.createGunzip()) : res;
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (err) => finish(err));
        res.on('aborted', () => finish(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        res.on('error', (err) => finish(err));
        stream.on('end', () => {
          if (!res.complete) return finish(Object.assign(new Error('response cut short'), { code: 'ECONNRESET' }));
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          let json: unknown;
          const ct = String(res.headers['content-type'] ?? '');
          if (ct.includes('json')) {
            try {
              json = JSON.parse(text);
            } catch {
              if (res.statusCode! >= 200 && res.statusCode! < 300) return finish(Object.assign(new Error('truncated or invalid JSON body'), { code: 'ECONNRESET' }));
            }
          }
          const out: { status: number; json: unknown; text: string; bytes: number; retryAfter?: string } = { status: res.statusCode ?? 0, json, text: json === undefined ? text : '', bytes: buf.length };
          const ra = res.headers['retry-after'];
          if (typeof ra === 'string') out.retryAfter = ra;
          finish(null, out);
        });
      });
      req.end();
    });
  }
}
