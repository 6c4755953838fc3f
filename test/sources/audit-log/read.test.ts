import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readAuditLogs, canonicalMicroTime, parseServiceAccountUsername } from '../../../src/sources/audit-log/index.ts';
import type { ServiceAccountCall } from '../../../src/sources/audit-log/index.ts';
import { eventLine, requestLines, sa, podExtra, at } from './events.ts';

const dir = mkdtempSync(join(tmpdir(), 'ksa-audit-read-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A small log: 2 non-SA requests framing the window, 3 SA requests (one pod-bound), one denied. */
function sampleLines(): string[] {
  return [
    ...requestLines({ username: 'system:node:n1', verb: 'update', objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: 'n1', apiGroup: 'coordination.k8s.io' }, ts: at(0) }),
    ...requestLines({ username: sa('team', 'app'), extra: podExtra('web-7d9f8b6c4d-x2b4z', 'uid-1'), verb: 'get', objectRef: { resource: 'configmaps', namespace: 'team', name: 'cfg' }, ts: at(5) }),
    ...requestLines({ username: sa('team', 'app'), extra: podExtra('web-7d9f8b6c4d-x2b4z', 'uid-1'), verb: 'list', objectRef: { resource: 'secrets', namespace: 'team' }, decision: 'forbid', ts: at(6) }),
    ...requestLines({ username: sa('team', 'legacy'), verb: 'list', objectRef: { resource: 'pods', namespace: 'team' }, annotations: { 'authentication.k8s.io/legacy-token': sa('team', 'legacy') }, ts: at(7) }),
    ...requestLines({ username: 'alice', verb: 'get', requestURI: '/version', ts: at(60) }),
  ];
}

async function read(paths: string[], extra: Partial<Parameters<typeof readAuditLogs>[0]> = {}) {
  const calls: ServiceAccountCall[] = [];
  const stats = await readAuditLogs({ paths, onCall: (c) => calls.push(c), ...extra });
  return { stats, calls };
}

test('reads service-account requests once per auditID, window over every event', async () => {
  const f = join(dir, 'plain.log');
  writeFileSync(f, sampleLines().join('\n') + '\n');
  const { stats, calls } = await read([f]);
  assert.equal(stats.lines, 10);
  assert.equal(stats.events, 10);
  assert.equal(stats.serviceAccountEvents, 6, 'both stages of 3 SA requests');
  assert.equal(stats.serviceAccountCalls, 3);
  assert.equal(calls.length, 3);
  assert.equal(stats.window.from, at(0), 'window starts at a non-SA event');
  assert.equal(stats.window.to, at(60), 'window ends at a non-SA event');
  const [get, list, legacy] = calls;
  assert.deepEqual(get!.serviceAccount, { namespace: 'team', name: 'app' });
  assert.equal(get!.podName, 'web-7d9f8b6c4d-x2b4z');
  assert.equal(get!.podUid, 'uid-1');
  assert.equal(get!.nodeName, 'node-1');
  assert.deepEqual(get!.objectRef, { apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'cfg' });
  assert.equal(get!.decision, 'allow');
  assert.equal(get!.line, 4, 'the ResponseComplete line');
  assert.equal(list!.decision, 'forbid');
  assert.equal(list!.code, 403);
  assert.equal(legacy!.legacyToken, true);
  assert.equal(legacy!.podName, undefined);
  assert.equal(stats.malformed, 0);
});

test('malformed lines are counted and reported with file:line, not fatal', async () => {
  const f = join(dir, 'bad.log');
  const lines = sampleLines();
  lines.splice(2, 0, '{"kind":"Event","auditID":"x", "user":{"username":"system:serviceaccount:team:app"'); // truncated, no timestamp
  lines.splice(5, 0, 'not json at all');
  lines.splice(7, 0, '{"hello":"world"}');
  lines.splice(8, 0, '');
  writeFileSync(f, lines.join('\n') + '\n' + lines[1]!.slice(0, 50)); // last line cut mid-way
  const { stats, calls } = await read([f]);
  assert.equal(stats.malformed, 4);
  assert.deepEqual(stats.problems.map((p) => `${p.file}:${p.line}`), [`${f}:3`, `${f}:6`, `${f}:8`, `${f}:15`]);
  assert.match(stats.problems[1]!.message, /not valid JSON/);
  assert.match(stats.problems[2]!.message, /no requestReceivedTimestamp/);
  assert.equal(calls.length, 3, 'the good requests are still read');
});

test('gzip files, directories (sorted, recursive, hidden skipped) and missing paths', async () => {
  const d = join(dir, 'logs');
  mkdirSync(join(d, 'older'), { recursive: true });
  const lines = sampleLines();
  writeFileSync(join(d, 'audit.log'), lines.slice(0, 6).join('\n') + '\n');
  writeFileSync(join(d, 'older', 'audit-2026-11-19.log.gz'), gzipSync(lines.slice(6).join('\n') + '\n'));
  writeFileSync(join(d, '.audit.log.swp'), 'garbage\n');
  const { stats, calls } = await read([d, join(dir, 'nope.log')]);
  assert.deepEqual(stats.files, [join(d, 'audit.log'), join(d, 'older', 'audit-2026-11-19.log.gz')]);
  assert.equal(calls.length, 3);
  assert.equal(stats.malformed, 0);
  assert.equal(stats.problems.length, 1);
  assert.equal(stats.problems[0]!.level, 'error');
  assert.match(stats.problems[0]!.message, /no such file/);
  assert.equal(stats.perFile.length, 2);
  assert.equal(stats.window.from, at(0));
  assert.equal(stats.window.to, at(60));
});

test('corrupt gzip: the lines before the damage are read, the file is reported', async () => {
  const gz = gzipSync(sampleLines().join('\n') + '\n');
  const f = join(dir, 'cut.log.gz');
  writeFileSync(f, gz.subarray(0, Math.floor(gz.length * 0.8)));
  const { stats } = await read([f]);
  assert.equal(stats.problems.at(-1)!.level, 'error');
  assert.match(stats.problems.at(-1)!.message, /gzip data is corrupt or truncated/);
});

test('stdin, plain and gzip, split into tiny chunks across line boundaries', async () => {
  const text = sampleLines().join('\n') + '\n';
  const f = join(dir, 'ref.log');
  writeFileSync(f, text);
  const ref = await read([f]);
  const chunked = (buf: Buffer): Readable => Readable.from((function* () { for (let i = 0; i < buf.length; i += 7) yield buf.subarray(i, i + 7); })());
  for (const input of [Buffer.from(text), gzipSync(text)]) {
    const got = await read(['-'], { stdin: chunked(input) });
    assert.equal(got.stats.lines, ref.stats.lines);
    assert.deepEqual(got.calls.map((c) => [c.auditID, c.line]), ref.calls.map((c) => [c.auditID, c.line]));
    assert.deepEqual(got.stats.window, ref.stats.window);
  }
});

test('a line longer than the limit is one malformed line; memory stays bounded and reading goes on', async () => {
  const lines = sampleLines();
  const huge = eventLine({ username: sa('team', 'app'), extra: podExtra('p', 'u'), objectRef: { resource: 'pods', namespace: 'team', name: 'x'.repeat(5000) }, ts: at(3) });
  const text = [lines[0], huge, ...lines.slice(1)].join('\n') + '\n';
  const stdin = Readable.from((function* () { const b = Buffer.from(text); for (let i = 0; i < b.length; i += 100) yield b.subarray(i, i + 100); })());
  const { stats, calls } = await read(['-'], { stdin, maxLineBytes: 1000 });
  assert.equal(stats.malformed, 1);
  assert.equal(stats.problems[0]!.line, 2);
  assert.match(stats.problems[0]!.message, /longer than 1000 bytes/);
  assert.equal(stats.lines, 11);
  assert.equal(calls.length, 3);
});

test('CRLF line ends and a final line without newline', async () => {
  const f = join(dir, 'crlf.log');
  writeFileSync(f, sampleLines().join('\r\n'));
  const { stats, calls } = await read([f]);
  assert.equal(calls.length, 3);
  assert.equal(stats.malformed, 0);
  assert.equal(stats.window.to, at(60));
});

test('watch requests: ResponseStarted counts only when the log ends before ResponseComplete', async () => {
  const f = join(dir, 'watch.log');
  const w = { username: sa('team', 'app'), extra: podExtra('p', 'u'), verb: 'watch', objectRef: { resource: 'pods', namespace: 'team' }, ts: at(1) };
  writeFileSync(f, [
    eventLine({ ...w, auditID: 'w1', stage: 'RequestReceived' }),
    eventLine({ ...w, auditID: 'w1', stage: 'ResponseStarted' }),
    eventLine({ ...w, auditID: 'w2', stage: 'ResponseStarted' }),
    eventLine({ ...w, auditID: 'w1', stage: 'ResponseComplete' }),
  ].join('\n') + '\n');
  const { calls } = await read([f]);
  assert.deepEqual(calls.map((c) => `${c.auditID}:${c.stage}`), ['w1:ResponseComplete', 'w2:ResponseStarted']);
});

test('impersonation: an SA impersonated by a user, and an SA token impersonating someone', async () => {
  const f = join(dir, 'imp.log');
  writeFileSync(f, [
    eventLine({ username: 'alice', impersonatedUser: { username: sa('team', 'app'), groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] }, objectRef: { resource: 'pods', namespace: 'team' }, verb: 'list', ts: at(1) }),
    eventLine({ username: sa('ops', 'robot'), extra: podExtra('robot-0', 'r0'), impersonatedUser: { username: 'bob', groups: ['devs', 'system:authenticated'] }, objectRef: { resource: 'pods', namespace: 'team' }, verb: 'list', ts: at(2) }),
    eventLine({ username: 'system:serviceaccount:bad', objectRef: { resource: 'pods', namespace: 'team' }, ts: at(3) }),
  ].join('\n'));
  const { calls, stats } = await read([f]);
  assert.equal(calls.length, 2, 'a username that is not <ns>:<name> is no service account');
  assert.equal(calls[0]!.identity, 'impersonated');
  assert.equal(calls[0]!.impersonatedBy, 'alice');
  assert.deepEqual(calls[0]!.serviceAccount, { namespace: 'team', name: 'app' });
  assert.equal(calls[0]!.podName, undefined);
  assert.equal(calls[1]!.identity, 'token');
  assert.equal(calls[1]!.impersonating!.username, 'bob');
  assert.deepEqual(calls[1]!.impersonating!.groups, ['devs', 'system:authenticated']);
  assert.equal(stats.serviceAccountEvents, 2);
});

