import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyAuditEvidence, parseWindowDays } from '../../src/evidence/index.ts';
import { eventLine, requestLines, sa, podExtra, at } from '../sources/audit-log/events.ts';
import { workload, report, inventory, role, binding } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'ksa-evidence-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function log(lines: string[]): string {
  const f = join(dir, `audit-${++n}.log`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}
/** Non-SA traffic every `step` minutes from 0 to `minutes`, so the window is `minutes` long and has no gaps. */
function background(minutes: number, step = 30): string[] {
  const out: string[] = [];
  for (let m = 0; m <= minutes; m += step) out.push(eventLine({ username: 'system:node:n1', verb: 'update', objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: 'n1', apiGroup: 'coordination.k8s.io' }, ts: at(m) }));
  return out;
}
const DAY = 1440;
const now = new Date(Date.parse(at(8 * DAY)));

test('bound-token pods → workloads through generated names; verdicts yes / no / unknown', async () => {
  const web = workload('Deployment', 'team', 'web', 'web');          // pods not in the input
  const idle = workload('Deployment', 'team', 'idle', 'idle');
  const db = workload('StatefulSet', 'team', 'db', 'db', { names: ['db-0'], uids: ['uid-db-0'] });
  const reports = [report(web), report(idle), report(db)];
  const inv = inventory([web, idle, db]);
  const f = log([
    ...background(8 * DAY),
    ...requestLines({ username: sa('team', 'web'), extra: podExtra('web-7d9f8b6c4d-x2b4z', 'u1'), verb: 'get', objectRef: { resource: 'configmaps', namespace: 'team', name: 'cfg' }, ts: at(100) }),
    ...requestLines({ username: sa('team', 'web'), extra: podExtra('web-5c6d7f8b9-q2w4r', 'u2'), verb: 'get', objectRef: { resource: 'configmaps', namespace: 'team', name: 'cfg' }, ts: at(5000) }),
    ...requestLines({ username: sa('team', 'web'), extra: podExtra('web-5c6d7f8b9-q2w4r', 'u2'), verb: 'list', objectRef: { resource: 'secrets', namespace: 'team' }, decision: 'forbid', ts: at(5001) }),
    ...requestLines({ username: sa('team', 'db'), extra: podExtra('db-0', 'uid-db-0'), verb: 'update', objectRef: { resource: 'leases', namespace: 'team', name: 'db-leader', apiGroup: 'coordination.k8s.io' }, ts: at(200) }),
  ]);
  const section = await applyAuditEvidence(inv, reports, { paths: [f], now });
  const [w, i, d] = reports;
  assert.equal(w!.token.needed, 'yes');
  assert.equal(w!.evidence!.attribution, 'pod');
  assert.equal(w!.evidence!.calls, 3);
  assert.equal(w!.evidence!.allowed, 2);
  assert.equal(w!.evidence!.denied, 1);
  assert.equal(w!.evidence!.firstSeen, at(100));
  assert.equal(w!.evidence!.lastSeen, at(5001));
  assert.deepEqual(w!.evidence!.used, ['get configmaps in team']);
  assert.deepEqual(w!.evidence!.deniedOps, ['list secrets in team']);
  assert.equal(section.workloads[0]!.pods.length, 2);
  assert.ok(section.workloads[0]!.pods.every((p) => p.matchedBy === 'generated-name'));

  assert.equal(i!.token.needed, 'no', i!.token.neededReason);
  assert.match(i!.token.neededReason, /no allowed API request by its pods in 8 days/);
  assert.equal(i!.evidence!.calls, 0);

  assert.equal(d!.token.needed, 'yes');
  assert.equal(section.workloads[2]!.pods[0]!.matchedBy, 'pod-uid');
  assert.deepEqual(d!.evidence!.used, ['update leases.coordination.k8s.io in team']);

  assert.equal(section.window.from, at(0));
  assert.equal(section.window.to, at(8 * DAY));
  assert.equal(section.window.sufficient, true);
});

