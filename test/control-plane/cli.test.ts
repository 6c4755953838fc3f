// `npm run cluster:up` / `cluster:down`: a detached control plane recorded in a state file, and a `down`
// that stops exactly the recorded PIDs.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readState } from "./harness.ts";

const CLI = path.join(import.meta.dirname, "cli.ts");

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function running(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
}

test("cluster:up starts a detached control plane and cluster:down stops exactly its processes", async () => {
  const stateFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ksa-cli-test-")), "state.json");
  const env = { KSA_CLUSTER_STATE: stateFile };
  try {
    // Two `up`s at once: exactly one starts a control plane, the other says so instead of starting a second.
    const [a, b] = await Promise.all([cli(["up"], env), cli(["up"], env)]);
    const up = a.stdout.includes("ready in") ? a : b;
    const other = up === a ? b : a;
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /ready in/);
    assert.equal(other.code, 1, other.stdout);
    assert.match(other.stderr, /another cluster:up \(pid \d+\) is starting/);
    const state = readState(stateFile);
    assert.match(up.stdout, new RegExp(`kubeconfig: ${state.kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(up.stdout, /npm run cluster:down/);
    const pids = [state.pids.etcd, state.pids.apiserver, state.pids.controllerManager];
    // The `up` process has exited; its control plane outlives it.
    for (const pid of pids) assert.ok(running(pid), `pid ${pid} still runs after cluster:up returned`);
    assert.ok(fs.existsSync(state.kubeconfig));

    const again = await cli(["up"], env);
    assert.match(again.stdout, /already up/);
    assert.deepEqual(readState(stateFile).pids, state.pids, "a second up reuses the running one");

    const down = await cli(["down"], env);
    assert.equal(down.code, 0, down.stderr);
    for (const pid of pids) assert.ok(!running(pid), `pid ${pid} stopped`);
    assert.ok(!fs.existsSync(state.dir), "its directory is removed");
    assert.ok(!fs.existsSync(stateFile), "the state file is removed");
    assert.match((await cli(["down"], env)).stdout, /no control plane is up/);
  } finally {
    if (fs.existsSync(stateFile)) await cli(["down"], env);
    fs.rmSync(path.dirname(stateFile), { recursive: true, force: true });
  }
});

test("an unknown subcommand is a usage error", async () => {
  const r = await cli(["sideways"], {});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage: .*up\|down/);
});
