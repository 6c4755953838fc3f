// KubeHound's attack fixtures (corpus/peer-fixtures/kubehound, expectations.json): each SA must hold the
// permission behind the edge KubeHound expects — except where KubeHound is wrong about RBAC, pinned with why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { objectsOf } from './load.ts';
import { buildInventory, sourced } from '../../../src/inventory/build.ts';
import { analyzeRbac } from '../../../src/rbac/index.ts';

const CORPUS = new URL('../../../../shared/corpus/', import.meta.url).pathname;
const EDGE_TO_OURS: Record<string, string> = {
  POD_CREATE: 'workload-create', POD_PATCH: 'workload-create', POD_EXEC: 'pods-exec', ROLE_BIND: 'rbac-bind',
  TOKEN_BRUTEFORCE: 'secrets-read', TOKEN_LIST: 'secrets-read', IDENTITY_IMPERSONATE: 'impersonate',
};
// KubeHound draws IDENTITY_IMPERSONATE from a namespaced Role on users/groups. Impersonating users or groups
// is authorised cluster-scoped (no namespace), so a RoleBinding never grants it: the API server says no
// (checked live in test/e2e/rbac-can-i.test.ts).
const KUBEHOUND_WRONG = new Set(['IDENTITY_IMPERSONATE']);

const rows = (JSON.parse(fs.readFileSync(CORPUS + 'peer-fixtures/expectations.json', 'utf8')) as { tool: string; check: string; file: string; resource: string; expected: string }[])
  .filter((x) => x.tool === 'kubehound' && EDGE_TO_OURS[x.check]);

test(`KubeHound attack fixtures: ${rows.length} SAs agree with the edge they are named for`, () => {
  assert.ok(rows.length >= 13);
  for (const x of rows) {
    const inv = buildInventory(objectsOf([CORPUS + x.file]).map((o) => sourced(o)));
    const [, ns, name] = x.resource.split('/') as [string, string, string];
    const held = analyzeRbac(inv, []).permissionsOf(ns, name).dangerous.some((d) => d.id === EDGE_TO_OURS[x.check]);
    const expected = KUBEHOUND_WRONG.has(x.check) ? x.expected !== 'fail' : x.expected === 'fail';
    assert.equal(held, expected, `${x.check} ${x.resource} (${x.file})`);
  }
});