test('a window shorter than --min-window gives unknown; a small --min-window gives no', async () => {
  const idle = workload('Deployment', 'team', 'idle', 'idle');
  const f = log(background(20, 1));
  const r1 = [report(idle)];
  const s1 = await applyAuditEvidence(inventory([idle]), r1, { paths: [f], now });
  assert.equal(r1[0]!.token.needed, 'unknown');
  assert.match(r1[0]!.token.neededReason, /cover 20 minutes .* less than the minimum window of 7 days/);
  assert.equal(s1.window.sufficient, false);
  const r2 = [report(idle)];
  await applyAuditEvidence(inventory([idle]), r2, { paths: [f], now, minWindowDays: parseWindowDays('10m')! });
  assert.equal(r2[0]!.token.needed, 'no');
});

test('hours without any event are gaps: they shrink the covered window', async () => {
  const idle = workload('Deployment', 'team', 'idle', 'idle');
  // Events for the first and last 12 hours of 8 days only.
  const lines = [...background(12 * 60), ...background(8 * DAY).filter((_, k, a) => k >= a.length - 25)];
  const r = [report(idle)];
  const s = await applyAuditEvidence(inventory([idle]), r, { paths: [log(lines)], now });
  assert.ok(s.window.gaps.length === 1, JSON.stringify(s.window.gaps));
  assert.ok(s.window.coveredDays < 1.1 && s.window.coveredDays > 0.9, String(s.window.coveredDays));
  assert.equal(r[0]!.token.needed, 'unknown');
  assert.match(r[0]!.token.neededReason, /after removing \d+ hour\(s\) without any event/);
});

test('legacy token requests are attributed to the service account only, and only where such a token is held', async () => {
  const legacyUser = workload('Deployment', 'ci', 'runner', 'builder');
  const boundOnly = workload('Deployment', 'ci', 'web', 'builder');
  const reports = [
    report(legacyUser, { sources: [{ kind: 'legacy-secret', secret: 'builder-token', apiAudience: true, containers: ['c'], detail: 'secret volume' }] }),
    report(boundOnly),
  ];
  const f = log([
    ...background(8 * DAY),
    ...requestLines({ username: sa('ci', 'builder'), verb: 'create', objectRef: { resource: 'deployments', namespace: 'ci', apiGroup: 'apps' }, annotations: { 'authentication.k8s.io/legacy-token': sa('ci', 'builder') }, ts: at(300) }),
  ]);
  const section = await applyAuditEvidence(inventory([legacyUser, boundOnly]), reports, { paths: [f], now });
  assert.equal(reports[0]!.token.needed, 'yes');
  assert.equal(reports[0]!.evidence!.attribution, 'service-account');
  assert.match(reports[0]!.token.neededReason, /without pod identity/);
  assert.equal(reports[1]!.token.needed, 'no', 'a workload with only Pod-bound tokens did not make un-bound requests');
  const sa1 = section.serviceAccounts.find((s) => s.name === 'builder')!;
  assert.equal(sa1.withoutPod.calls, 1);
  assert.equal(sa1.withoutPod.legacyTokenCalls, 1);
});

