#!/usr/bin/env node
// Entry point of the `kube-sa-audit` command.
// - On a Node.js older than 22 (these machines ship 20), re-run under the Node the project pins
//   (the `node` npm package in node_modules), so `kubectl sa-audit` works from any shell.
// - From a checkout, run the TypeScript sources directly (Node 22.18+/24 strip types), so a developer
//   never runs a stale build; an installed package has no src/ and runs the compiled dist/.
// - For a very large input file, re-run with settings that hold memory down (see LARGE_INPUT below).
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..');
const major = Number(process.versions.node.split('.')[0]);
const args = process.argv.slice(2);

// Very large inputs run with two V8 settings that hold the peak memory down (measured on a 150,000-pod dump of
// 2.3 GB, same wall time within the noise):
// - an 8 MB semi-space: V8 lets the young generation grow to 2 x 64 MB, which then stays resident (16 MB until
//   the analysis stopped keeping every report: 8 MB then took the peak from 308-311 to 292-296 MB at the same
//   wall time, three interleaved runs each; 4 MB saved 5 MB more and cost ~0.5 s);
// - `gc` exposed, so the scan collects garbage between its phases (src/analysis/memory.ts).
// Together they took the peak from 630–710 MB to 441–477 MB. Both are fixed when V8 starts, so they take a
// re-run (~80 ms), paid only for inputs of LARGE_INPUT.fromBytes or more.
// The re-run also caps glibc's malloc arenas at two (unless MALLOC_ARENA_MAX is set): by default each thread
// that allocates (libuv's file readers, V8's GC helpers) may get an arena of its own, and freed memory stays
// resident in each. Measured at 150,000 pods, four interleaved runs each: peak 412–420 MB against 423–426 MB,
// same wall time (one arena: 408–414 MB, a little slower).
const LARGE_INPUT = { nodeFlags: ['--max-semi-space-size=8', '--expose-gc'], env: { MALLOC_ARENA_MAX: '2' }, fromBytes: 512 * 2 ** 20 };
function isLargeInput() {
  if (process.env.KSA_NO_RELAUNCH === '1') return false;
  if ([...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space'))) return false;
  let bytes = 0;
  // Any argument naming a regular file counts (the inputs, given with -f or not); directories are not walked.
  for (const a of args) {
    const st = statSync(a.startsWith('--filename=') ? a.slice(11) : a, { throwIfNoEntry: false });
    if (st?.isFile()) bytes += st.size;
  }
  return bytes >= LARGE_INPUT.fromBytes;
}

/** Runs this command again under `node` with `nodeFlags` and `defaults` for unset variables, and exits with its status. */
function relaunch(node, nodeFlags, defaults = {}) {
  const env = { ...process.env, KSA_NO_RELAUNCH: '1' };
  for (const [k, v] of Object.entries(defaults)) if (!env[k]) env[k] = v;
  const r = spawnSync(node, [...nodeFlags, process.argv[1] ?? here, ...args], { stdio: 'inherit', env });
  if (r.error) {
    process.stderr.write(`kube-sa-audit: could not start ${node}: ${r.error.message}\n`);
    process.exit(2);
  }
  // Killed by a signal: exit the way a shell reports it (128 + signal number).
  process.exit(r.status ?? 128 + (constants.signals[r.signal] ?? 15));
}

if (major < 22) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`kube-sa-audit: needs Node.js 22 or newer (this is ${process.version}); run 'npm install' in ${root} or install Node.js 24 LTS\n`);
    process.exit(2);
  }
  if (isLargeInput()) relaunch(pinned, LARGE_INPUT.nodeFlags, LARGE_INPUT.env);
  else relaunch(pinned, []);
} else if (isLargeInput()) {
  relaunch(process.execPath, [...LARGE_INPUT.nodeFlags, ...process.execArgv], LARGE_INPUT.env);
}
// V8's on-disk compile cache (Node 22.1+; in the OS temp dir) also keeps the type-stripped sources: it
// roughly halves start-up, which is most of the time of a small scan. NODE_COMPILE_CACHE overrides the place.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const src = join(root, 'src', 'cli', 'main.ts');
const dist = join(root, 'dist', 'cli', 'main.js');
const entry = existsSync(src) && process.env.KSA_USE_DIST !== '1' ? src : dist;
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2), { invokedAs: process.env.KSA_INVOKED_AS ?? 'kube-sa-audit' });
