// A fault-injecting HTTP proxy on 127.0.0.1 in front of the real API server. The client talks plain HTTP to
// the proxy (so the proxy can see and rewrite requests); the proxy talks TLS to the API server, passing the
// client's Authorization header through, or authenticating with a client certificate when the client sent none.
// Each request is offered to `plan`, which may answer with a fault instead of forwarding.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status (and Retry-After) without forwarding. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; reason?: string; message?: string }
  /** Forward, but hold the answer back for `ms` first (a slow server). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without answering. */
  | { kind: 'drop' }
  /** Forward, send the headers and part of the body, then cut the connection. */
  | { kind: 'truncate' }
  /** 410 Gone with an `Expired` Status, as the API server answers an expired continue token. */
  | { kind: 'expire' };

export interface ProxiedRequest {
  n: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

export interface FaultProxyOptions {
  upstream: string;
  ca: Buffer;
  /** Client certificate for requests without an Authorization header. */
  cert?: Buffer;
  key?: Buffer;
  plan?: (req: ProxiedRequest) => Fault | undefined;
}

export interface FaultProxy {
  url: string;
  /** Every request the proxy saw, with the fault applied (if any). */
  log: (ProxiedRequest & { fault?: Fault['kind'] })[];
  setPlan(plan: FaultProxyOptions['plan']): void;
  /** Most requests the proxy held open at the same time (client concurrency). */
  maxInFlight(): number;
  close(): Promise<void>;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const up = new URL(opts.upstream);
  if (up.hostname !== '127.0.0.1' && up.hostname !== 'localhost') throw new Error(`fault proxy only fronts loopback servers, not ${up.hostname}`);
  const agent = new https.Agent({ keepAlive: true, ca: opts.ca, ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}) });
  let plan = opts.plan;
  let n = 0;
  const log: FaultProxy['log'] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (counted) inFlight--;
      counted = false;
    };
    res.on('close', done);
    const u = new URL(req.url ?? '/', 'http://proxy');
    const pr: ProxiedRequest = { n: ++n, method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers };
    const fault = plan?.(pr);
    log.push(fault ? { ...pr, fault: fault.kind } : pr);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status' || fault?.kind === 'expire') {
      const status = fault.kind === 'expire' ? 410 : fault.status;
      const reason = fault.kind === 'expire' ? 'Expired' : (fault.reason ?? (status === 429 ? 'TooManyRequests' : 'InternalError'));
      const message = fault.kind === 'expire' ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.' : (fault.message ?? `injected ${status}`);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.kind === 'status' && fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      res.writeHead(status, headers);
      res.end(statusBody(status, reason, message));
      return;
    }
    const headers = { ...req.headers, host: up.host };
    // The proxy needs the body to truncate it: no compression on that path.
    if (fault?.kind === 'truncate') delete headers['accept-encoding'];
    const upReq = https.request({ hostname: up.hostname, port: up.port, path: req.url, method: req.method, headers, agent }, (upRes) => {
      const forward = () => {
        if (fault?.kind === 'truncate') {
          const h = { ...upRes.headers };
          delete h['content-length'];
          res.writeHead(upRes.statusCode ?? 502, h);
          let sent = 0;
          upRes.on('data', (c: Buffer) => {
            if (sent > 0) return;
            sent += c.length;
            res.write(c.subarray(0, Math.max(1, Math.floor(c.length / 2))));
            setTimeout(() => res.socket?.destroy(), 20);
          });
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      };
      if (fault?.kind === 'delay') {
        const t = setTimeout(forward, fault.ms);
        res.on('close', () => clearTimeout(t));
      } else forward();
    });
    upReq.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: upstream error ${err.message}`);
    });
    req.pipe(upReq);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    setPlan: (p) => {
      plan = p;
    },
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => r());
      }),
  };
}