test('requests with TokenRequest tokens are joined to who requested the token', async () => {
  const w = workload('Deployment', 'ci', 'runner', 'builder');
  const r = [report(w, { sources: [{ kind: 'env', secret: 'builder-token', apiAudience: true, containers: ['c'], detail: 'env' }] })];
  const cred = { 'authentication.kubernetes.io/credential-id': ['JTI=abc'] };
  const f = log([
    ...background(8 * DAY),
    eventLine({ username: 'alice', verb: 'create', objectRef: { resource: 'serviceaccounts', subresource: 'token', namespace: 'ci', name: 'builder' }, annotations: { 'authentication.kubernetes.io/issued-credential-id': 'JTI=abc' }, ts: at(100) }),
    ...requestLines({ username: sa('ci', 'builder'), extra: cred, verb: 'list', objectRef: { resource: 'pods', namespace: 'ci' }, ts: at(101) }),
    ...requestLines({ username: sa('ci', 'builder'), extra: { 'authentication.kubernetes.io/credential-id': ['JTI=old'] }, verb: 'list', objectRef: { resource: 'pods', namespace: 'ci' }, ts: at(102) }),
  ]);
  const s = await applyAuditEvidence(inventory([w]), r, { paths: [f], now });
  const e = s.serviceAccounts.find((x) => x.name === 'builder')!;
  assert.deepEqual(e.withoutPod.issuedBy, [{ issuer: 'alice', credentials: 1 }]);
  assert.equal(e.withoutPod.credentialsWithoutIssuer, 1);
  assert.equal(r[0]!.token.needed, 'yes');
  assert.match(r[0]!.token.neededReason, /the tokens were requested by alice \(TokenRequest\)/);
});

test('malformed audit-log lines become input warnings with file:line, and a total past the cap', async () => {
  const w = workload('Deployment', 'team', 'app', 'app');
  const inv = inventory([w]);
  const f = log([...background(60), ...Array.from({ length: 25 }, () => 'garbage')]);
  const s = await applyAuditEvidence(inv, [report(w)], { paths: [f], now });
  assert.equal(s.inputs.malformed, 25);
  assert.equal(inv.problems.length, 21);
  assert.deepEqual(inv.problems[0], { file: f, line: 4, message: 'not valid JSON (Unexpected token \'g\', "garbage" is not valid JSON)', level: 'warning' });
  assert.match(inv.problems[20]!.message, /25 malformed audit-log lines in total \(the first 20 are listed\)/);
});

test('legacy-token-last-used label counts as evidence of use', async () => {
  const w = workload('Deployment', 'ci', 'runner', 'builder');
  const r = [report(w, { sources: [{ kind: 'legacy-secret', secret: 'builder-token', apiAudience: true, containers: ['c'], detail: 'secret volume' }] })];
  const inv = inventory([w]);
  inv.tokenSecrets.set('ci/builder-token', { namespace: 'ci', name: 'builder-token', serviceAccountName: 'builder', labels: { 'kubernetes.io/legacy-token-last-used': at(4 * DAY).slice(0, 10) }, location: { file: 'x', line: 1 } });
  const s = await applyAuditEvidence(inv, r, { paths: [log(background(8 * DAY))], now });
  assert.equal(r[0]!.token.needed, 'yes');
  assert.match(r[0]!.token.neededReason, /last used on 2026-11-24/);
  assert.deepEqual(s.legacyTokenSecrets, [{ namespace: 'ci', name: 'builder-token', serviceAccount: 'builder', lastUsed: '2026-11-24' }]);
});

test('impersonating a service account is not the pod using its token', async () => {
  const w = workload('Deployment', 'team', 'app', 'app');
  const r = [report(w)];
  const f = log([...background(8 * DAY), eventLine({ username: 'alice', impersonatedUser: { username: sa('team', 'app') }, verb: 'list', objectRef: { resource: 'pods', namespace: 'team' }, ts: at(10) })]);
  const s = await applyAuditEvidence(inventory([w]), r, { paths: [f], now });
  assert.equal(r[0]!.token.needed, 'no');
  assert.deepEqual(s.serviceAccounts[0]!.impersonated.by, ['alice']);
});

