// A real Kubernetes control plane on loopback for the test suite: etcd, kube-apiserver and a minimal
// kube-controller-manager, built by build.sh into a per-version cache. Fresh CA, serving cert and
// service-account signing key per run, so nothing survives between runs and tests are the only clients.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export interface ControlPlane {
  kubeconfig: string; // admin (system:masters) kubeconfig path
  server: string; // https://127.0.0.1:<port>
  caFile: string;
  auditLog: string; // audit.k8s.io/v1 JSON lines, level Metadata for everything
  version: string; // v1.36.3
  dir: string; // temp dir
  /** kubectl as admin; pass your own `--kubeconfig=<kubeconfigFor(...)>` to act as another identity. */
  kubectl(args: string[], opts?: { input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** TokenRequest for a ServiceAccount; boundPod binds it to a Pod (audit events then carry pod-name/uid). */
  tokenFor(
    namespace: string,
    serviceAccount: string,
    opts?: { boundPod?: string; audiences?: string[]; expirationSeconds?: number },
  ): Promise<string>;
  /** A kubeconfig file that authenticates with such a token (or as a user/groups via client cert). */
  kubeconfigFor(
    identity: { serviceAccount: { namespace: string; name: string; boundPod?: string } } | { user: string; groups?: string[] },
  ): Promise<string>;
  stop(): Promise<void>;
}

/** What a running control plane leaves on disk so another process (a test file, `cluster:down`) can use or stop it. */
export interface ControlPlaneState {
  dir: string;
  server: string;
  caFile: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
  kubeconfig: string;
  auditLog: string;
  version: string;
  kubectlPath: string;
  pids: { etcd: number; apiserver: number; controllerManager: number };
  ownerPid: number;
  startedAt: string;
  readyAfterMs: number;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const K8S_VERSION = fs.readFileSync(path.join(HERE, "K8S_VERSION"), "utf8").trim();
export const ETCD_VERSION = fs.readFileSync(path.join(HERE, "ETCD_VERSION"), "utf8").trim();
export const BUILD_SCRIPT = path.join(HERE, "build.sh");

export function cacheRoot(): string {
  return process.env.KSA_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "kube-sa-audit");
}
export function binDir(): string {
  return path.join(cacheRoot(), `k8s-${K8S_VERSION}`);
}

/** The controllers this suite needs (names as `kube-controller-manager --help` of v1.36 lists them). */
export const CONTROLLERS = [
  "serviceaccount-token-controller",
  "serviceaccount-controller",
  "clusterrole-aggregation-controller",
  "root-ca-certificate-publisher-controller",
  "namespace-controller",
  "garbage-collector-controller",
  "deployment-controller",
  "replicaset-controller",
  "statefulset-controller",
  "daemonset-controller",
  "job-controller",
  "cronjob-controller",
  "replicationcontroller-controller",
  "legacy-serviceaccount-token-cleaner-controller",
  "validatingadmissionpolicy-status-controller",
];

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
`;

// The service CIDR and the advertised address are never dialled (no kube-proxy, no kubelet); the
// address only has to be a valid non-loopback IP because 1.21+ rejects loopback advertise addresses.
const SERVICE_CIDR = "10.0.0.0/24";
const ADVERTISE_ADDRESS = "10.0.0.1";
const SA_ISSUER = "https://kubernetes.default.svc.cluster.local";

export class ControlPlaneUnavailable extends Error {}

/** Throws a one-paragraph message saying what to install / run when the binaries are not there. */
export function requireBinaries(): { apiserver: string; controllerManager: string; etcd: string; kubectl: string } {
  const dir = binDir();
  const bins = {
    apiserver: path.join(dir, "kube-apiserver"),
    controllerManager: path.join(dir, "kube-controller-manager"),
    etcd: path.join(dir, "etcd"),
    kubectl: path.join(dir, "kubectl"),
  };
  // A kubectl of the same release is built beside the server when possible; any kubectl on PATH otherwise.
  if (!isExecutable(bins.kubectl)) bins.kubectl = "kubectl";
  const missing = [bins.apiserver, bins.controllerManager, bins.etcd].filter((p) => !isExecutable(p));
  if (missing.length > 0) {
    throw new ControlPlaneUnavailable(
      `test control plane ${K8S_VERSION} is not built (missing ${missing.map((p) => path.basename(p)).join(", ")} in ${dir}). ` +
        `Run \`npm run cluster:build\` first; it needs the Go toolchain >= 1.26 (https://go.dev/doc/install, on PATH or in /usr/local/go) ` +
        `and access to the Go module proxy. The first build takes about 15 minutes on an idle 2-core machine (more when the cores are busy).`,
    );
  }
  return bins;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === "string") {
        reject(new Error(`${cmd}: ${err.message}`));
        return;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

async function runOk(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd ? { cwd } : {});
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// One OpenSSL subject component: '/' and '\' and '+' must be escaped in -subj.
function subjectPart(value: string): string {
  return value.replace(/[\\/+,=]/g, (c) => `\\${c}`);
}

async function issueClientCert(dir: string, caCert: string, caKey: string, stem: string, user: string, groups: string[]): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${stem}.key`);
  const csr = path.join(dir, `${stem}.csr`);
  const cert = path.join(dir, `${stem}.crt`);
  const ext = path.join(dir, `${stem}.ext`);
  const subj = `/CN=${subjectPart(user)}` + groups.map((g) => `/O=${subjectPart(g)}`).join("");
  await runOk("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-subj", subj, "-out", csr]);
  fs.writeFileSync(ext, "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  await runOk("openssl", ["x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "2", "-sha256", "-extfile", ext, "-out", cert]);
  return { cert, key };
}

async function generatePki(dir: string): Promise<{ caCert: string; caKey: string; servingCert: string; servingKey: string; saKey: string; saPub: string; adminCert: string; adminKey: string }> {
  const caKey = path.join(dir, "ca.key");
  const caCert = path.join(dir, "ca.crt");
  await runOk("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey, "-out", caCert, "-days", "2", "-sha256", "-subj", "/CN=kube-sa-audit-test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"]);
  const servingKey = path.join(dir, "apiserver.key");
  const servingCsr = path.join(dir, "apiserver.csr");
  const servingCert = path.join(dir, "apiserver.crt");
  const servingExt = path.join(dir, "apiserver.ext");
  await runOk("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", servingKey, "-subj", "/CN=kube-apiserver", "-out", servingCsr]);
  fs.writeFileSync(servingExt, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
  await runOk("openssl", ["x509", "-req", "-in", servingCsr, "-CA", caCert, "-CAkey", caKey, "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "2", "-sha256", "-extfile", servingExt, "-out", servingCert]);
  const saKey = path.join(dir, "sa.key");
  const saPub = path.join(dir, "sa.pub");
  await runOk("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", saKey]);
  await runOk("openssl", ["pkey", "-in", saKey, "-pubout", "-out", saPub]);
  const admin = await issueClientCert(dir, caCert, caKey, "admin", "kube-sa-audit-admin", ["system:masters"]);
  return { caCert, caKey, servingCert, servingKey, saKey, saPub, adminCert: admin.cert, adminKey: admin.key };
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

function writeKubeconfig(file: string, server: string, caFile: string, user: { token: string } | { cert: string; key: string }, userName: string): void {
  const ca = fs.readFileSync(caFile).toString("base64");
  const creds =
    "token" in user
      ? `      token: ${yamlString(user.token)}\n`
      : `      client-certificate-data: ${fs.readFileSync(user.cert).toString("base64")}\n      client-key-data: ${fs.readFileSync(user.key).toString("base64")}\n`;
  const text =
    `apiVersion: v1\nkind: Config\nclusters:\n  - name: ksa-test\n    cluster:\n      server: ${server}\n      certificate-authority-data: ${ca}\n` +
    `users:\n  - name: ${yamlString(userName)}\n    user:\n${creds}` +
    `contexts:\n  - name: ksa-test\n    context:\n      cluster: ksa-test\n      user: ${yamlString(userName)}\n` +
    `current-context: ksa-test\n`;
  fs.writeFileSync(file, text, { mode: 0o600 });
}

interface TlsClient {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function apiRequest(c: TlsClient, method: string, urlPath: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(urlPath, c.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {},
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${urlPath}`)));
    req.on("error", reject);
    req.end(payload);
  });
}

