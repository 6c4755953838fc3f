// `npm test`: builds the test control plane if needed (cached after the first time), starts ONE control
// plane for the whole run, runs every test file against it with node's test runner, and tears it down.
// Extra arguments replace the default file pattern: `npm test -- test/rbac/`.
import { spawn, spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { BUILD_SCRIPT, ControlPlaneUnavailable, startControlPlaneWithState } from "../test/control-plane/harness.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function say(line: string): void {
  process.stderr.write(`[npm test] ${line}\n`);
}

async function main(): Promise<number> {
  const buildStart = Date.now();
  const build = spawnSync("bash", [BUILD_SCRIPT], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) {
    if (build.status === 127) {
      say("the Go toolchain (>= 1.26) is needed to build the real kube-apiserver/etcd the end-to-end tests run against.");
      say("Install Go (https://go.dev/doc/install; CI machines have it in /usr/local/go), then run `npm run cluster:build` or `npm test` again.");
    } else {
      say(`building the test control plane failed (exit ${build.status ?? build.signal}); see the output above, fix it, and re-run \`npm run cluster:build\`.`);
    }
    return 1;
  }
  say(`control plane binaries ready (${((Date.now() - buildStart) / 1000).toFixed(1)} s)`);

  let stop: (() => Promise<void>) | undefined;
  let tail = "";
  let counts: string | undefined;
  try {
    const { controlPlane, state } = await startControlPlaneWithState({ name: "npm-test" });
    stop = () => controlPlane.stop();
    say(`control plane ${state.version} ready at ${state.server} in ${(state.readyAfterMs / 1000).toFixed(1)} s (dir ${state.dir})`);
    const patterns = process.argv.slice(2);
    const args = ["--test", "--test-concurrency=1", "--test-timeout=600000", ...(patterns.length > 0 ? patterns : ["test/**/*.test.ts"])];
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        stdio: ["inherit", "pipe", "inherit"],
        env: {
          ...process.env,
          KSA_TEST_CONTROL_PLANE: path.join(state.dir, "state.json"),
          ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {}),
        },
      });
      // Streamed through unchanged; the tail is kept to repeat the counts as the very last line.
      child.stdout!.on("data", (chunk: Buffer) => {
        process.stdout.write(chunk);
        tail = (tail + chunk.toString("utf8")).slice(-65536);
      });
      child.on("exit", (c, sig) => resolve(c ?? 128 + (sig ? (os.constants.signals[sig] ?? 0) : 0)));
      child.on("error", (e) => {
        say(`could not run the test runner: ${e.message}`);
        resolve(1);
      });
    });
    counts = summaryCounts(tail);
    return code;
  } catch (e) {
    if (e instanceof ControlPlaneUnavailable) say(e.message);
    else say(`the test control plane did not start: ${(e as Error).message}`);
    return 1;
  } finally {
    if (stop) {
      const t = Date.now();
      await stop();
      say(`control plane stopped (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    // The runner's own summary is followed by our teardown lines; repeat its counts last, plainly.
    if (counts) process.stdout.write(`${counts}\n`);
  }
}

/** "N passed, N failed[, N skipped]" from node's spec-reporter summary (`ℹ pass N` …), if present. */
function summaryCounts(output: string): string | undefined {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const count = (label: string) => {
    const all = [...plain.matchAll(new RegExp(`^ℹ ${label} (\\d+)$`, "gm"))];
    return all.length ? Number(all[all.length - 1]![1]) : undefined;
  };
  const pass = count("pass");
  const fail = count("fail");
  if (pass === undefined || fail === undefined) return undefined;
  const skipped = count("skipped") ?? 0;
  return `${pass} passed, ${fail} failed${skipped ? `, ${skipped} skipped` : ""}`;
}

process.exitCode = await main();