test('RBAC "no permissions" stays no; only-default requests still mean the token is used', async () => {
  const quiet = workload('Deployment', 'team', 'quiet', 'quiet');
  const discover = workload('Deployment', 'team', 'disc', 'disc');
  const reports = [report(quiet, { needed: 'no', neededReason: 'grants nothing beyond the defaults' }), report(discover, { needed: 'no', neededReason: 'grants nothing beyond the defaults' })];
  const f = log([...background(60), ...requestLines({ username: sa('team', 'disc'), extra: podExtra('disc-7d9f8b6c4d-x2b4z', 'u'), verb: 'get', requestURI: '/apis', ts: at(5) })]);
  const s = await applyAuditEvidence(inventory([quiet, discover]), reports, { paths: [f], now });
  assert.equal(reports[0]!.token.needed, 'no', 'short window, but nothing is granted');
  assert.match(reports[0]!.token.neededReason, /grants nothing beyond the defaults; the audit logs show no allowed request/);
  assert.equal(reports[1]!.token.needed, 'yes');
  assert.match(reports[1]!.token.neededReason, /needs the token but no role/);
  const lp = s.leastPrivilege.find((e) => e.workload.name === 'disc')!;
  assert.equal(lp.noRoleNeeded, true);
  assert.equal(lp.roles.length, 0);
});

test('pods of the SA that match no workload make that SA\'s custom-kind workloads unknown, not known kinds', async () => {
  const dep = workload('Deployment', 'team', 'web', 'shared');
  const custom = workload('Rollout', 'team', 'canary', 'shared');
  const reports = [report(dep), report(custom)];
  const f = log([...background(8 * DAY), ...requestLines({ username: sa('team', 'shared'), extra: podExtra('something-else-abcde', 'u9'), verb: 'get', objectRef: { resource: 'pods', namespace: 'team', name: 'x' }, ts: at(50) })]);
  const s = await applyAuditEvidence(inventory([dep, custom]), reports, { paths: [f], now });
  assert.equal(reports[0]!.token.needed, 'no');
  assert.equal(reports[1]!.token.needed, 'unknown');
  assert.equal(s.serviceAccounts[0]!.unmatchedPods[0]!.name, 'something-else-abcde');
});

test('fewer API servers\' identity leases than --api-servers: unknown; unreadable input: unknown', async () => {
  const idle = workload('Deployment', 'team', 'idle', 'idle');
  const lease = eventLine({ username: 'system:apiserver', verb: 'update', objectRef: { resource: 'leases', namespace: 'kube-system', name: 'apiserver-abc', apiGroup: 'coordination.k8s.io' }, ts: at(1) });
  const f = log([...background(8 * DAY), lease]);
  const r = [report(idle)];
  const s = await applyAuditEvidence(inventory([idle]), r, { paths: [f], now, expectedApiServers: 2 });
  assert.equal(r[0]!.token.needed, 'unknown');
  assert.match(r[0]!.token.neededReason, /identity leases of 1 API server\(s\) .* runs 2/);
  assert.deepEqual(s.apiServers.identityLeases, ['apiserver-abc']);
  const r2 = [report(idle)];
  const inv2 = inventory([idle]);
  await applyAuditEvidence(inv2, r2, { paths: [f, join(dir, 'missing.log')], now });
  assert.equal(r2[0]!.token.needed, 'unknown');
  assert.match(r2[0]!.token.neededReason, /missing\.log could not be read/);
  assert.deepEqual(inv2.problems.map((p) => [p.file, p.level]), [[join(dir, 'missing.log'), 'error']], 'reported as an input problem (exit code 3)');
});