async function apiJson(c: TlsClient, method: string, urlPath: string, body?: unknown): Promise<any> {
  const r = await apiRequest(c, method, urlPath, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${urlPath}: HTTP ${r.status}: ${r.body.slice(0, 500)}`);
  return JSON.parse(r.body);
}

function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function logTail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `check` until it returns true; fails with `what`, the log tail, or when a watched process died. */
async function waitFor(what: string, check: () => Promise<boolean>, opts: { timeoutMs: number; procs: { name: string; child: ChildProcess; log: string }[] }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastErr = "";
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    for (const p of opts.procs) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) {
        throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) while waiting for ${what}; last log lines of ${p.log}:\n${logTail(p.log)}`);
      }
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const tails = opts.procs.map((p) => `--- ${p.name} (${p.log}):\n${logTail(p.log, 15)}`).join("\n");
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ""}\n${tails}`);
    }
    await sleep(delay);
  }
}

function isAlive(pid: number): boolean {
  try {
    // A zombie has exited; only its parent has not reaped it yet.
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "EPERM";
    }
  }
}

/**
 * Stops each PID in the given order (controller manager, apiserver, etcd): SIGTERM, wait up to graceMs,
 * then SIGKILL. One at a time, because an apiserver whose etcd went away first hangs in graceful
 * termination (measured: >10 s instead of ~1 s).
 */
export async function terminatePids(pids: number[], graceMs = 10_000): Promise<void> {
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      continue;
    }
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
      const killDeadline = Date.now() + 5000;
      while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
    }
  }
}

// Control planes started by this process and not yet stopped: torn down on exit / SIGINT / SIGTERM.
const live = new Set<{ pids: number[]; dir: string; stop: () => Promise<void> }>();
let exitHooksInstalled = false;
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // The event loop ran dry (e.g. a test file finished without calling stop()): stop gracefully.
  process.on("beforeExit", () => {
    if (live.size > 0) void Promise.allSettled([...live].map((cp) => cp.stop()));
  });
  process.on("exit", () => {
    // Only synchronous work is possible here: kill hard and remove the directory.
    for (const cp of live) {
      for (const pid of cp.pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      fs.rmSync(cp.dir, { recursive: true, force: true });
    }
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      void Promise.allSettled([...live].map((cp) => cp.stop())).then(() => process.exit(sig === "SIGINT" ? 130 : 143));
    });
  }
}

export interface StartOptions {
  name?: string;
  /** Leave the processes running after this Node process exits (for `npm run cluster:up`). */
  detached?: boolean;
  /** Where to put the temp dir (default os.tmpdir()). */
  parentDir?: string;
}

export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  return (await startControlPlaneWithState(opts)).controlPlane;
}

export async function startControlPlaneWithState(opts: StartOptions = {}): Promise<{ controlPlane: ControlPlane; state: ControlPlaneState }> {
  try {
    return await startOnce(opts);
  } catch (e) {
    // A free port found by binding port 0 can be taken by someone else before etcd/apiserver bind it.
    if (!/address already in use/i.test((e as Error).message)) throw e;
    return await startOnce(opts);
  }
}

async function startOnce(opts: StartOptions): Promise<{ controlPlane: ControlPlane; state: ControlPlaneState }> {
  const bins = requireBinaries();
  const started = Date.now();
  const name = (opts.name ?? "test").replace(/[^a-zA-Z0-9-]/g, "-");
  const dir = fs.mkdtempSync(path.join(opts.parentDir ?? os.tmpdir(), `ksa-cp-${name}-`));
  const children: { name: string; child: ChildProcess; log: string }[] = [];
  const entry = { pids: [] as number[], dir, stop: async () => {} };
  if (!opts.detached) {
    installExitHooks();
    live.add(entry);
  }
  const spawnLogged = (procName: string, bin: string, args: string[]): ChildProcess => {
    const log = path.join(dir, `${procName}.log`);
    const fd = fs.openSync(log, "a");
    const child = spawn(bin, args, { cwd: dir, stdio: ["ignore", fd, fd], detached: !!opts.detached });
    fs.closeSync(fd);
    // Never keep this Node process alive for the children: an owner that is done exits, and the
    // beforeExit/exit hooks below stop what it started.
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${bin}`);
    // Newest first, so teardown stops the controller manager, then the apiserver, then etcd.
    entry.pids.unshift(child.pid);
    children.push({ name: procName, child, log });
    return child;
  };
  const failStop = async () => {
    await terminatePids(entry.pids);
    live.delete(entry);
    // KSA_KEEP_FAILED_CONTROL_PLANE=1 keeps the logs of a control plane that did not come up.
    if (!process.env.KSA_KEEP_FAILED_CONTROL_PLANE) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = await generatePki(dir);
    fs.writeFileSync(path.join(dir, "audit-policy.yaml"), AUDIT_POLICY);
    const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];

    spawnLogged("etcd", bins.etcd, [
      "--name=ksa",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=ksa=http://127.0.0.1:${etcdPeerPort}`,
      "--listen-metrics-urls=",
      "--log-level=warn",
      "--unsafe-no-fsync",
    ]);
    await waitFor("etcd /health", async () => {
      const r = await httpGet(`http://127.0.0.1:${etcdPort}/health`);
      return r.status === 200 && /"health":\s*"true"/.test(r.body);
    }, { timeoutMs: 30_000, procs: children });

    const server = `https://127.0.0.1:${apiPort}`;
    const auditLog = path.join(dir, "audit.log");
    fs.mkdirSync(path.join(dir, "apiserver-certs"));
    spawnLogged("kube-apiserver", bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--advertise-address=${ADVERTISE_ADDRESS}`,
      "--endpoint-reconciler-type=none",
      `--cert-dir=${path.join(dir, "apiserver-certs")}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      "--authorization-mode=Node,RBAC",
      `--service-account-issuer=${SA_ISSUER}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--allow-privileged=true",
      `--audit-policy-file=${path.join(dir, "audit-policy.yaml")}`,
      `--audit-log-path=${auditLog}`,
      "--audit-log-format=json",
      "--audit-log-mode=blocking",
      "--audit-log-maxsize=0",
      "--audit-log-maxbackup=0",
      "--profiling=false",
      "--v=1",
    ]);
    const admin: TlsClient = { server, ca: fs.readFileSync(pki.caCert), cert: fs.readFileSync(pki.adminCert), key: fs.readFileSync(pki.adminKey) };
    await waitFor("kube-apiserver /readyz", async () => {
      const r = await apiRequest(admin, "GET", "/readyz", undefined, 2000);
      return r.status === 200 && r.body.trim() === "ok";
    }, { timeoutMs: 120_000, procs: children });

    const kubeconfig = path.join(dir, "admin.kubeconfig");
    writeKubeconfig(kubeconfig, server, pki.caCert, { cert: pki.adminCert, key: pki.adminKey }, "admin");

    spawnLogged("kube-controller-manager", bins.controllerManager, [
      `--kubeconfig=${kubeconfig}`,
      `--controllers=${CONTROLLERS.join(",")}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--profiling=false",
      "--v=1",
    ]);
    // Controllers are ready when a brand-new namespace gets its `default` SA and `view` is aggregated.
    const probeNs = `ksa-ready-${randomBytes(4).toString("hex")}`;
    await apiJson(admin, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: probeNs } });
    await waitFor("the default ServiceAccount in a new namespace", async () => {
      return (await apiRequest(admin, "GET", `/api/v1/namespaces/${probeNs}/serviceaccounts/default`)).status === 200;
    }, { timeoutMs: 60_000, procs: children });
    await waitFor("aggregated rules on ClusterRole view", async () => {
      const role = await apiJson(admin, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view");
      return Array.isArray(role.rules) && role.rules.length > 0;
    }, { timeoutMs: 60_000, procs: children });
    await apiRequest(admin, "DELETE", `/api/v1/namespaces/${probeNs}`);

    const versionInfo = await apiJson(admin, "GET", "/version");
    const state: ControlPlaneState = {
      dir,
      server,
      caFile: pki.caCert,
      caKey: pki.caKey,
      adminCert: pki.adminCert,
      adminKey: pki.adminKey,
      kubeconfig,
      auditLog,
      version: String(versionInfo.gitVersion),
      kubectlPath: bins.kubectl,
      pids: { etcd: children[0]!.child.pid!, apiserver: children[1]!.child.pid!, controllerManager: children[2]!.child.pid! },
      ownerPid: process.pid,
      startedAt: new Date(started).toISOString(),
      readyAfterMs: Date.now() - started,
    };
    fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
    const cp = makeControlPlane(state, async () => {
      await terminatePids(entry.pids);
      live.delete(entry);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    entry.stop = cp.stop;
    return { controlPlane: cp, state };
  } catch (e) {
    await failStop();
    throw e;
  }
}

/** A ControlPlane object for a running control plane described by a state file; its stop() is `onStop`. */
export function attachControlPlane(state: ControlPlaneState, onStop: () => Promise<void> = async () => {}): ControlPlane {
  return makeControlPlane(state, onStop);
}

export function readState(file: string): ControlPlaneState {
  return JSON.parse(fs.readFileSync(file, "utf8")) as ControlPlaneState;
}

function makeControlPlane(state: ControlPlaneState, onStop: () => Promise<void>): ControlPlane {
  const admin: TlsClient = {
    server: state.server,
    ca: fs.readFileSync(state.caFile),
    cert: fs.readFileSync(state.adminCert),
    key: fs.readFileSync(state.adminKey),
  };
  const scratch = () => {
    const d = path.join(state.dir, "identities");
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const unique = () => `${process.pid}-${randomBytes(4).toString("hex")}`;
  let stopped: Promise<void> | undefined;

  const tokenFor: ControlPlane["tokenFor"] = async (namespace, serviceAccount, opts = {}) => {
    const spec: Record<string, unknown> = {};
    if (opts.audiences) spec.audiences = opts.audiences;
    if (opts.expirationSeconds !== undefined) spec.expirationSeconds = opts.expirationSeconds;
    if (opts.boundPod) {
      const pod = await apiJson(admin, "GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(opts.boundPod)}`);
      spec.boundObjectRef = { kind: "Pod", apiVersion: "v1", name: opts.boundPod, uid: pod.metadata.uid };
    }
    const tr = await apiJson(admin, "POST", `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec,
    });
    return String(tr.status.token);
  };

  return {
    kubeconfig: state.kubeconfig,
    server: state.server,
    caFile: state.caFile,
    auditLog: state.auditLog,
    version: state.version,
    dir: state.dir,
    kubectl: (args, opts = {}) => {
      const env = { ...process.env, KUBECONFIG: state.kubeconfig };
      // Callers acting as another identity pass their own --kubeconfig (from kubeconfigFor).
      const own = args.some((a) => a === "--kubeconfig" || a.startsWith("--kubeconfig="));
      const full = own ? args : [`--kubeconfig=${state.kubeconfig}`, ...args];
      return run(state.kubectlPath, full, opts.input !== undefined ? { input: opts.input, env } : { env });
    },
    tokenFor,
    kubeconfigFor: async (identity) => {
      const d = scratch();
      const file = path.join(d, `${unique()}.kubeconfig`);
      if ("serviceAccount" in identity) {
        const { namespace, name, boundPod } = identity.serviceAccount;
        const token = await tokenFor(namespace, name, boundPod ? { boundPod } : {});
        writeKubeconfig(file, state.server, state.caFile, { token }, `system:serviceaccount:${namespace}:${name}`);
      } else {
        const c = await issueClientCert(d, state.caFile, state.caKey, unique(), identity.user, identity.groups ?? []);
        writeKubeconfig(file, state.server, state.caFile, c, identity.user);
      }
      return file;
    },
    stop: () => (stopped ??= onStop()),
  };
}
