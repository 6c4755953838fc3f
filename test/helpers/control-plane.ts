// The control plane a test file runs against: the one `npm test` (scripts/test.ts) started for the whole
// run, named by KSA_TEST_CONTROL_PLANE, or — when the file runs by itself — one started for this process
// and stopped when it exits.
import * as fs from "node:fs";
import { attachControlPlane, readState, startControlPlane, type ControlPlane } from "../control-plane/harness.ts";

export type { ControlPlane } from "../control-plane/harness.ts";

let shared: Promise<ControlPlane> | undefined;

export function sharedControlPlane(): Promise<ControlPlane> {
  shared ??= open();
  return shared;
}

async function open(): Promise<ControlPlane> {
  const stateFile = process.env.KSA_TEST_CONTROL_PLANE;
  if (stateFile) {
    if (!fs.existsSync(stateFile)) throw new Error(`KSA_TEST_CONTROL_PLANE names ${stateFile}, which does not exist (is the run that started it still going?)`);
    // Owned by the runner: stop() here must not tear down what other test files still use.
    return attachControlPlane(readState(stateFile));
  }
  return startControlPlane({ name: `file-${process.pid}` });
}

/** A fresh namespace name for one test, since the control plane is shared by the whole suite. */
export function uniqueNamespace(prefix = "t"): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** kubectl as admin that must succeed; returns stdout. */
export async function kubectlOk(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Polls `fn` until it returns a value: the server's controllers and informers catch up asynchronously. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
