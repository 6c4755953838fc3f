// The `scan` command end to end through the CLI: exit codes, stdout purity, one-line input errors.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, openSync, closeSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';
import { exitCodeFor } from '../../src/cli/commands/scan.ts';
import type { CliIO } from '../../src/cli/io.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLES = join(ROOT, 'examples');

function fakeIO(stdinText = '', env: NodeJS.ProcessEnv = {}): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(stdinText);
  let o = '';
  let e = '';
  stdout.on('data', (c) => (o += c));
  stderr.on('data', (c) => (e += c));
  return { io: { stdin, stdout, stderr, env, cwd: ROOT, invokedAs: 'kube-sa-audit' }, out: () => o, err: () => e };
}

async function scan(args: string[], stdinText = ''): Promise<{ code: number; out: string; err: string }> {
  const f = fakeIO(stdinText);
  const code = await main(['scan', ...args], { io: f.io });
  await new Promise((r) => setImmediate(r));
  return { code, out: f.out(), err: f.err() };
}

function tmp(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const CLEAN = `apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: web
      containers: [{name: web, image: nginx}]
`;

const DEFAULT_SA = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: web, image: nginx}]
`;

describe('exit codes', () => {
  test('0: nothing at or above --fail-on', async () => {
    const dir = tmp({ 'a.yaml': CLEAN });
    const r = await scan(['-f', dir]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /NAMESPACE shop/);
    assert.match(r.out, /Deployment\/web\s+0\s+web\s+no/);
  });
  test('1: a finding at or above --fail-on; 0 with a higher threshold or none', async () => {
    const dir = tmp({ 'a.yaml': DEFAULT_SA });
    assert.equal((await scan(['-f', dir, '--fail-on', 'medium'])).code, 1, 'token-default-service-account is medium');
    assert.equal((await scan(['-f', dir, '--fail-on', 'critical'])).code, 0);
    assert.equal((await scan(['-f', dir, '--fail-on', 'none'])).code, 0);
  });
  test('2: usage errors, one line, no stack', async () => {
    for (const args of [['--bogus'], ['-o', 'xml'], ['--fail-on', 'severe'], ['-f', '-', '-f', '-'], ['--min-window', 'soon']]) {
      const r = await scan(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.doesNotMatch(r.err, /\n\s+at /);
    }
  });
  test('3: unreadable input, while the other files are still scanned', async () => {
    const dir = tmp({
      'good.yaml': DEFAULT_SA,
      'broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n  bad: [\n',
      'types.json': JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'typed', namespace: 'shop' }, spec: { automountServiceAccountToken: 'yes', containers: [{ name: 'c' }] } }, null, 2),
      'binary.yaml': Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x00, 0x9c, 0x00, 0x00]),
      'bomb.yaml': 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n',
    });
    const r = await scan(['-f', dir, '-o', 'json']);
    assert.equal(r.code, 3, r.err);
    const result = JSON.parse(r.out);
    assert.ok(result.workloads.some((w: { name: string }) => w.name === 'web'), 'the good file was scanned');
    const errLines = r.err.trim().split('\n').filter((l) => !l.startsWith('scanned '));
    for (const f of ['broken.yaml', 'types.json', 'binary.yaml', 'bomb.yaml']) {
      const line = errLines.find((l) => l.includes(f));
      assert.ok(line, `an error line for ${f} in:\n${r.err}`);
      assert.match(line!, new RegExp(`${f.replace('.', '\\.')}:\\d+: `), `file:line for ${f}: ${line}`);
    }
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    const typed = result.workloads.find((w: { name: string }) => w.name === 'typed');
    assert.equal(typed?.token.mounted, 'unknown');
  });
});

test('--pod-templates teaches a custom kind; a bad table is a usage error (exit 2)', async () => {
  const dir = tmp({
    'runner.yaml': 'apiVersion: example.com/v1\nkind: BatchRunner\nmetadata: {name: nightly, namespace: jobs}\nspec:\n  runner:\n    template:\n      spec:\n        containers: [{name: run, image: x}]\n',
  });
  const without = await scan(['-f', dir, '-o', 'json']);
  assert.equal(JSON.parse(without.out).workloads.length, 0, 'unknown kinds are skipped');
  const withTable = await scan(['-f', dir, '-o', 'json', '--pod-templates', join(EXAMPLES, 'pod-templates.yaml')]);
  const w = JSON.parse(withTable.out).workloads;
  assert.deepEqual(w.map((x: { kind: string; name: string; token: { mounted: boolean } }) => [x.kind, x.name, x.token.mounted]), [['BatchRunner', 'nightly', true]]);
  const bad = tmp({ 'pt.yaml': 'podTemplates: nope\n' });
  const r = await scan(['-f', dir, '--pod-templates', join(bad, 'pt.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /pt\.yaml: expected a list under 'podTemplates'/);
});

describe('output', () => {
  test('-o json keeps stdout pure JSON (problems and summary on stderr)', async () => {
    const r = await scan(['-f', EXAMPLES, '-o', 'json']);
    const parsed = JSON.parse(r.out);
    assert.ok(Array.isArray(parsed.workloads) && parsed.workloads.length > 10);
    assert.match(r.err, /scanned \d+ workloads/);
  });
  test('-f - reads stdin; --format is an alias of -o', async () => {
    const r = await scan(['-f', '-', '--format', 'yaml'], DEFAULT_SA);
    assert.match(r.out, /name: web/);
    assert.match(r.out, /rule: token-default-service-account/);
  });
  test('--help prints usage with every flag and exits 0', async () => {
    const r = await scan(['--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--filename', '--output', '--fail-on', '--audit-log', '--min-window', '--pod-templates', '--kubeconfig', '--context', '--namespace', '--all-namespaces', '--selector', '--quiet']) assert.ok(r.out.includes(flag), flag);
  });
  test('the table has colour only on a TTY without NO_COLOR', async () => {
    const dir = tmp({ 'a.yaml': DEFAULT_SA });
    const plain = await scan(['-f', dir]);
    assert.doesNotMatch(plain.out, /\u001b\[/);
    for (const [env, coloured] of [[{}, true], [{ NO_COLOR: '1' }, false]] as const) {
      const f = fakeIO('', { ...env });
      (f.io.stdout as { isTTY?: boolean }).isTTY = true;
      await main(['scan', '-f', dir], { io: f.io });
      await new Promise((r) => setImmediate(r));
      assert.equal(/\u001b\[/.test(f.out()), coloured, JSON.stringify(env));
    }
  });
});

test('the real binary: npm start scans the example cluster; -o json on stdout parses; no stack traces', () => {
  const node = process.execPath;
  const start = spawnSync(node, [join(ROOT, 'scripts', 'start.ts')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(start.status, 0, start.stderr);
  assert.match(start.stdout, /NAMESPACE shop/);
  const json = spawnSync(node, [join(ROOT, 'bin', 'kube-sa-audit.js'), 'scan', '-f', join(EXAMPLES, 'shop'), '-o', 'json'], { cwd: ROOT, encoding: 'utf8' });
  assert.doesNotThrow(() => JSON.parse(json.stdout));
  const missing = spawnSync(node, [join(ROOT, 'bin', 'kube-sa-audit.js'), 'scan', '-f', '/nonexistent/path.yaml'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(missing.status, 3, missing.stderr);
  assert.match(missing.stderr, /\/nonexistent\/path\.yaml/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
});

test('the launcher runs a very large input with the memory settings (smaller young generation, gc between phases, two malloc arenas), a small one without', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-launch-'));
  try {
    // A sparse 512 MiB file: the size decides, and the scan stops at once (a NUL byte is not YAML or JSON).
    const big = join(dir, 'big.json');
    closeSync(openSync(big, 'w'));
    truncateSync(big, 512 * 2 ** 20);
    const run = (file: string) => spawnSync(process.execPath, [join(ROOT, 'bin', 'kube-sa-audit.js'), 'scan', '-f', file, '-o', 'json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KSA_TIMINGS: '1', KSA_NO_RELAUNCH: '', MALLOC_ARENA_MAX: '' } });
    const large = run(big);
    assert.equal(large.status, 3, large.stderr);
    assert.match(large.stderr, /not a text file/);
    assert.match(large.stderr, /ksa-timing node-flags .*--max-semi-space-size=8 --expose-gc/);
    assert.match(large.stderr, /ksa-timing env MALLOC_ARENA_MAX=2\n/);
    const small = run(join(EXAMPLES, 'shop'));
    assert.doesNotMatch(small.stderr, /--max-semi-space-size/);
    assert.doesNotMatch(small.stderr, /MALLOC_ARENA_MAX/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a JSON scan does not load the YAML library (30–35 ms of start-up); -o yaml does', () => {
  // In a child process, so what this test file imported does not count.
  const dir = mkdtempSync(join(tmpdir(), 'ksa-lazy-'));
  const dump = join(dir, 'dump.json');
  writeFileSync(dump, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'a' } },
  ] }, null, 2));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = (format: string) => {
    const code = `
      import { createRequire } from 'node:module';
      import { PassThrough } from 'node:stream';
      const { main } = await import(${JSON.stringify(join(ROOT, 'src', 'cli', 'main.ts'))});
      const out = new PassThrough(); out.resume();
      await main(['scan', '-f', ${JSON.stringify(dump)}, '-o', '${format}', '--fail-on', 'none'], { io: { stdin: new PassThrough(), stdout: out, stderr: new PassThrough(), env: {}, cwd: ${JSON.stringify(ROOT)}, invokedAs: 'kube-sa-audit' } });
      const cache = createRequire(import.meta.url).cache;
      process.stdout.write(String(Object.keys(cache).some((k) => k.includes('/node_modules/yaml/'))));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  assert.equal(probe('json'), 'false');
  assert.equal(probe('yaml'), 'true', 'the probe can see the library when it is loaded');
});

