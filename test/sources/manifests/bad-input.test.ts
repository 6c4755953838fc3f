// Bad input: one clear `file:line: message` problem at level error, never a throw, and the other
// inputs (and the other documents of the same file, where they can be found) are still read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readPaths, readText, tempTree } from './helpers.ts';

const SA = (name: string) => `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n`;

function aliasBomb(): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: bomb}', 'data:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`  ${name}: &${name} [${Array(9).fill('*' + prev).join(',')}]`);
    prev = name;
  }
  return lines.join('\n') + '\n';
}

test('YAML alias bomb (a billion laughs): refused like go-yaml ("excessive aliasing"), other files read', async () => {
  const dir = tempTree({ 'a-bomb.yaml': SA('before') + '---\n' + aliasBomb() + '---\n' + SA('after'), 'b.yaml': SA('other') });
  const t0 = Date.now();
  const s = await readPaths([dir]);
  assert.ok(Date.now() - t0 < 20000, 'expansion is bounded');
  assert.deepEqual(s.names(), ['ServiceAccount/before', 'ServiceAccount/after', 'ServiceAccount/other']);
  assert.equal(s.problems.length, 1, s.problemLines().join('\n'));
  const p = s.problems[0]!;
  assert.equal(p.level, 'error');
  assert.equal(p.file, join(dir, 'a-bomb.yaml'));
  assert.ok(p.line >= 10 && p.line <= 19, `line inside the bomb document: ${p.line}`);
  assert.match(p.message, /excessive aliasing/);
});

test('moderate alias use below the go-yaml ratio is expanded', async () => {
  const s = await readText(
    ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: ok}', 'x: &x {a: 1, b: [1, 2, 3]}', 'y: *x', 'z: [*x, *x]'].join('\n'),
  );
  assert.deepEqual(s.problems, []);
  assert.deepEqual(s.objects[0]!.object.z, [
    { a: 1, b: [1, 2, 3] },
    { a: 1, b: [1, 2, 3] },
  ]);
});

test('an alias inside its own anchor and an unknown anchor are errors with lines', async () => {
  const s = await readText(['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: a}', 'x: &x', '  y: *x', '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: b}', 'v: *nope', '---', SA('fine')].join('\n'));
  assert.deepEqual(s.names(), ['ServiceAccount/fine']);
  assert.deepEqual(
    s.problems.map((p) => [p.line, p.level]),
    [
      [5, 'error'],
      [10, 'error'],
    ],
  );
  assert.match(s.problems[0]!.message, /contains itself/);
  assert.match(s.problems[1]!.message, /unknown anchor 'nope'/);
});

test('duplicate keys: the last value wins as in kubectl, with a warning naming both lines', async () => {
  const s = await readText(['apiVersion: v1', 'kind: Pod', 'metadata: {name: p}', 'spec:', '  automountServiceAccountToken: false', '  containers: []', '  automountServiceAccountToken: true'].join('\n'));
  assert.equal((s.objects[0]!.object.spec as Record<string, unknown>).automountServiceAccountToken, true);
  assert.deepEqual(s.problemLines(), ['-:7: warning: duplicate key "automountServiceAccountToken" (also at line 5); the last value is used, as kubectl does']);
});

test('binary files (NUL bytes, invalid UTF-8) and UTF-16: one error each, other files read', async () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  const latin1 = Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n', 'latin1');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SA('wide'), 'utf16le')]);
  const dir = tempTree({ 'a.yaml': png, 'b.yaml': latin1, 'c.json': Buffer.from('{"apiVersion":"v1",\n"kind":"Pod"\0}'), 'd.yaml': utf16, 'e.yaml': SA('ok') });
  const s = await readPaths([dir]);
  assert.deepEqual(s.names(), ['ServiceAccount/ok']);
  assert.deepEqual(
    s.problems.map((p) => [p.file.slice(dir.length + 1), p.line, p.level]),
    [
      ['a.yaml', 3, 'error'],
      ['b.yaml', 3, 'error'],
      ['c.json', 2, 'error'],
      ['d.yaml', 1, 'error'],
    ],
  );
  assert.match(s.problems[0]!.message, /not a text file \(contains a NUL byte\)/);
  assert.match(s.problems[1]!.message, /not a text file \(invalid UTF-8\)/);
  assert.match(s.problems[3]!.message, /UTF-16/);
});