test('wantServiceAccount skips other service accounts before parsing', async () => {
  const f = join(dir, 'want.log');
  writeFileSync(f, sampleLines().join('\n'));
  const seen: string[] = [];
  const { calls } = await read([f], { wantServiceAccount: (s) => { seen.push(s); return s === 'team:legacy'; } });
  assert.deepEqual(calls.map((c) => c.serviceAccount.name), ['legacy']);
  assert.ok(seen.includes('team:app'));
});

test('identity leases of API servers, and re-formatted (non-compact) events', async () => {
  const f = join(dir, 'leases.log');
  const lease = (name: string, m: number) => eventLine({ username: 'system:apiserver', verb: 'update', objectRef: { resource: 'leases', namespace: 'kube-system', name, apiGroup: 'coordination.k8s.io' }, ts: at(m) });
  const pretty = JSON.stringify(JSON.parse(eventLine({ username: sa('team', 'app'), extra: podExtra('p', 'u'), objectRef: { resource: 'pods', namespace: 'team' }, verb: 'list', ts: '2026-11-20T09:00:00.5+00:00' })), null, 1).replace(/\n/g, ' ');
  writeFileSync(f, [lease('apiserver-aaa', 1), lease('apiserver-bbb', 2), lease('apiserver-aaa', 3), pretty].join('\n'));
  const { stats, calls } = await read([f]);
  assert.deepEqual([...stats.apiServerLeases].sort(), ['apiserver-aaa', 'apiserver-bbb']);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.requestReceivedTimestamp, '2026-11-20T09:00:00.500000Z');
  assert.equal(stats.window.from, '2026-11-20T09:00:00.500000Z');
});

