import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyAuditEvidence, writeLeastPrivilegeFiles } from '../../src/evidence/index.ts';
import { eventLine, requestLines, sa, podExtra, at } from '../sources/audit-log/events.ts';
import { workload, report, inventory } from './fixtures.ts';

test('--least-privilege-out: one applyable file per workload that needs a role, re-runs replace them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksa-lp-out-'));
  try {
    const app = workload('Deployment', 'team', 'app', 'app');
    const disc = workload('CronJob', 'team', 'disc', 'disc');
    const log = join(dir, 'audit.log');
    writeFileSync(log, [
      eventLine({ username: 'system:node:n', ts: at(0) }),
      ...requestLines({ username: sa('team', 'app'), extra: podExtra('app-7d9f8b6c4d-x2b4z', 'u'), verb: 'watch', objectRef: { resource: 'endpoints', namespace: 'team' }, ts: at(1) }),
      ...requestLines({ username: sa('team', 'disc'), extra: podExtra('disc-29412345-x2b4z', 'u2'), verb: 'get', requestURI: '/api', ts: at(2) }),
    ].join('\n'));
    const s = await applyAuditEvidence(inventory([app, disc]), [report(app), report(disc)], { paths: [log] });
    const out = join(dir, 'lp');
    const written = await writeLeastPrivilegeFiles(out, s.leastPrivilege);
    assert.deepEqual(written, [join(out, 'team_deployment_app.yaml')], 'no file for a workload that needs no role');
    const again = await writeLeastPrivilegeFiles(out, s.leastPrivilege);
    assert.deepEqual(again, written);
    assert.deepEqual(readdirSync(out), ['team_deployment_app.yaml'], 'no temp files left behind');
    const docs = parseAllDocuments(readFileSync(written[0]!, 'utf8')).map((d) => d.toJS());
    assert.deepEqual(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`), ['Role team/kube-sa-audit:deployment:app', 'RoleBinding team/kube-sa-audit:deployment:app']);
    assert.deepEqual(docs[0].rules, [{ apiGroups: [''], resources: ['endpoints'], verbs: ['watch'] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
