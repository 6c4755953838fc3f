// Synchronous, on-first-use access to the full YAML path (yaml-full.ts and the `yaml` package):
// require of an ES module works in Node >= 22.12, so callers stay synchronous.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);
// From the sources this file is .ts; compiled into dist/ it is .js, and tsc does not rewrite require paths.
const FULL = import.meta.url.endsWith('.ts') ? './yaml-full.ts' : './yaml-full.js';
let fullModule: typeof import('./yaml-full.ts') | undefined;

export function full(): typeof import('./yaml-full.ts') {
  fullModule ??= requireHere(FULL) as typeof import('./yaml-full.ts');
  return fullModule;
}
