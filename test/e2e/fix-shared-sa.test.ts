// The kubeaudit autofix trap, end to end: a shared `default` service account, one workload that calls the
// API (audit-log evidence) and one that does not. The fix turns automount off on the SA and opts the API
// client back in; a re-scan shows the client kept its token and the other lost it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { analyzeInventory, readInventory } from '../../src/analysis/scan.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { captureCliIO } from '../helpers/cli-io.ts';

const FIXTURE = new URL('../fixtures/remedy/kubeaudit-trap/shop.yaml', import.meta.url).pathname;

/** Eight days of pod-bound watch requests by the operator's pod (the web pod never calls the API). */
function auditLog(): string {
  const start = Date.parse('2026-11-20T00:00:00Z');
  const lines: string[] = [];
  for (let i = 0; i <= 8 * 24 * 6; i++) {
    const t = new Date(start + i * 600_000).toISOString();
    lines.push(JSON.stringify({
      kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `id-${i}`, stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/shop/configmaps?watch=true', verb: 'watch',
      user: { username: 'system:serviceaccount:shop:default', uid: 'u1', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/pod-name': ['operator-5d8f7c9b4-x2k9p'], 'authentication.kubernetes.io/pod-uid': ['11111111-2222-3333-4444-555555555555'] } },
      objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1' }, responseStatus: { metadata: {}, code: 200 },
      requestReceivedTimestamp: t, stageTimestamp: t, annotations: { 'authorization.k8s.io/decision': 'allow' },
    }));
  }
  return lines.join('\n') + '\n';
}

const captureIO = (cwd: string) => captureCliIO(cwd);

test('shared default SA: the API client keeps its token, the other loses it (not kubeaudit\'s SA flip)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ksa-trap-'));
  await cp(FIXTURE, join(dir, 'shop.yaml'));
  await writeFile(join(dir, 'audit.log'), auditLog());
  const c = captureIO(dir);
  const code = await main(['fix', '-f', 'shop.yaml', '--audit-log', 'audit.log', '--write'], { io: c.io });
  await new Promise((r) => setImmediate(r));
  assert.equal(code, 0, c.err());
  const text = await readFile(join(dir, 'shop.yaml'), 'utf8');
  assert.match(text, /  namespace: shop\nautomountServiceAccountToken: false\n---/);
  assert.match(text, /        image: example\/operator   # watches ConfigMaps\n      automountServiceAccountToken: true\n/);
  const io = captureIO(dir).io as CliIO;
  const { inventory } = await readInventory({ paths: [join(dir, 'shop.yaml')] }, io);
  const result = await analyzeInventory(inventory, { auditLogs: [join(dir, 'audit.log')] });
  const by = new Map(result.workloads.map((w) => [w.name, w]));
  assert.equal(by.get('operator')!.token.needed, 'yes');
  assert.equal(by.get('operator')!.token.apiAccess, true, 'the API client kept its token');
  assert.equal(by.get('web')!.token.apiAccess, false, 'the other lost it');
  // What kubeaudit's autofix does (SA false only) would have broken the operator: check the precedence we rely on.
  assert.equal(by.get('operator')!.token.automount.decidedBy, 'pod');
});
