// The test control plane itself: real kube-apiserver/kube-controller-manager/etcd, admission, identities,
// audit log, and a teardown that leaves nothing behind.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { eventually, kubectlOk, sharedControlPlane, uniqueNamespace } from "../helpers/control-plane.ts";
import { ControlPlaneUnavailable, K8S_VERSION, startControlPlane, startControlPlaneWithState, type ControlPlane } from "./harness.ts";

const ok = kubectlOk;

const pod = (ns: string, name: string, sa = "default") => JSON.stringify({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { serviceAccountName: sa, containers: [{ name: "app", image: "registry.example/app:1" }] },
});

test("the control plane reports the pinned release", async () => {
  const cp = await sharedControlPlane();
  assert.equal(cp.version, K8S_VERSION);
  const v = JSON.parse(await ok(cp, ["get", "--raw", "/version"]));
  assert.equal(v.gitVersion, K8S_VERSION);
  assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await ok(cp, ["get", "--raw", "/readyz"])).trim(), "ok");
});

test("a new namespace gets its default ServiceAccount and the kube-root-ca.crt ConfigMap", async () => {
  const cp = await sharedControlPlane();
  const ns = uniqueNamespace();
  await ok(cp, ["create", "namespace", ns]);
  await eventually("default SA", async () => ((await cp.kubectl(["get", "sa", "default", "-n", ns])).code === 0 ? true : undefined));
  await eventually("kube-root-ca.crt", async () => ((await cp.kubectl(["get", "configmap", "kube-root-ca.crt", "-n", ns])).code === 0 ? true : undefined));
});

test("view is aggregated from system:aggregate-to-view", async () => {
  const cp = await sharedControlPlane();
  const view = JSON.parse(await ok(cp, ["get", "clusterrole", "view", "-o", "json"]));
  assert.ok(view.aggregationRule, "view has an aggregationRule");
  assert.ok(view.rules.length > 0, "view has aggregated rules");
  assert.ok(view.rules.some((r: any) => r.resources?.includes("pods") && r.verbs.includes("list")), "view may list pods");
});

test("ServiceAccount admission injects the kube-api-access volume into a new pod", async () => {
  const cp = await sharedControlPlane();
  const ns = uniqueNamespace();
  await ok(cp, ["create", "namespace", ns]);
  await eventually("default SA", async () => ((await cp.kubectl(["get", "sa", "default", "-n", ns])).code === 0 ? true : undefined));
  await ok(cp, ["create", "-f", "-"], pod(ns, "p1"));
  const p = JSON.parse(await ok(cp, ["get", "pod", "p1", "-n", ns, "-o", "json"]));
  const vol = p.spec.volumes.find((v: any) => v.name.startsWith("kube-api-access-"));
  assert.ok(vol, "kube-api-access-* volume injected");
  assert.ok(vol.projected.sources.some((s: any) => s.serviceAccountToken?.path === "token"));
  const mount = p.spec.containers[0].volumeMounts.find((m: any) => m.name === vol.name);
  assert.equal(mount.mountPath, "/var/run/secrets/kubernetes.io/serviceaccount");
  assert.equal(mount.readOnly, true);
  assert.equal(p.status.phase, "Pending", "no scheduler or kubelet: pods stay Pending");
});

test("tokenFor/kubeconfigFor authenticate as the ServiceAccount, and client certs as user/groups", async () => {
  const cp = await sharedControlPlane();
  const ns = uniqueNamespace();
  await ok(cp, ["create", "namespace", ns]);
  await ok(cp, ["create", "serviceaccount", "robot", "-n", ns]);
  const saConfig = await cp.kubeconfigFor({ serviceAccount: { namespace: ns, name: "robot" } });
  const who = JSON.parse(await ok(cp, ["auth", "whoami", "-o", "json", `--kubeconfig=${saConfig}`]));
  assert.equal(who.status.userInfo.username, `system:serviceaccount:${ns}:robot`);
  assert.deepEqual([...who.status.userInfo.groups].sort(), ["system:authenticated", "system:serviceaccounts", `system:serviceaccounts:${ns}`]);
  // The SA has no grants beyond the defaults, so it may not list pods; admin may.
  const denied = await cp.kubectl(["get", "pods", "-n", ns, `--kubeconfig=${saConfig}`]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /forbidden/i);

  const userConfig = await cp.kubeconfigFor({ user: "alice", groups: ["team-a", "team/b"] });
  const alice = JSON.parse(await ok(cp, ["auth", "whoami", "-o", "json", `--kubeconfig=${userConfig}`]));
  assert.equal(alice.status.userInfo.username, "alice");
  assert.deepEqual([...alice.status.userInfo.groups].sort(), ["system:authenticated", "team-a", "team/b"]);
});