test('shared service account with different needs: split suggested, dedicated subjects in the roles', async () => {
  const a = workload('Deployment', 'team', 'reader', 'default');
  const b = workload('Deployment', 'team', 'writer', 'default');
  const c = workload('Deployment', 'team', 'static', 'default');
  const reports = [report(a), report(b), report(c)];
  const f = log([
    ...background(8 * DAY),
    ...requestLines({ username: sa('team', 'default'), extra: podExtra('reader-7d9f8b6c4d-x2b4z', 'ua'), verb: 'list', objectRef: { resource: 'configmaps', namespace: 'team' }, ts: at(10) }),
    ...requestLines({ username: sa('team', 'default'), extra: podExtra('writer-7d9f8b6c4d-x2b4z', 'ub'), verb: 'patch', objectRef: { resource: 'configmaps', namespace: 'team', name: 'state' }, ts: at(11) }),
  ]);
  const s = await applyAuditEvidence(inventory([a, b, c]), reports, { paths: [f], now });
  const shared = s.sharedServiceAccounts.find((x) => x.name === 'default')!;
  assert.equal(shared.divergent, true);
  assert.deepEqual(shared.noTokenNeeded, ['Deployment/static']);
  assert.deepEqual(shared.split.map((x) => x.serviceAccount).sort(), ['reader', 'writer']);
  const lpWriter = s.leastPrivilege.find((e) => e.workload.name === 'writer')!;
  assert.deepEqual(lpWriter.subject, { namespace: 'team', name: 'writer', dedicated: true });
  assert.deepEqual(lpWriter.roles[0]!.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['patch'], resourceNames: ['state'] }]);
  assert.match(lpWriter.yaml, /kind: ServiceAccount\n/);
  assert.match(lpWriter.yaml, /resourceNames:\n\s+- state/);
});

test('granted but never used, from the RBAC engine', async () => {
  const w = workload('Deployment', 'team', 'app', 'app');
  const r = [report(w)];
  const inv = inventory([w], {
    roles: [role('Role', 'team', 'app', [{ verbs: ['get', 'list', 'delete'], apiGroups: [''], resources: ['configmaps'] }, { verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])],
    roleBindings: [binding('RoleBinding', 'team', 'app', 'Role', 'app', { namespace: 'team', name: 'app' })],
  });
  const f = log([...background(8 * DAY), ...requestLines({ username: sa('team', 'app'), extra: podExtra('app-7d9f8b6c4d-x2b4z', 'u'), verb: 'get', objectRef: { resource: 'configmaps', namespace: 'team', name: 'cfg' }, ts: at(10) })]);
  const s = await applyAuditEvidence(inv, r, { paths: [f], now });
  const lp = s.leastPrivilege[0]!;
  const unused = lp.unusedGrants.map((u) => `${u.text}|${u.wholeRule}|${u.unusedParts.join(',')}`).sort();
  assert.deepEqual(unused, ['get secrets|true|', 'get,list,delete configmaps|false|list configmaps,delete configmaps']);
  assert.deepEqual(lp.roles[0]!.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['cfg'] }]);
});

test('suggested service-account names never clash with existing ones or each other', async () => {
  const a = workload('Deployment', 'team', 'web', 'shared');
  const b = workload('CronJob', 'team', 'web', 'shared');
  const c = workload('Deployment', 'team', 'quiet', 'shared');
  const reports = [report(a), report(b), report(c)];
  const inv = inventory([a, b, c]);
  inv.serviceAccounts.set('team/web', { namespace: 'team', name: 'web', secrets: [], imagePullSecrets: [], labels: {}, annotations: {}, location: { file: 'x', line: 1 } });
  const f = log([
    ...background(8 * DAY),
    ...requestLines({ username: sa('team', 'shared'), extra: podExtra('web-7d9f8b6c4d-x2b4z', 'ua'), verb: 'list', objectRef: { resource: 'pods', namespace: 'team' }, ts: at(10) }),
    ...requestLines({ username: sa('team', 'shared'), extra: podExtra('web-29412345-x2b4z', 'ub'), verb: 'list', objectRef: { resource: 'secrets', namespace: 'team' }, ts: at(11) }),
  ]);
  const s = await applyAuditEvidence(inv, reports, { paths: [f], now });
  const split = s.sharedServiceAccounts[0]!.split;
  assert.deepEqual(split.map((x) => [x.workloads.join(), x.serviceAccount]), [['Deployment/web', 'web-sa'], ['CronJob/web', 'web-sa-sa']]);
});
