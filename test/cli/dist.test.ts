// The installed package runs the compiled dist/, not the TypeScript sources: build it into a temp dir and
// check it gives byte-for-byte the report the sources give. Catches what only breaks after compilation
// (import paths tsc does not rewrite, data files found relative to the module).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('compiled dist/ scans the example cluster exactly like the sources', { timeout: 300_000 }, () => {
  const pkg = mkdtempSync(join(tmpdir(), 'ksa-dist-'));
  try {
    // The package as npm would lay it out: bin, data, package.json and the build — no src/.
    for (const f of ['bin', 'data', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
    cpSync(join(ROOT, 'src'), join(pkg, 'src'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(pkg, 'tsconfig.build.json')], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    rmSync(join(pkg, 'src'), { recursive: true });
    const args = ['scan', '-f', join(ROOT, 'examples'), '-q', '-o', 'json'];
    const fromDist = spawnSync(process.execPath, [join(pkg, 'bin', 'kube-sa-audit.js'), ...args], { encoding: 'utf8', cwd: ROOT });
    const fromSrc = spawnSync(process.execPath, [join(ROOT, 'bin', 'kube-sa-audit.js'), ...args], { encoding: 'utf8', cwd: ROOT });
    assert.equal(fromDist.stderr, '', 'no input problem or error from the compiled build');
    assert.equal(fromDist.status, fromSrc.status);
    assert.ok(JSON.parse(fromDist.stdout).workloads.length > 10);
    assert.equal(fromDist.stdout, fromSrc.stdout);
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});
