// The fast YAML reader must give exactly what the full `yaml` parser + go-yaml converter gives, or
// give up. Checked on tricky hand-written documents and on every YAML file of the shared corpus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readManifests } from '../../../src/sources/manifests/index.ts';
import { tryFastYaml } from '../../../src/sources/manifests/fast-yaml.ts';
import { RecordingSink } from './helpers.ts';

type Decoded = [unknown, number, [string, string][]][];

async function decodeBoth(input: string | string[]): Promise<{ fast: Decoded; full: Decoded }> {
  const run = async (noFastYaml: boolean) => {
    const out: Decoded = [];
    const paths = typeof input === 'string' ? ['-'] : input;
    const opts = {
      noFastYaml,
      onYamlDocumentValue: (v: unknown, l: number, s?: Map<string, string>) => out.push([v, l, s ? [...s] : []]),
      ...(typeof input === 'string' ? { stdin: Readable.from([Buffer.from(input)]) } : {}),
    };
    await readManifests(paths, new RecordingSink(), opts);
    return out;
  };
  return { fast: await run(false), full: await run(true) };
}

const tricky: string[] = [
  'a: 1\nb: [x, "y, z", \'q\']\nc: {k: v, "q k": 2}\nd: []\ne: {}\n',
  'list:\n- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n  deep: true\n- ""\n',
  'key:\n- same-indent\n- seq\nnext: 1\n',
  'lit: |\n  line 1\n\n  line 3\n  # not a comment\nkeep: |+\n  k\n\nstrip: |-\n  s\nfold: >\n  a\n  b\n\n  c\nnext: x\n',
  'desc: a plain scalar\n  continued here\n\n  and after a blank\nother: "dq with \\"escapes\\" \\u00e9 \\n"\n',
  'dq: "first line\n  second \\\n  joined\n\n  para"\nsq: \'it\'\'s\n  two\'\n',
  'description:\n  starts on the next line\n  and goes on\ntype: string\n',
  'bools: [yes, No, on, OFF, y, n, "true", \'no\']\nnums: [0777, 0x1F, 1_000, .5, 1e3, -1, +1, 0o17]\nnulls: [~, null, ""]\n',
  'url: http://example.com:8080/path\ntime: 12:30\nhash: a#b\ncolon: a:b\n',
  'annotations:\n  kubectl.kubernetes.io/last-applied-configuration: |\n    {"apiVersion":"v1","kind":"Pod"}\n  x/y: "1"\n',
  '# comment\n---\n# another\nkind: Pod  # trailing\napiVersion: v1\n',
  'a:\n  b:\n    c: 1\n  d: 2\ne: 3\n',
  'k: v\n  # indented comment\nl: w\n',
  'env:\n  - name: A\n    value: "1"\n  - name: B\n    valueFrom:\n      secretKeyRef: {name: s, key: k}\n',
  'spec:\n  automountServiceAccountToken: no\n  containers:\n  - name: c\n    args: ["--flag=yes", -v, "2"]\n',
  'x: - not a seq\n',
  'x: a: b\n',
  'x: [a, [b]]\n',
  'x: &anchor 1\ny: *anchor\n',
  'x: !!str 1\n',
  'a: 1\na: 2\n',
  '<<: {a: 1}\n',
  'x: "unterminated\n',
  'x: |2\n   indented\n',
  'x:\n\t- tab\n',
  'x: >\n  folded\n    more indented\n  back\n',
  'a: b\n...\n',
  'top\n',
  '- root seq\n- 2\n',
  'key with spaces: v\n"quoted key": v\n\'single\': v\n',
  'x: |\n  no final newline',
  'x: |\n  trailing spaces   \n  \ny: 1\n',
  'long: >-\n  a\n\n\n  b\nz: 1\n',
];

for (const [i, text] of tricky.entries()) {
  test(`fast reader agrees with the full parser or gives up: case ${i}`, async () => {
    const { fast, full } = await decodeBoth(text);
    assert.deepEqual(fast, full, JSON.stringify(text));
  });
}

test('the fast reader does take the common shapes (it is not giving up on everything)', () => {
  for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 29]) assert.ok(tryFastYaml(tricky[i]!), `case ${i}: ${JSON.stringify(tricky[i])}`);
  for (const i of [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26]) assert.equal(tryFastYaml(tricky[i]!), undefined, `case ${i} must give up`);
});

const CORPUS = process.env.KSA_CORPUS ?? join(import.meta.dirname, '../../../../shared/corpus');

test('shared corpus: every YAML file decodes identically with and without the fast reader', { skip: !existsSync(CORPUS) && 'corpus not present' }, async () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e)) files.push(p);
    }
  };
  walk(CORPUS);
  assert.ok(files.length > 400);
  const { fast, full } = await decodeBoth(files);
  assert.equal(fast.length, full.length);
  for (let i = 0; i < fast.length; i++) assert.deepEqual(fast[i], full[i], `document ${i}`);
});

/** Every path to a value inside `v` (bounded), for comparing lineOf. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = [], limit = 400): (string | number)[][] {
  if (out.length >= limit) return out;
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out, limit));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out, limit);
  return out;
}

test('lineOf and sourceText from the fast reader equal the full parser’s, for every field', { skip: !existsSync(CORPUS) && 'corpus not present' }, async () => {
  const files = [...tricky.map((t, i) => ({ name: `tricky-${i}`, text: t }))];
  const real = ['real-world/kube-prometheus', 'real-world/kubernetes-examples', 'real-world/argo-cd', 'peer-fixtures/polaris'].map((d) => join(CORPUS, d));
  const collect = async (noFastYaml: boolean) => {
    const sink = new RecordingSink();
    await readManifests(real, sink, { noFastYaml });
    for (const f of files) await readManifests(['-'], sink, { noFastYaml, stdin: Readable.from([Buffer.from(f.text)]) });
    return sink.objects;
  };
  const fast = await collect(false);
  const full = await collect(true);
  assert.equal(fast.length, full.length);
  assert.ok(fast.length > 200);
  let compared = 0;
  for (let i = 0; i < fast.length; i++) {
    const a = fast[i]!;
    const b = full[i]!;
    assert.deepEqual(a.location, b.location);
    for (const p of paths(a.object)) {
      assert.equal(a.lineOf?.(p), b.lineOf?.(p), `${a.location.file}:${a.location.line} ${p.join('.')}`);
      compared++;
    }
    for (const p of [['automountServiceAccountToken'], ['spec', 'template', 'spec', 'automountServiceAccountToken'], ['spec', 'automountServiceAccountToken'], ['metadata', 'name']]) {
      assert.equal(a.sourceText?.(p), b.sourceText?.(p), `${a.location.file} ${p.join('.')}`);
    }
  }
  assert.ok(compared > 10000, `compared ${compared}`);
});
