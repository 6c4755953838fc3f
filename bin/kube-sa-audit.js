#!/usr/bin/env node
// Entry point of the `kube-sa-audit` command.
// - On a Node.js older than 22 (these machines ship 20), re-run under the Node the project pins
//   (the `node` npm package in node_modules), so `kubectl sa-audit` works from any shell.
// - From a checkout, run the TypeScript sources directly (Node 22.18+/24 strip types), so a developer
//   never runs a stale build; an installed package has no src/ and runs the compiled dist/.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`kube-sa-audit: needs Node.js 22 or newer (this is ${process.version}); run 'npm install' in ${root} or install Node.js 24 LTS\n`);
    process.exit(2);
  }
  const r = spawnSync(pinned, [process.argv[1] ?? here, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
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
