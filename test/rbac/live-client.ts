// A minimal admin client for the RBAC e2e tests: POSTs reviews to the test API server with the admin
// kubeconfig's client certificate, many in flight over keep-alive connections.
import fs from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';

export interface AdminClient {
  post(path: string, body: unknown, headers?: Record<string, string | string[]>): Promise<{ status: number; json: any }>;
  get(path: string): Promise<{ status: number; json: any }>;
  close(): void;
}

export function adminClient(kubeconfig: string): AdminClient {
  const kc = parse(fs.readFileSync(kubeconfig, 'utf8'));
  const cluster = kc.clusters[0].cluster;
  const user = kc.users[0].user;
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(user['client-certificate-data'], 'base64'),
    key: Buffer.from(user['client-key-data'], 'base64'),
  });
  const server = new URL(cluster.server);
  if (server.hostname !== '127.0.0.1') throw new Error(`refusing to talk to ${server.hostname}: tests only use 127.0.0.1`);
  const request = (method: string, path: string, body?: unknown, extra: Record<string, string | string[]> = {}) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request({ agent, hostname: server.hostname, port: server.port, path, method, headers: { accept: 'application/json', ...extra, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
          } catch {
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          }
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      if (payload) req.end(payload);
      else req.end();
    });
  return { post: (p, b, h) => request('POST', p, b, h), get: (p) => request('GET', p), close: () => agent.destroy() };
}

/** Runs `fn` over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Deterministic PRNG (mulberry32) so a seed reproduces a run. */
export function prng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean; subset<T>(xs: readonly T[], max: number): T[] } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(xs: readonly T[]) => xs[int(xs.length)]!;
  return {
    next, int, pick,
    chance: (p) => next() < p,
    subset: <T,>(xs: readonly T[], max: number) => {
      const n = 1 + int(max);
      const out: T[] = [];
      for (let i = 0; i < n; i++) {
        const x = pick(xs);
        if (!out.includes(x)) out.push(x);
      }
      return out;
    },
  };
}