test("a token bound to a pod carries pod-name/pod-uid into the audit log", async () => {
  const cp = await sharedControlPlane();
  const ns = uniqueNamespace();
  await ok(cp, ["create", "namespace", ns]);
  await ok(cp, ["create", "serviceaccount", "worker", "-n", ns]);
  await ok(cp, ["create", "-f", "-"], pod(ns, "bound", "worker"));
  const uid = (await ok(cp, ["get", "pod", "bound", "-n", ns, "-o", "jsonpath={.metadata.uid}"])).trim();
  const cfg = await cp.kubeconfigFor({ serviceAccount: { namespace: ns, name: "worker", boundPod: "bound" } });
  const who = JSON.parse(await ok(cp, ["auth", "whoami", "-o", "json", `--kubeconfig=${cfg}`]));
  assert.deepEqual(who.status.userInfo.extra["authentication.kubernetes.io/pod-name"], ["bound"]);
  assert.deepEqual(who.status.userInfo.extra["authentication.kubernetes.io/pod-uid"], [uid]);
  await cp.kubectl(["get", "configmaps", "-n", ns, `--kubeconfig=${cfg}`]); // denied, but audited
  const username = `system:serviceaccount:${ns}:worker`;
  const event = await eventually("an audit event from the bound token", async () => {
    const lines = fs.readFileSync(cp.auditLog, "utf8").split("\n").filter((l) => l.includes(username));
    const events = lines.map((l) => JSON.parse(l)).filter((e) => e.user?.username === username && e.objectRef?.resource === "configmaps");
    return events.find((e) => e.stage === "ResponseComplete");
  }, 10_000);
  assert.equal(event.apiVersion, "audit.k8s.io/v1");
  assert.equal(event.level, "Metadata");
  assert.equal(event.verb, "list");
  assert.equal(event.responseStatus.code, 403);
  assert.deepEqual(event.user.extra["authentication.kubernetes.io/pod-name"], ["bound"]);
  assert.deepEqual(event.user.extra["authentication.kubernetes.io/pod-uid"], [uid]);
  assert.ok(!fs.readFileSync(cp.auditLog, "utf8").includes('"stage":"RequestReceived"'), "RequestReceived is omitted");
});

test("stop() kills exactly the processes it started and removes its directory", async () => {
  const { controlPlane, state } = await startControlPlaneWithState({ name: "teardown-check" });
  const pids = [state.pids.etcd, state.pids.apiserver, state.pids.controllerManager];
  for (const pid of pids) assert.ok(alive(pid), `pid ${pid} runs before stop`);
  assert.notEqual(state.server, (await sharedControlPlane()).server, "a second control plane gets its own port");
  await controlPlane.stop();
  for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is gone after stop`);
  assert.ok(!fs.existsSync(state.dir), "temp dir removed");
  // The shared one is untouched.
  assert.equal((await ok(await sharedControlPlane(), ["get", "--raw", "/readyz"])).trim(), "ok");
});

// Running = present in /proc and not a zombie (an exited child this process has not reaped yet).
function alive(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
}

test("missing binaries fail at once with what to run, never a hang", async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "ksa-empty-cache-"));
  const saved = process.env.KSA_CACHE_DIR;
  process.env.KSA_CACHE_DIR = empty;
  try {
    const t = Date.now();
    await assert.rejects(startControlPlane({ name: "no-binaries" }), (e: Error) => {
      assert.ok(e instanceof ControlPlaneUnavailable);
      assert.match(e.message, /npm run cluster:build/);
      assert.match(e.message, /Go toolchain/);
      assert.ok(e.message.includes(empty), "names the directory it looked in");
      return true;
    });
    assert.ok(Date.now() - t < 5000, "fails fast");
    assert.deepEqual(fs.readdirSync(empty), [], "leaves nothing behind");
  } finally {
    if (saved === undefined) delete process.env.KSA_CACHE_DIR;
    else process.env.KSA_CACHE_DIR = saved;
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
