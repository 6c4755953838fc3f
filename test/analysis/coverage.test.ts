// Coverage gaps of a live scan (403 on a list) must turn dependent verdicts to `unknown`, never into a pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeInventory } from '../../src/analysis/scan.ts';
import { buildInventory, sourced } from '../../src/inventory/build.ts';
import type { CoverageGap, KubeObject } from '../../src/inventory/types.ts';

const deployment = (ns: string, name: string, sa?: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { template: { metadata: {}, spec: { ...(sa ? { serviceAccountName: sa } : {}), containers: [{ name: 'app', image: 'x' }] } } },
});
const sa = (ns: string, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } });

async function scanWith(gaps: CoverageGap[]) {
  const inv = buildInventory([sourced(deployment('a', 'web', 'app')), sourced(sa('a', 'app')), sourced(deployment('b', 'api'))], { origin: 'cluster' });
  inv.gaps = gaps;
  return analyzeInventory(inv);
}
const gap = (resource: string, namespace?: string): CoverageGap => ({ resource, reason: 'forbidden (403)', weakens: [], ...(namespace ? { namespace } : {}) });
const byName = (r: Awaited<ReturnType<typeof scanWith>>, name: string) => r.workloads.find((w) => w.name === name)!;

test('complete read: an SA without bindings is "not needed" (the control case the gap cases must differ from)', async () => {
  const r = await scanWith([]);
  assert.equal(byName(r, 'web').token.needed, 'no');
  assert.equal(byName(r, 'web').permissions?.onlyDefaults, true);
});

test('unreadable rolebindings (kubectl-style name with group): needed and onlyDefaults are no longer concluded', async () => {
  const r = await scanWith([gap('rolebindings.rbac.authorization.k8s.io')]);
  for (const name of ['web', 'api']) {
    const w = byName(r, name);
    assert.equal(w.token.needed, 'unknown', name);
    assert.notEqual(w.permissions?.onlyDefaults, true, name);
    assert.match(w.permissions?.incomplete ?? '', /rolebindings/);
  }
  assert.ok(!r.findings.some((f) => f.rule === 'rbac-token-without-permissions'), '"safe to turn off" must not be claimed from bindings that were not read');
});

test('a rolebindings gap in one namespace weakens every account: a RoleBinding in b can grant a/app rights in b', async () => {
  const r = await scanWith([gap('rolebindings.rbac.authorization.k8s.io', 'b')]);
  assert.equal(byName(r, 'web').token.needed, 'unknown');
  assert.equal(byName(r, 'api').token.needed, 'unknown');
  const r2 = await scanWith([gap('clusterrolebindings.rbac.authorization.k8s.io')]);
  assert.equal(byName(r2, 'web').token.needed, 'unknown');
});

test('unreadable serviceaccounts: even `default` is not assumed to be the built-in one (its automount is unknown)', async () => {
  const complete = await scanWith([]);
  assert.equal(byName(complete, 'api').token.mounted, true, 'default SA not listed but readable: built-in, automount on');
  const r = await scanWith([gap('serviceaccounts', 'b')]);
  assert.equal(byName(r, 'api').token.mounted, 'unknown');
  assert.equal(byName(r, 'web').token.mounted, true, 'namespace a was readable');
});

test('the table says what could not be read and which verdicts it weakens', async () => {
  const { renderTable } = await import('../../src/report/table.ts');
  const r = await scanWith([{ resource: 'rolebindings.rbac.authorization.k8s.io', namespace: 'b', reason: 'forbidden (403): no list', weakens: ['permissions of every service account', 'token.needed'] }]);
  const text = renderTable(r, { color: false });
  assert.match(text, /incomplete: could not read rolebindings\.rbac\.authorization\.k8s\.io in b/);
  assert.match(text, /rolebindings\.rbac\.authorization\.k8s\.io in b: forbidden \(403\): no list/);
  assert.match(text, /unknown because of it: permissions of every service account; token\.needed/);
});
