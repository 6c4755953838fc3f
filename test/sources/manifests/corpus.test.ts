// Every real-world bundle, peer fixture and cluster dump of the shared corpus reads without a throw and
// without a problem (SOURCES.md lists no file that is unreadable as YAML/JSON: its "intentionally odd"
// files are odd in content, which is the inventory builder's business), and known objects arrive with
// the right location.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPaths } from './helpers.ts';

const CORPUS = process.env.KSA_CORPUS ?? join(import.meta.dirname, '../../../../shared/corpus');

test('shared corpus: all files read, no problems, non-Kubernetes documents only skipped', { skip: !existsSync(CORPUS) && 'corpus not present' }, async () => {
  const s = await readPaths([join(CORPUS, 'real-world'), join(CORPUS, 'peer-fixtures'), join(CORPUS, 'cluster-dumps')]);
  assert.deepEqual(s.problemLines(), []);
  assert.ok(s.objects.length > 1000, `objects: ${s.objects.length}`);
  const reasons = new Set(s.skips);
  for (const r of reasons) {
    assert.ok(
      ['document is not a mapping', 'not a Kubernetes object (no apiVersion/kind)', 'empty document', 'file extension not .yaml/.yml/.json'].includes(r),
      `unexpected skip reason ${r}`,
    );
  }
  // The kubectl List dumps of KubeHound's collector test cluster expand into their items.
  const pods = s.objects.filter((o) => o.location.file.includes('kubehound-test-cluster') && o.object.kind === 'Pod');
  assert.equal(pods.length, 2);
  for (const p of pods) {
    assert.equal(p.object.metadata?.name, 'app-monitors-client-78cb6d7899-j2rjp');
    assert.equal(p.location.itemPath, 'items/0');
    assert.ok(p.location.line > 1);
  }
  // checkov's intentionally odd Pod (spec is a list) is read as written; judging it is the builder's job.
  const odd = s.objects.find((o) => o.location.file.endsWith('ServiceAccountTokensUNKNOWN.yaml'));
  if (odd) assert.ok(Array.isArray(odd.object.spec) || typeof odd.object.spec === 'object');
  // Every YAML object can point at its own fields.
  const yamlObjects = s.objects.filter((o) => /\.ya?ml$/.test(o.location.file));
  assert.ok(yamlObjects.every((o) => typeof o.lineOf === 'function'));
  const sample = yamlObjects.find((o) => o.object.kind === 'ServiceAccount' && o.location.file.includes('kube-prometheus'));
  assert.ok(sample);
  assert.equal(sample.lineOf?.(['metadata', 'name']) !== undefined, true);
});