test('TokenRequests by non-node identities are kept by the credential ID they issued', async () => {
  const f = join(dir, 'tokenrequest.log');
  const tr = (user: string, sa: string, jti: string) => eventLine({ username: user, verb: 'create', objectRef: { resource: 'serviceaccounts', subresource: 'token', namespace: 'ci', name: sa }, annotations: { 'authentication.kubernetes.io/issued-credential-id': `JTI=${jti}` }, ts: at(1) });
  writeFileSync(f, [tr('alice', 'builder', 'j1'), tr('system:node:n1', 'builder', 'j2'), tr('bob', 'other', 'j3')].join('\n'));
  const { stats } = await read([f], { wantServiceAccount: (s) => s === 'ci:builder' });
  assert.deepEqual([...stats.issuedCredentials], [['JTI=j1', { issuer: 'alice', namespace: 'ci', serviceAccount: 'builder', at: at(1) }]]);
});

test('helpers: canonical MicroTime and SA usernames', () => {
  assert.equal(canonicalMicroTime('2026-11-20T10:00:00.123456Z'), '2026-11-20T10:00:00.123456Z');
  assert.equal(canonicalMicroTime('2026-11-20T12:00:00+02:00'), '2026-11-20T10:00:00.000000Z');
  assert.equal(canonicalMicroTime('yesterday'), undefined);
  assert.deepEqual(parseServiceAccountUsername('system:serviceaccount:a:b'), { namespace: 'a', name: 'b' });
  assert.equal(parseServiceAccountUsername('system:serviceaccount:a:b:c'), undefined);
  assert.equal(parseServiceAccountUsername('system:serviceaccounts:a'), undefined);
});
