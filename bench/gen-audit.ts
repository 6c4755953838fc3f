// Deterministic generator of a realistic kube-apiserver audit log (JSON lines, as the log backend writes them),
// for bench/audit-log.ts. Not a test fixture: the output goes to /tmp.
//
//   node bench/gen-audit.ts [--out /tmp/ksa-audit-1g.log] [--bytes 1000000000] [--seed 1] [--days 7]
//
// Mix (by event count, roughly as a Metadata-level policy on a busy cluster logs them): kubelet node leases and
// status, kube-scheduler / kube-controller-manager leader leases, apiserver identity leases, human and CI users,
// and service-account traffic: controllers in kube-system (no pod identity) and workloads with Pod-bound tokens
// (user.extra pod-name/pod-uid/node-name/credential-id), some of them denied. About a third of the requests also
// log their RequestReceived stage; watches log ResponseStarted.
import { openSync, writeSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface GenAuditOptions { out: string; bytes: number; seed: number; days: number }

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHA = 'bcdfghjklmnpqrstvwxz2456789';

export function generateAuditLog(o: GenAuditOptions): { lines: number; serviceAccountLines: number; bytes: number } {
  const rnd = mulberry32(o.seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const suffix = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += ALPHA[Math.floor(rnd() * ALPHA.length)]; return s; };
  const uuid = (): string => {
    const h = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)]; return s; };
    return `${h(8)}-${h(4)}-4${h(3)}-a${h(3)}-${h(12)}`;
  };

  const nodes = Array.from({ length: 50 }, (_, i) => `ip-10-0-${Math.floor(i / 10)}-${10 + i}.ec2.internal`);
  interface Pod { ns: string; sa: string; name: string; uid: string; node: string; jti: string; ops: [string, string, string, string][] }
  const pods: Pod[] = [];
  const opsets: [string, string, string, string][][] = [
    [['get', '', 'configmaps', 'app-config'], ['watch', '', 'configmaps', ''], ['list', '', 'configmaps', '']],
    [['get', 'coordination.k8s.io', 'leases', 'leader'], ['update', 'coordination.k8s.io', 'leases', 'leader']],
    [['list', '', 'pods', ''], ['watch', '', 'pods', ''], ['get', '', 'secrets', 'tls']],
    [['create', '', 'events', ''], ['patch', '', 'events', 'x']],
  ];
  for (let n = 0; n < 60; n++) {
    const ns = `team-${n % 20}`;
    const deploy = `svc-${n}`;
    const hash = suffix(9);
    for (let r = 0; r < 3; r++) {
      pods.push({ ns, sa: n % 4 === 0 ? 'default' : deploy, name: `${deploy}-${hash}-${suffix(5)}`, uid: uuid(), node: pick(nodes), jti: uuid(), ops: opsets[n % opsets.length]! });
    }
  }
  const controllers = ['replicaset-controller', 'deployment-controller', 'endpointslice-controller', 'namespace-controller', 'generic-garbage-collector', 'job-controller'];
  const humans = ['alice@example.com', 'bob@example.com', 'ci-deployer'];
  const apiservers = ['apiserver-7ukvzrjhqlmqkxwcq3l2ygyeoe', 'apiserver-ufjzxcquo2wsxqsaxjesxrlp5y'];

  const start = Date.UTC(2026, 10, 21, 0, 0, 0);
  const approxEventBytes = 1290; // measured: ~1.4 lines of ~930 bytes per request
  const total = Math.max(1, Math.floor(o.bytes / approxEventBytes));
  const span = o.days * 86_400_000;
  const fd = openSync(o.out, 'w');
  let buf = '';
  let lines = 0;
  let saLines = 0;
  let written = 0;
  const flush = (): void => { if (buf) { written += writeSync(fd, buf); buf = ''; } };
  const micro = (ms: number, us: number): string => new Date(ms).toISOString().slice(0, 23) + String(us).padStart(3, '0') + 'Z';

  let i = 0;
  while (written + buf.length < o.bytes) {
    const ms = start + Math.floor((i / total) * span);
    i++;
    const us = Math.floor(rnd() * 1000);
    const r = rnd();
    let user: Record<string, unknown>;
    let verb: string;
    let objectRef: Record<string, unknown> | undefined;
    let uri: string;
    let ua: string;
    let code = 200;
    let decision = 'allow';
    let reason = '';
    let sa = false;
    if (r < 0.40) {
      const node = pick(nodes);
      user = { username: `system:node:${node}`, groups: ['system:nodes', 'system:authenticated'] };
      if (rnd() < 0.7) {
        verb = 'update'; objectRef = { resource: 'leases', namespace: 'kube-node-lease', name: node, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' };
        uri = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}?timeout=10s`;
      } else {
        verb = 'patch'; objectRef = { resource: 'nodes', name: node, apiVersion: 'v1', subresource: 'status' };
        uri = `/api/v1/nodes/${node}/status?timeout=10s`;
      }
      ua = 'kubelet/v1.36.3 (linux/amd64) kubernetes/5e5a8d4';
      reason = '';
    } else if (r < 0.52) {
      const who = rnd() < 0.5 ? 'system:kube-controller-manager' : 'system:kube-scheduler';
      user = { username: who, groups: ['system:authenticated'] };
      const lease = who === 'system:kube-scheduler' ? 'kube-scheduler' : 'kube-controller-manager';
      verb = rnd() < 0.5 ? 'get' : 'update';
      objectRef = { resource: 'leases', namespace: 'kube-system', name: lease, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' };
      uri = `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease}?timeout=5s`;
      ua = `${lease}/v1.36.3 (linux/amd64) kubernetes/5e5a8d4/leader-election`;
      reason = `RBAC: allowed by ClusterRoleBinding "system:${lease}" of ClusterRole "system:${lease}" to User "${who}"`;
    } else if (r < 0.54) {
      const lease = pick(apiservers);
      user = { username: 'system:apiserver', uid: uuid(), groups: ['system:authenticated', 'system:masters'] };
      verb = 'update';
      objectRef = { resource: 'leases', namespace: 'kube-system', name: lease, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' };
      uri = `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease}`;
      ua = 'kube-apiserver/v1.36.3 (linux/amd64) kubernetes/5e5a8d4';
    } else if (r < 0.72) {
      const who = pick(humans);
      user = { username: who, groups: ['developers', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=' + uuid().replace(/-/g, '')] } };
      const ns = `team-${Math.floor(rnd() * 20)}`;
      const res = pick(['pods', 'deployments', 'services', 'configmaps']);
      verb = pick(['get', 'list', 'list', 'watch', 'patch']);
      objectRef = { resource: res, namespace: ns, apiVersion: 'v1', ...(res === 'deployments' ? { apiGroup: 'apps' } : {}) };
      uri = `/api/v1/namespaces/${ns}/${res}?limit=500`;
      ua = 'kubectl/v1.36.3 (linux/amd64) kubernetes/5e5a8d4';
      reason = `RBAC: allowed by RoleBinding "devs/${ns}" of ClusterRole "edit" to Group "developers"`;
    } else if (r < 0.82) {
      sa = true;
      const c = pick(controllers);
      user = { username: `system:serviceaccount:kube-system:${c}`, uid: uuid(), groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };
      const ns = `team-${Math.floor(rnd() * 20)}`;
      verb = pick(['get', 'list', 'watch', 'update', 'create']);
      objectRef = { resource: pick(['pods', 'replicasets', 'endpointslices']), namespace: ns, apiVersion: 'v1' };
      uri = `/api/v1/namespaces/${ns}/pods`;
      ua = 'kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/5e5a8d4/system:serviceaccount:kube-system:' + c;
      reason = `RBAC: allowed by ClusterRoleBinding "system:controller:${c}" of ClusterRole "system:controller:${c}" to ServiceAccount "${c}/kube-system"`;
    } else {
      sa = true;
      const p = pick(pods);
      user = {
        username: `system:serviceaccount:${p.ns}:${p.sa}`, uid: uuid(),
        groups: ['system:serviceaccounts', `system:serviceaccounts:${p.ns}`, 'system:authenticated'],
        extra: {
          'authentication.kubernetes.io/credential-id': [`JTI=${p.jti}`],
          'authentication.kubernetes.io/node-name': [p.node],
          'authentication.kubernetes.io/node-uid': ['4b5c6d7e-0000-4000-a000-000000000000'],
          'authentication.kubernetes.io/pod-name': [p.name],
          'authentication.kubernetes.io/pod-uid': [p.uid],
        },
      };
      const [v, g, res, name] = pick(p.ops);
      verb = v;
      objectRef = { resource: res, namespace: p.ns, ...(name && v !== 'list' && v !== 'watch' && v !== 'create' ? { name } : {}), ...(g ? { apiGroup: g } : {}), apiVersion: 'v1' };
      uri = `/api/v1/namespaces/${p.ns}/${res}${name ? '/' + name : ''}`;
      ua = 'app/v0.0.0 (linux/amd64) kubernetes/$Format';
      if (rnd() < 0.05) { code = 403; decision = 'forbid'; reason = ''; }
      else reason = `RBAC: allowed by RoleBinding "${p.sa}/${p.ns}" of Role "${p.sa}" to ServiceAccount "${p.sa}/${p.ns}"`;
    }
    const auditID = uuid();
    const received = micro(ms, us);
    const done = micro(ms + 2 + Math.floor(rnd() * 30), us);
    const annotations: Record<string, string> = { 'authorization.k8s.io/decision': decision, 'authorization.k8s.io/reason': reason };
    const base = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID };
    const tail = { sourceIPs: ['10.0.0.' + Math.floor(rnd() * 250)], userAgent: ua, ...(objectRef ? { objectRef } : {}) };
    if (rnd() < 0.33) {
      buf += JSON.stringify({ ...base, stage: 'RequestReceived', requestURI: uri, verb, user, ...tail, requestReceivedTimestamp: received, stageTimestamp: received }) + '\n';
      lines++; if (sa) saLines++;
    }
    if (verb === 'watch') {
      buf += JSON.stringify({ ...base, stage: 'ResponseStarted', requestURI: uri + '&watch=true', verb, user, ...tail, responseStatus: { metadata: {}, code: 200 }, requestReceivedTimestamp: received, stageTimestamp: done, annotations }) + '\n';
      lines++; if (sa) saLines++;
    }
    const status = code === 200 ? { metadata: {}, code } : { metadata: {}, status: 'Failure', message: 'forbidden', reason: 'Forbidden', details: {}, code };
    buf += JSON.stringify({ ...base, stage: 'ResponseComplete', requestURI: uri, verb, user, ...tail, responseStatus: status, requestReceivedTimestamp: received, stageTimestamp: done, annotations }) + '\n';
    lines++; if (sa) saLines++;
    if (buf.length > 4_000_000) flush();
  }
  flush();
  closeSync(fd);
  return { lines, serviceAccountLines: saLines, bytes: written };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: {
    out: { type: 'string', default: '/tmp/ksa-audit-1g.log' },
    bytes: { type: 'string', default: '1000000000' },
    seed: { type: 'string', default: '1' },
    days: { type: 'string', default: '7' },
  } });
  const t0 = performance.now();
  const r = generateAuditLog({ out: values.out, bytes: Number(values.bytes), seed: Number(values.seed), days: Number(values.days) });
  process.stdout.write(`${values.out}: ${r.bytes} bytes, ${r.lines} lines, ${r.serviceAccountLines} service-account lines (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
