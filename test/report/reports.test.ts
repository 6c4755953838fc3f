// Output formats: jq-audit is byte-identical to the real jq one-liner; JSON has the shape issue 2 promises;
// YAML is the same document; the table is grouped by namespace.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { InventoryBuilder } from '../../src/inventory/build.ts';
import { readManifests } from '../../src/sources/manifests/index.ts';
import { analyzeInventory } from '../../src/analysis/scan.ts';
import { renderJqAudit, renderJson, renderTable, renderYaml } from '../../src/report/index.ts';
import type { ScanResult } from '../../src/analysis/types.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const JQ_PROGRAM = '.items[] | select(.spec.automountServiceAccountToken != false) | "\\(.metadata.namespace)/\\(.metadata.name) → SA: \\(.spec.serviceAccountName // "default")"';

async function scanFiles(paths: string[]): Promise<ScanResult> {
  const b = new InventoryBuilder();
  await readManifests(paths, b);
  return analyzeInventory(b.finish());
}

const jqAvailable = spawnSync('jq', ['--version']).status === 0;

/** A pods dump with the corners of the jq program: missing namespace, empty or absent SA, string "false", unicode. */
function edgeDump(): string {
  const pod = (meta: Record<string, unknown>, spec: Record<string, unknown> | undefined) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta, ...(spec ? { spec } : {}) });
  const items = [
    pod({ name: 'a', namespace: 'ns1' }, { containers: [{ name: 'c' }] }),
    pod({ name: 'b', namespace: 'ns1' }, { serviceAccountName: 'runner', automountServiceAccountToken: false, containers: [{ name: 'c' }] }),
    pod({ name: 'c', namespace: 'ns2' }, { serviceAccountName: 'runner', automountServiceAccountToken: true, containers: [{ name: 'c' }] }),
    pod({ name: 'no-namespace' }, { containers: [{ name: 'c' }] }),
    pod({ name: 'empty-sa', namespace: 'ns2' }, { serviceAccountName: '', containers: [{ name: 'c' }] }),
    pod({ name: 'string-false', namespace: 'ns2' }, { automountServiceAccountToken: 'false', containers: [{ name: 'c' }] }),
    pod({ name: 'ünïcode-pod', namespace: 'ns3' }, { serviceAccount: 'alias-only', containers: [{ name: 'c' }] }),
    pod({ name: 'no-spec', namespace: 'ns3' }, undefined),
  ];
  for (let i = 0; i < 50; i++) items.push(pod({ name: `gen-${i}`, namespace: `ns${i % 4}` }, { ...(i % 3 === 0 ? { automountServiceAccountToken: false } : {}), ...(i % 5 === 0 ? { serviceAccountName: `sa-${i}` } : {}), containers: [{ name: 'c' }] }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 4);
}

describe('jq-audit', () => {
  test('equals the real jq output on the example dump and on an edge-case dump', { skip: jqAvailable ? false : 'jq is not installed (apt-get install jq)' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ksa-jq-'));
    const edge = join(dir, 'edge.json');
    writeFileSync(edge, edgeDump());
    for (const file of [join(ROOT, 'examples', 'cluster-dump', 'pods.json'), edge]) {
      const jq = spawnSync('jq', ['-r', JQ_PROGRAM, file], { encoding: 'utf8' });
      assert.equal(jq.status, 0, jq.stderr);
      const ours = renderJqAudit(await scanFiles([file]));
      assert.equal(ours, jq.stdout, file);
      assert.ok(ours.split('\n').length > 3);
    }
  });
  test('pinned output on the example dump (verified against jq 1.6): pods folded under owners still print, mirror pods too', async () => {
    const ours = renderJqAudit(await scanFiles([join(ROOT, 'examples', 'cluster-dump', 'pods.json')]));
    assert.equal(ours, 'web/web-5c7d9-2xq8z → SA: default\nweb/sidecar-demo → SA: default\nkube-system/kube-apiserver-node-1 → SA: default\n');
    const folded = renderJqAudit(await scanFiles([join(ROOT, 'examples', 'shop', 'frontend.yaml')]));
    assert.equal(folded, 'shop/frontend-7d9f8b-abcde → SA: default\nshop/frontend-7d9f8b-fghij → SA: default\n', 'templates print nothing; both owned pods print');
  });
});

describe('json / yaml', () => {
  test('JSON holds what issue 2 lists', async () => {
    const r = await scanFiles([join(ROOT, 'examples')]);
    const doc = JSON.parse(renderJson(r));
    const w = doc.workloads.find((x: { name: string }) => x.name === 'payments');
    for (const k of ['kind', 'namespace', 'name', 'serviceAccount']) assert.ok(k in w, k);
    for (const k of ['mounted', 'apiAccess', 'containers', 'sources', 'reason', 'needed']) assert.ok(k in w.token, k);
    assert.deepEqual(w.token.sources.map((s: { kind: string; audiences: string[] }) => [s.kind, s.audiences]), [['projected', ['vault']], ['projected', []]]);
    const f = doc.findings.find((x: { rule: string }) => x.rule === 'token-projected-long-expiry');
    for (const k of ['rule', 'severity', 'resource', 'message', 'location']) assert.ok(k in f, k);
    assert.equal(typeof f.location.file, 'string');
    assert.equal(typeof f.location.line, 'number');
    assert.ok(!('inventory' in doc), 'the inventory is not serialised');
  });
  test('YAML is the same document, without anchors', async () => {
    const r = await scanFiles([join(ROOT, 'examples', 'shop')]);
    const y = renderYaml(r);
    assert.doesNotMatch(y, /[&*]\w+\s*$/m);
    assert.deepEqual(parse(y), JSON.parse(renderJson(r)));
  });
});

describe('table', () => {
  test('grouped by namespace, namespaces sorted, findings under their namespace, summary last', async () => {
    const t = renderTable(await scanFiles([join(ROOT, 'examples')]));
    const heads = [...t.matchAll(/^NAMESPACE (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(heads, [...heads].sort());
    assert.ok(heads.includes('shop') && heads.includes('platform'));
    const shop = t.slice(t.indexOf('NAMESPACE shop'));
    assert.match(shop.slice(0, shop.indexOf('\n\n')), /token-default-service-account: Deployment shop\/frontend/);
    assert.match(t.trimEnd().split('\n').at(-1)!, /^\d+ workloads \(\d+ pods in the input\): \d+ mount a token/);
    assert.doesNotMatch(t, /\u001b\[/);
    assert.match(renderTable(await scanFiles([join(ROOT, 'examples', 'shop')]), { color: true }), /\u001b\[31m/);
  });
});
