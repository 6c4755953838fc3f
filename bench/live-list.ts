// Benchmark (not a test): a live scan of a control plane holding ≥10,000 pods against
// `kubectl get pods,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings -A -o json` on the
// same server. Wall time and peak RSS of each from /usr/bin/time -v; median of --runs.
//
//   node bench/live-list.ts [--pods 10000] [--namespaces 20] [--runs 3] [--streams 8]
//
// Starts its own control plane (the shared test one must not fill up with 10,000 pods) and stops it after.
// Pods are created directly (no controller, no scheduler): they stay Pending, which is all a scan reads.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinaries, startControlPlane } from '../test/control-plane/harness.ts';
import { loadKubeConfig } from '../src/sources/cluster/connection.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    namespaces: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
    streams: { type: 'string', default: '8' },
  },
});
const PODS = Number(values.pods);
const NAMESPACES = Number(values.namespaces);
const RUNS = Number(values.runs);
const STREAMS = Number(values.streams);

interface Measured {
  wallS: number;
  maxRssMB: number;
  bytes: number;
  code: number;
}

/** Runs a command under /usr/bin/time -v with stdout counted (not stored). */
function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => (bytes += b.length));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(err);
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      if (!wall || !rss) return reject(new Error(`no /usr/bin/time output for ${cmd}: ${err.slice(-500)}`));
      const wallS = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
      resolve({ wallS, maxRssMB: Number(rss[1]) / 1024, bytes, code: code ?? -1 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  process.stderr.write(`starting a control plane for the benchmark…\n`);
  const cp = await startControlPlane({ name: 'bench-live-list' });
  try {
    const conn = loadKubeConfig({ kubeconfig: cp.kubeconfig, env: {} });
    const agent = new https.Agent({ keepAlive: true, maxSockets: STREAMS, ca: conn.tls.ca!, cert: conn.tls.cert!, key: conn.tls.key! });
    const url = new URL(conn.server);
    const post = (p: string, body: unknown): Promise<number> =>
      new Promise((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = https.request({ hostname: url.hostname, port: url.port, path: p, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(data);
      });
    const nss = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
    for (const ns of nss) await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // The ServiceAccount admission plugin rejects pods until the controller has made the default SA.
    for (const ns of nss) {
      for (let i = 0; ; i++) {
        const r = await cp.kubectl(['get', 'serviceaccount', 'default', '-n', ns, '-o', 'name']);
        if (r.code === 0) break;
        if (i > 120) throw new Error(`no default ServiceAccount in ${ns}`);
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    const t0 = Date.now();
    let next = 0;
    let failed = 0;
    const stream = async () => {
      for (;;) {
        const i = next++;
        if (i >= PODS) return;
        const ns = nss[i % nss.length]!;
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `pod-${i}`, namespace: ns, labels: { app: `app-${i % 50}`, tier: i % 3 === 0 ? 'web' : 'worker' } },
          spec: {
            ...(i % 4 === 0 ? { automountServiceAccountToken: false } : {}),
            containers: [{ name: 'main', image: `registry.example/app-${i % 50}:1.${i % 7}`, env: [{ name: 'MODE', value: 'bench' }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
          },
        };
        let code = 0;
        for (let attempt = 0; attempt < 5; attempt++) {
          code = await post(`/api/v1/namespaces/${ns}/pods`, pod);
          if (code === 201 || code === 409) break;
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
        if (code !== 201 && code !== 409) failed++;
        if (i % 1000 === 999) process.stderr.write(`  created ${i + 1} pods (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
    };
    await Promise.all(Array.from({ length: STREAMS }, stream));
    agent.destroy();
    process.stderr.write(`created ${PODS - failed} pods in ${((Date.now() - t0) / 1000).toFixed(1)} s (${failed} failed)\n`);

    const env = { ...process.env, KUBECONFIG: cp.kubeconfig };
    const node = process.execPath;
    // The same kubectl binary the harness uses (built beside the server when possible), so the version printed is the one measured.
    const kubectl = requireBinaries().kubectl;
    const kubectlVersion = (await cp.kubectl(['version', '--client', '-o', 'json'])).stdout;
    const cases: [string, string, string[]][] = [
      ['kube-sa-audit scan -A -o json', node, [path.join(ROOT, 'bin/kube-sa-audit.js'), 'scan', '-o', 'json', '-q', '--fail-on', 'none']],
      ['kube-sa-audit snapshot (read only)', node, [path.join(ROOT, 'bin/kube-sa-audit.js'), 'snapshot', '-q']],
      ['kubectl get pods,sa,roles,rb,cr,crb -A -o json', kubectl, ['get', 'pods,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings', '-A', '-o', 'json']],
    ];
    const results: Record<string, Measured[]> = {};
    // Interleaved runs, so a slow moment on the shared machine hits every case alike.
    for (let r = 0; r < RUNS; r++) {
      for (const [name, cmd, args] of cases) {
        const m = await measure(cmd, args, env);
        if (m.code !== 0) throw new Error(`${name} exited ${m.code}`);
        (results[name] ??= []).push(m);
        process.stderr.write(`  run ${r + 1}: ${name}: ${m.wallS.toFixed(2)} s, ${m.maxRssMB.toFixed(0)} MB, ${(m.bytes / 1e6).toFixed(1)} MB out\n`);
      }
    }
    const row = (name: string) => {
      const ms = results[name]!;
      return { name, wallS: median(ms.map((m) => m.wallS)), maxRssMB: median(ms.map((m) => m.maxRssMB)), outMB: median(ms.map((m) => m.bytes)) / 1e6 };
    };
    const rows = cases.map(([n]) => row(n));
    const [scan, snap, kc] = rows as [ReturnType<typeof row>, ReturnType<typeof row>, ReturnType<typeof row>];
    const kv = (() => {
      try {
        return (JSON.parse(kubectlVersion) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? '?';
      } catch {
        return '?';
      }
    })();
    const lines = [
      `live listing benchmark: ${PODS - failed} pods in ${NAMESPACES} namespaces, kube-apiserver ${cp.version}, kubectl ${kv}, node ${process.version}, ${RUNS} runs (median)`,
      '',
      '| command | wall s | peak RSS MB | stdout MB |',
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name} | ${r.wallS.toFixed(2)} | ${r.maxRssMB.toFixed(0)} | ${r.outMB.toFixed(1)} |`),
      '',
      `scan / kubectl: wall ${(scan.wallS / kc.wallS).toFixed(2)}×, peak RSS ${(scan.maxRssMB / kc.maxRssMB).toFixed(2)}×`,
      `snapshot / kubectl: wall ${(snap.wallS / kc.wallS).toFixed(2)}×, peak RSS ${(snap.maxRssMB / kc.maxRssMB).toFixed(2)}×`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    const outDir = path.join(ROOT, 'bench', 'out');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'live-list.json'), JSON.stringify({ pods: PODS - failed, namespaces: NAMESPACES, server: cp.version, kubectl: kv, node: process.version, runs: results, medians: rows }, null, 2) + '\n');
  } finally {
    await cp.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/live-list: ${(err as Error).message}\n`);
  process.exit(1);
});
