// `kubectl sa-audit …` is kubectl finding `kubectl-sa_audit` on PATH. The entry must work through a symlink
// (how plugins are installed) and from a shell whose `node` is older than the pinned one (these machines
// ship Node 20): the bin re-runs itself under the pinned Node 24.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinaries } from '../control-plane/harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('kubectl sa-audit runs the plugin found on PATH, with kubectl-style help', { timeout: 120_000 }, () => {
  // The kubectl of the pinned release, built beside the test control plane (no cluster is needed here).
  const kubectlBin = requireBinaries().kubectl;
  const dir = mkdtempSync(join(tmpdir(), 'ksa-plugin-'));
  try {
    symlinkSync(join(ROOT, 'bin', 'kubectl-sa_audit.js'), join(dir, 'kubectl-sa_audit'));
    // PATH as a user has it: the plugin dir plus the system's bin dirs (whose node may be 20), not node_modules/.bin.
    const env = { ...process.env, PATH: `${dir}:/usr/local/bin:/usr/bin:/bin` };
    const help = spawnSync(kubectlBin, ['sa-audit', '--help'], { encoding: 'utf8', env });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: kubectl sa-audit <command>/);
    const scan = spawnSync(kubectlBin, ['sa-audit', 'scan', '-f', join(ROOT, 'examples', 'shop'), '-q', '-o', 'json'], { encoding: 'utf8', env });
    assert.ok(scan.status === 0 || scan.status === 1, scan.stderr);
    assert.ok(JSON.parse(scan.stdout).workloads.some((w: { name: string }) => w.name === 'frontend'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
