// `npm run cluster:up` / `npm run cluster:down`: a detached test control plane for poking at by hand.
// The state file records the exact PIDs, so `down` stops only what `up` started.
import * as fs from "node:fs";
import * as path from "node:path";
import { binDir, cacheRoot, ControlPlaneUnavailable, readState, startControlPlaneWithState, terminatePids, type ControlPlaneState } from "./harness.ts";

export function stateFilePath(): string {
  return process.env.KSA_CLUSTER_STATE ?? path.join(cacheRoot(), "cluster-state.json");
}

async function up(): Promise<number> {
  const file = stateFilePath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // The state file is claimed exclusively before anything starts, so two `up`s never both start one and
  // lose track of the first.
  for (;;) {
    try {
      fs.writeFileSync(file, JSON.stringify({ startingPid: process.pid }) + "\n", { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const existing = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<ControlPlaneState> & { startingPid?: number };
    if (existing.pids && isAlive(existing.pids.apiserver)) {
      process.stdout.write(`a control plane is already up: ${existing.server}\nkubeconfig: ${existing.kubeconfig}\nstop it with: npm run cluster:down\n`);
      return 0;
    }
    if (existing.startingPid && isAlive(existing.startingPid)) {
      process.stderr.write(`cluster:up: another cluster:up (pid ${existing.startingPid}) is starting a control plane; wait for it\n`);
      return 1;
    }
    fs.rmSync(file, { force: true }); // stale: its processes are gone
  }
  let state: ControlPlaneState;
  try {
    ({ state } = await startControlPlaneWithState({ name: "cli", detached: true }));
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  }
  fs.writeFileSync(file, JSON.stringify(state, null, 2) + "\n");
  process.stdout.write(
    `control plane ${state.version} ready in ${(state.readyAfterMs / 1000).toFixed(1)} s at ${state.server}\n` +
      `kubeconfig: ${state.kubeconfig}\n` +
      `  export KUBECONFIG=${state.kubeconfig}\n` +
      `audit log:  ${state.auditLog}\n` +
      `kubectl:    ${state.kubectlPath}\n` +
      `state:      ${file} (PIDs etcd ${state.pids.etcd}, kube-apiserver ${state.pids.apiserver}, kube-controller-manager ${state.pids.controllerManager})\n` +
      `stop it with: npm run cluster:down\n`,
  );
  return 0;
}

async function down(): Promise<number> {
  const file = stateFilePath();
  if (!fs.existsSync(file)) {
    process.stdout.write(`no control plane is up (no ${file})\n`);
    return 0;
  }
  const s = readState(file);
  if (!s.pids) {
    process.stdout.write(`a cluster:up is still starting (state ${file}); run cluster:down after it finished\n`);
    return 1;
  }
  // Only PIDs that still run our binaries: after a reboot the numbers may belong to someone else.
  const ours = [s.pids.controllerManager, s.pids.apiserver, s.pids.etcd].filter((pid) => runsFrom(pid, binDir()));
  await terminatePids(ours);
  fs.rmSync(s.dir, { recursive: true, force: true });
  fs.rmSync(file, { force: true });
  process.stdout.write(`stopped the control plane at ${s.server} and removed ${s.dir}\n`);
  return 0;
}

function runsFrom(pid: number, dir: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith(dir + path.sep);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
}

const cmd = process.argv[2];
try {
  if (cmd === "up") process.exitCode = await up();
  else if (cmd === "down") process.exitCode = await down();
  else {
    process.stderr.write("usage: node test/control-plane/cli.ts up|down\n");
    process.exitCode = 2;
  }
} catch (e) {
  process.stderr.write(`cluster:${cmd}: ${(e as Error).message}\n`);
  process.exitCode = e instanceof ControlPlaneUnavailable ? 5 : 1;
}
