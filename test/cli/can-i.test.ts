// `kube-sa-audit can-i` offline: kubectl auth can-i's arguments, output and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli-io.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksa-cani-'));
const manifest = path.join(dir, 'rbac.yaml');
fs.writeFileSync(manifest, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: ns}
rules:
- {apiGroups: [""], resources: [pods, pods/log], verbs: [get, list]}
- {apiGroups: [apps], resources: [deployments], verbs: [get], resourceNames: [web]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: ns}
roleRef: {kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: edit, namespace: team}
roleRef: {kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: "system:serviceaccounts:ns"}]
`);

const cli = (...args: string[]) => runCli(args, dir);
const AS = ['--as', 'system:serviceaccount:ns:app', '-f', manifest];

test('yes → exit 0, no → exit 1, output as kubectl', async () => {
  assert.deepEqual(await cli('can-i', 'get', 'pods', '-n', 'ns', ...AS), { code: 0, out: 'yes\n', err: '' });
  assert.deepEqual(await cli('can-i', 'delete', 'pods', '-n', 'ns', ...AS), { code: 1, out: 'no\n', err: '' });
  assert.equal((await cli('can-i', 'get', 'pods', '-n', 'other', ...AS)).code, 1);
});

test('TYPE/NAME, short names and TYPE.GROUP; --subresource; -q', async () => {
  assert.equal((await cli('can-i', 'get', 'deploy/web', '-n', 'ns', ...AS)).out, 'yes\n');
  assert.equal((await cli('can-i', 'get', 'deployments.apps/db', '-n', 'ns', ...AS)).out, 'no\n');
  assert.equal((await cli('can-i', 'list', 'deployments.apps', '-n', 'ns', ...AS)).out, 'no\n', 'a named rule never allows list');
  assert.equal((await cli('can-i', 'get', 'po', '--subresource', 'log', '-n', 'ns', ...AS)).out, 'yes\n');
  assert.equal((await cli('can-i', 'get', 'po', '--subresource', 'exec', '-n', 'ns', ...AS)).out, 'no\n');
  assert.deepEqual(await cli('can-i', '-q', 'get', 'pods', '-n', 'ns', ...AS), { code: 0, out: '', err: '' });
});

test('SA groups from --as: system:serviceaccounts:ns reaches the built-in edit role in team; --as-group replaces them', async () => {
  assert.equal((await cli('can-i', 'create', 'pods', '--subresource', 'exec', '-n', 'team', ...AS)).out, 'yes\n');
  assert.equal((await cli('can-i', 'create', 'pods', '-n', 'team', ...AS, '--as-group', 'devs')).out, 'no\n');
});

test('non-resource URLs through the built-in discovery roles; warnings as kubectl prints them', async () => {
  assert.deepEqual(await cli('can-i', 'get', '/apis/apps', ...AS), { code: 0, out: 'yes\n', err: '' });
  assert.equal((await cli('can-i', 'get', '/metrics', ...AS)).out, 'no\n');
  const nodes = await cli('can-i', 'get', 'nodes', '-n', 'ns', ...AS);
  assert.equal(nodes.err, "Warning: resource 'nodes' is not namespace scoped\n");
  const unknown = await cli('can-i', 'get', 'widgets', '-n', 'ns', ...AS);
  assert.equal(unknown.err, "Warning: the server doesn't have a resource type 'widgets'\n");
  assert.equal((await cli('can-i', 'frobnicate', 'pods', '-n', 'ns', ...AS)).err, "Warning: verb 'frobnicate' is not a known verb\n");
});

test('--list prints kubectl\'s table (rules broken down, compacted by verb, sorted, tab-aligned)', async () => {
  const r = await cli('can-i', '--list', '-n', 'ns', ...AS);
  assert.equal(r.code, 0);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^Resources +Non-Resource URLs +Resource Names +Verbs$/);
  assert.ok(lines.some((l) => /^pods +\[\] +\[\] +\[get list\]$/.test(l)), r.out);
  assert.ok(lines.some((l) => /^deployments\.apps +\[\] +\[web\] +\[get\]$/.test(l)), r.out);
  assert.ok(lines.some((l) => /^ +\[\/api\/\*\] +\[\] +\[get\]$/.test(l)), r.out);
  const cols = lines.map((l) => l.indexOf('['));
  assert.equal(new Set(cols.slice(1)).size, 1, 'columns aligned');
  assert.equal((await cli('can-i', '--list', '--no-headers', '-n', 'ns', ...AS)).out.split('\n')[0]!.startsWith('Resources'), false);
});

test('usage errors: exit 2 with kubectl\'s wording', async () => {
  assert.equal((await cli('can-i', 'get', ...AS)).code, 2);
  assert.match((await cli('can-i', '--list', 'get', 'pods', ...AS)).err, /list option must be specified with no arguments/);
  assert.match((await cli('can-i', '--list', '-A', ...AS)).err, /list option can't be specified with neither quiet, all-namespaces nor subresource options/);
  assert.match((await cli('can-i', 'get', '/healthz', '--subresource', 'x', ...AS)).err, /--subresource can not be used with NonResourceURL/);
  assert.match((await cli('can-i', 'get', 'pods', '--no-headers', ...AS)).err, /--no-headers cannot be set without --list specified/);
  const noAs = await cli('can-i', 'get', 'pods', '-f', manifest);
  assert.equal(noAs.code, 2);
  assert.match(noAs.err, /needs --as/);
});

test('unreadable input: problems as file:line lines, exit 3, no stack trace', async () => {
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: ns}\n---\nkey: [unclosed\n');
  const r = await cli('can-i', 'get', 'pods', '-n', 'ns', '--as', 'system:serviceaccount:ns:app', '-f', bad);
  assert.equal(r.code, 3);
  assert.match(r.err, /bad\.yaml:\d+: /);
  assert.doesNotMatch(r.err, /\n\s+at /);
});
