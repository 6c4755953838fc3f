// On every real-world bundle: `fix --write` then scan. No unneeded automounted token is left, no workload
// that had an API token and may need it lost it, only automount lines changed, and a second run changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { analyzeInventory, readInventory } from '../../src/analysis/scan.ts';
import type { CliIO } from '../../src/cli/io.ts';
import type { WorkloadReport } from '../../src/analysis/types.ts';
import { REAL_WORLD } from '../helpers/corpus.ts';
import { captureCliIO } from '../helpers/cli-io.ts';

const CORPUS = REAL_WORLD;

const captureIO = (cwd: string) => captureCliIO(cwd);

async function scanDir(dir: string): Promise<WorkloadReport[]> {
  const io = captureIO(dir).io;
  const { inventory } = await readInventory({ paths: [dir] }, io);
  return (await analyzeInventory(inventory, {})).workloads;
}

async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out.set(relative(dir, p), await readFile(p, 'utf8'));
    }
  }
  return out;
}

const key = (w: WorkloadReport): string => `${w.kind}/${w.namespace}/${w.name}/${w.location.file}:${w.location.document ?? ''}:${w.location.itemPath ?? ''}`;
const automounted = (w: WorkloadReport): boolean => w.token.sources.some((s) => s.kind === 'automount');

const bundles = (await readdir(CORPUS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();

for (const level of ['sa', 'pod'] as const)
for (const bundle of bundles) {
  test(`fix --write --level ${level} on ${bundle}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), `ksa-fix-${bundle}-`));
    try {
      await cp(join(CORPUS, bundle), dir, { recursive: true });
      const before = await scanDir(dir);
      const filesBefore = await files(dir);
      const run1 = captureIO(dir);
      const code = await main(['fix', '-f', '.', '--write', '--level', level], { io: run1.io });
      assert.equal(code, 0, run1.err());
      const after = await scanDir(dir);
      const afterByKey = new Map(after.map((w) => [key(w), w]));
      assert.equal(after.length, before.length, 'same workloads');
      for (const b of before) {
        const a = afterByKey.get(key(b));
        assert.ok(a, `${key(b)} still there`);
        if (b.token.needed === 'no') {
          assert.equal(automounted(a), false, `${key(b)}: unneeded automounted token left`);
        } else if (b.token.apiAccess === true) {
          assert.equal(a.token.apiAccess, true, `${key(b)} (need ${b.token.needed}) lost its token`);
        }
        if (b.token.needed !== 'no') assert.equal(a.token.automount.effective, b.token.automount.effective, `${key(b)}: automount unchanged`);
      }
      // Only automount lines were added/changed (or whole new documents appended for a missing default SA).
      const filesAfter = await files(dir);
      for (const [f, text] of filesAfter) {
        const old = filesBefore.get(f);
        if (old === undefined) continue;
        if (old === text) continue;
        const a = old.split('\n');
        const b = text.split('\n');
        const removed = a.filter((l) => !b.includes(l));
        for (const l of removed) assert.match(l, /automountServiceAccountToken/, `${f}: only automount lines may change, but "${l}" disappeared`);
        const added = b.filter((l) => !a.includes(l));
        // Per pod: only template lines, never a new (ServiceAccount) document.
        if (level === 'pod') assert.equal(text.split('\n---').length, old.split('\n---').length, `${f}: --level pod adds no document`);
        assert.ok(added.length <= 12 * (removed.length + 1) + 12 * (text.split('\n---').length), `${f}: small change`);
      }
      // Idempotent.
      const run2 = captureIO(dir);
      assert.equal(await main(['fix', '-f', '.', '--write', '--level', level], { io: run2.io }), 0, run2.err());
      assert.deepEqual(await files(dir), filesAfter, 'a second run changes nothing');
      assert.match(run2.out(), /Nothing to change/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
