// `kube-sa-audit who-can` offline: every subject, with binding and role.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli-io.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksa-whocan-'));
const manifest = path.join(dir, 'rbac.yaml');
fs.writeFileSync(manifest, `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editors, namespace: ns}
roleRef: {kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: app}, {kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editors, namespace: other}
roleRef: {kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: devs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: secret-readers}
roleRef: {kind: ClusterRole, name: readers}
subjects: [{kind: Group, name: "system:serviceaccounts"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: readers}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
`);

const cli = (...args: string[]) => runCli(args, dir);

test('who-can lists subjects with binding and role; built-in bindings included (system:masters)', async () => {
  const r = await cli('who-can', 'create', 'pods/exec', '-n', 'ns', '-f', manifest, '-o', 'json');
  assert.equal(r.code, 0);
  const rows = JSON.parse(r.out) as { subject: { kind: string; name: string; namespace?: string }; binding: { name: string }; role: { name: string } }[];
  const who = rows.map((x) => `${x.subject.kind}:${x.subject.namespace ?? ''}/${x.subject.name} via ${x.binding.name} → ${x.role.name}`);
  assert.ok(who.includes('ServiceAccount:ns/app via editors → edit'), who.join('\n'));
  assert.ok(who.includes('User:/alice via editors → edit'));
  assert.ok(who.includes('Group:/system:masters via cluster-admin → cluster-admin'));
  assert.ok(!who.some((w) => w.includes('devs')), 'a RoleBinding of another namespace does not apply');
});

test('-A includes every namespace; group grants are listed as the group', async () => {
  const r = await cli('who-can', 'get', 'secrets', '-A', '-f', manifest, '-o', 'json');
  const rows = JSON.parse(r.out) as { subject: { name: string }; scope: string }[];
  assert.ok(rows.some((x) => x.subject.name === 'devs' && x.scope === 'other'));
  assert.ok(rows.some((x) => x.subject.name === 'system:serviceaccounts' && x.scope === 'cluster'));
  const table = await cli('who-can', 'get', 'secrets', '-n', 'ns', '-f', manifest);
  assert.match(table.out, /^SUBJECT +KIND +SA-NAMESPACE +BINDING +ROLE +SCOPE\n/);
  assert.match(table.out, /system:serviceaccounts +Group +ClusterRoleBinding\/secret-readers +ClusterRole\/readers +cluster\n/);
});
