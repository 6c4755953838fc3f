// Regenerates test/fixtures/manifests/go-yaml/cases.expected.jsonl from the real Kubernetes decoder.
// Not part of `npm test` (needs Go and the k8s.io/apimachinery v0.36.3 module):
//   (cd test/sources/manifests/oracle && go build -o /tmp/ksa-yaml-oracle .) && node test/sources/manifests/oracle/regenerate.ts /tmp/ksa-yaml-oracle
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { splitCases } from '../go-yaml-cases.ts';

const oracle = process.argv[2];
if (!oracle) throw new Error('usage: regenerate.ts <oracle binary>');
const dir = fileURLToPath(new URL('../../../fixtures/manifests/go-yaml/', import.meta.url));
const cases = splitCases(readFileSync(dir + 'cases.yaml', 'utf8'));
const out: string[] = [];
for (const [i, c] of cases.entries()) {
  const r = spawnSync(oracle, { input: c, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`oracle failed on case ${i}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  out.push(JSON.stringify({ case: i, input: c, kubectl: lines }));
}
writeFileSync(dir + 'cases.expected.jsonl', out.join('\n') + '\n');
console.log(`${cases.length} cases written`);