test('a YAML document above the size cap is refused naming the cap and suggesting JSON; the documents after it are read with correct lines', async () => {
  const big = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: big}', 'data:', ...Array.from({ length: 300 }, (_, i) => `  k${i}: ${'x'.repeat(40)}`)].join('\n');
  const text = SA('first') + '---\n' + big + '\n---\n' + SA('last');
  const s = await readText(text, { maxYamlDocumentBytes: 4096, chunkBytes: 1000 });
  assert.deepEqual(s.names(), ['ServiceAccount/first', 'ServiceAccount/last']);
  assert.equal(s.problems.length, 1);
  assert.equal(s.problems[0]!.line, 6);
  assert.match(s.problems[0]!.message, /larger than the 0 MiB limit|larger than the .* limit/);
  assert.match(s.problems[0]!.message, /JSON/);
  // first: lines 1-4, `---` 5, big: 6-309, `---` 310, last from 311.
  assert.equal(s.objects[1]!.location.line, 311);
});

test('JSON: an item above the object cap is refused; the other items of the List are read', async () => {
  const items = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { x: 'y'.repeat(5000) } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'b' } },
  ];
  for (const indent of [0, 4]) {
    const s = await readText(JSON.stringify({ apiVersion: 'v1', items, kind: 'List' }, null, indent), { maxJsonObjectBytes: 2048, chunkBytes: 512 });
    assert.deepEqual(s.names(), ['ServiceAccount/a', 'ServiceAccount/b'], `indent ${indent}`);
    assert.equal(s.problems.length, 1);
    assert.match(s.problems[0]!.message, /item 1 of the List is larger than/);
  }
});

test('broken JSON: one error with the line; a broken item of a List does not hide the others', async () => {
  const text = ['{', '    "apiVersion": "v1",', '    "items": [', '        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}},', '        {"apiVersion": "v1", "kind": "Pod" "metadata": {}},', '        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "c"}}', '    ],', '    "kind": "List"', '}'].join('\n');
  const s = await readText(text);
  assert.deepEqual(s.names(), ['ServiceAccount/a', 'ServiceAccount/c']);
  assert.equal(s.problems.length, 1);
  assert.equal(s.problems[0]!.line, 5);
  assert.match(s.problems[0]!.message, /^invalid JSON in item 1 of the List/);
  // Truncated stream.
  const t = await readText('{"apiVersion": "v1", "items": [\n{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}},\n{"apiVersion": "v1", "ki');
  assert.deepEqual(t.names(), ['ServiceAccount/a']);
  assert.equal(t.problems.length, 1);
  assert.match(t.problems[0]!.message, /unexpected end of input/);
  // Garbage after a document.
  const u = await readText('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}\nnot json\n');
  assert.deepEqual(u.names(), ['Namespace/n']);
  assert.deepEqual(u.problemLines(), ["-:2: error: unexpected 'n' at top level: expected a JSON object"]);
});

test('YAML syntax errors: one line each, with the line of the error; later documents still read', async () => {
  const s = await readText(['apiVersion: v1', 'kind: Pod', 'metadata:', '  name: [a', '---', 'a: b: c', '---', SA('z')].join('\n'));
  assert.deepEqual(s.names(), ['ServiceAccount/z']);
  assert.equal(s.problems.length, 2, s.problemLines().join('\n'));
  for (const p of s.problems) {
    assert.equal(p.level, 'error');
    assert.match(p.message, /^YAML syntax error: /);
    assert.ok(!p.message.includes('\n'));
  }
  assert.ok(s.problems[0]!.line >= 4 && s.problems[0]!.line <= 5);
  assert.equal(s.problems[1]!.line, 6);
});

test('values Kubernetes cannot represent are errors, not silent changes', async () => {
  const s = await readText(['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: a}', 'data:', '  x: .inf', '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: b}', '~: null-key'].join('\n'));
  assert.deepEqual(s.names(), []);
  assert.deepEqual(
    s.problems.map((p) => p.line),
    [5, 10],
  );
});

test('unreadable paths: missing files and directories are problems, never throws', async () => {
  const dir = tempTree({ 'ok.yaml': SA('ok') });
  const s = await readPaths([join(dir, 'nope'), dir, join(dir, 'nope.json')]);
  assert.deepEqual(s.names(), ['ServiceAccount/ok']);
  assert.equal(s.problems.length, 2);
  for (const p of s.problems) assert.match(p.message, /no such file or directory/);
});