test('README lists every rule id and its generated table is current', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const { RULES } = await import('../../src/rules/index.ts');
  for (const r of RULES) assert.ok(readme.includes(`\`${r.id}\``), `README lists ${r.id}`);
  const { withRulesTable } = await import('../../scripts/readme-rules.ts');
  assert.equal(withRulesTable(readme), readme, 'run `node scripts/readme-rules.ts`');
  for (const h of ['### scan', '## Exit codes', '## What each finding means', 'npm install && npm start', 'npm test']) assert.ok(readme.includes(h), h);
});

test('a scan of 20,000 workloads or more writes its JSON report while analysing, with the same bytes, exit code and summary line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-streamed-cli-'));
  try {
    // 20,000 bare Pods in one kubectl List; every fifth runs as `default`, with a binding that makes it dangerous.
    const pod = (i: number) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: `ns-${i % 50}` }, spec: { ...(i % 5 ? { serviceAccountName: 'app' } : {}), containers: [{ name: 'c', image: 'x' }] } });
    const binding = JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb', namespace: 'ns-0' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'ns-0' }] });
    const file = join(dir, 'pods.json');
    writeFileSync(file, `{"apiVersion": "v1", "kind": "List", "items": [\n${Array.from({ length: 20_000 }, (_, i) => pod(i)).join(',\n')},\n${binding}\n]}\n`);
    // Into a file, as `> report.json` does: the writer then fills its own buffer and writes the descriptor.
    const reportFile = join(dir, 'report.json');
    const fd = openSync(reportFile, 'w');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'kube-sa-audit.js'), 'scan', file, '-o', 'json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', fd, 'pipe'], env: { ...process.env, KSA_TIMINGS: '1' } });
    closeSync(fd);
    const stdout = readFileSync(reportFile, 'utf8');
    // The streamed path names its own phases.
    assert.match(r.stderr, /ksa-timing workloads /, r.stderr.slice(0, 2000));
    const f = fakeIO();
    const { readInventory, analyzeInventory } = await import('../../src/analysis/scan.ts');
    const { writeJson } = await import('../../src/report/json.ts');
    const { inventory } = await readInventory({ paths: [file], keepPodRecords: false }, f.io);
    const result = await analyzeInventory(inventory);
    let want = '';
    const sink = new PassThrough();
    sink.on('data', (c) => (want += c));
    await writeJson(result, sink);
    assert.ok(stdout === want, 'the report equals the classic one');
    assert.equal(r.status, exitCodeFor(result, 'high'));
    assert.equal(r.status, 1, 'the admin binding to a default ServiceAccount is a finding at or above high');
    assert.match(r.stderr, new RegExp(`scanned 20000 workloads: ${result.summary.withApiToken} mount an API token; ${result.findings.length} findings`));

    // No usable temp directory (a file where the directory should be): the usual analysis writes the same report.
    const fallback = spawnSync(process.execPath, [join(ROOT, 'bin', 'kube-sa-audit.js'), 'scan', file, '-o', 'json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, KSA_TIMINGS: '1', TMPDIR: file } });
    assert.doesNotMatch(fallback.stderr, /ksa-timing workloads /);
    assert.ok(fallback.stdout === want, 'the fallback report equals the classic one');
    assert.equal(fallback.status, r.status);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
