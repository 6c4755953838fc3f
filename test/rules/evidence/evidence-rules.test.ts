import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyAuditEvidence } from '../../../src/evidence/index.ts';
import { EVIDENCE_RULES } from '../../../src/rules/evidence/index.ts';
import { RULES } from '../../../src/rules/index.ts';
import type { RuleContext, Finding } from '../../../src/analysis/types.ts';
import { eventLine, requestLines, sa, podExtra, at } from '../../sources/audit-log/events.ts';
import { workload, report, inventory, role, binding } from '../../evidence/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'ksa-evidence-rules-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const DAY = 1440;
const now = new Date(Date.parse(at(8 * DAY)));

function background(minutes: number, step = 30): string[] {
  const out: string[] = [];
  for (let m = 0; m <= minutes; m += step) out.push(eventLine({ username: 'system:node:n1', verb: 'update', objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: 'n1', apiGroup: 'coordination.k8s.io' }, ts: at(m) }));
  return out;
}

async function findings(extraLines: string[], minutes = 8 * DAY): Promise<{ byRule: Map<string, Finding[]> }> {
  const reader = workload('Deployment', 'team', 'reader', 'default');
  const writer = workload('Deployment', 'team', 'writer', 'default');
  const idle = workload('Deployment', 'team', 'idle', 'default');
  const lonely = workload('Deployment', 'team', 'lonely', 'lonely');
  const reports = [report(reader), report(writer), report(idle), report(lonely)];
  const inv = inventory([reader, writer, idle, lonely], {
    roles: [role('Role', 'team', 'cm', [{ verbs: ['get', 'list', 'patch', 'delete'], apiGroups: [''], resources: ['configmaps'] }, { verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])],
    roleBindings: [binding('RoleBinding', 'team', 'cm', 'Role', 'cm', { namespace: 'team', name: 'default' })],
  });
  const f = join(dir, `a-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(f, [...background(minutes), ...extraLines].join('\n'));
  const evidence = await applyAuditEvidence(inv, reports, { paths: [f], now });
  const ctx: RuleContext = { inventory: inv, workloads: reports, workloadObjects: inv.workloads, evidence };
  const byRule = new Map<string, Finding[]>();
  for (const rule of EVIDENCE_RULES) byRule.set(rule.id, rule.check(ctx));
  return { byRule };
}

const calls = [
  ...requestLines({ username: sa('team', 'default'), extra: podExtra('reader-7d9f8b6c4d-x2b4z', 'ua'), verb: 'list', objectRef: { resource: 'configmaps', namespace: 'team' }, ts: at(10) }),
  ...requestLines({ username: sa('team', 'default'), extra: podExtra('writer-7d9f8b6c4d-x2b4z', 'ub'), verb: 'patch', objectRef: { resource: 'configmaps', namespace: 'team', name: 'state' }, ts: at(11) }),
];

test('rules are registered with metadata', () => {
  for (const r of EVIDENCE_RULES) {
    assert.ok(RULES.includes(r), r.id);
    assert.ok(r.id.startsWith('evidence-') && r.title && r.explanation && r.remediation, r.id);
  }
});

test('token never used over the window: one medium finding per unused workload', async () => {
  const { byRule } = await findings(calls);
  const f = byRule.get('evidence-token-never-used')!;
  assert.deepEqual(f.map((x) => x.resource.name).sort(), ['idle', 'lonely']);
  assert.ok(f.every((x) => x.severity === 'medium'));
  assert.match(f[0]!.message, /no allowed API request by its pods in 8 days/);
});

test('no finding when the window is too short to conclude', async () => {
  const { byRule } = await findings(calls, 60);
  assert.equal(byRule.get('evidence-token-never-used')!.length, 0);
  assert.equal(byRule.get('evidence-permissions-granted-never-used')!.length, 0);
});

test('shared service account with different needs: the split in the finding', async () => {
  const { byRule } = await findings(calls);
  const f = byRule.get('evidence-shared-service-account-divergent-needs')!;
  assert.equal(f.length, 1);
  assert.deepEqual(f[0]!.resource, { kind: 'ServiceAccount', namespace: 'team', name: 'default' });
  assert.match(f[0]!.message, /Deployment\/reader → new service account reader \(list configmaps in team\)/);
  assert.match(f[0]!.message, /Deployment\/writer → new service account writer \(patch configmaps in team\)/);
  assert.match(f[0]!.message, /Deployment\/idle → no token/);
});

test('granted but never used: the unused rules and parts', async () => {
  const { byRule } = await findings(calls);
  const f = byRule.get('evidence-permissions-granted-never-used')!;
  assert.equal(f.length, 1);
  assert.match(f[0]!.message, /get secrets in team \(RoleBinding team\/cm → Role cm\)/);
  assert.match(f[0]!.message, /get configmaps, delete configmaps in team/);
});
