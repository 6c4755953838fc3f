// Which unreadable parts of a live cluster weaken which verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rbacGap, rbacGaps, serviceAccountGap } from '../../src/inventory/gaps.ts';
import type { CoverageGap, Inventory } from '../../src/inventory/types.ts';

const inv = (gaps: Partial<CoverageGap>[]): Inventory => ({ gaps: gaps.map((g) => ({ resource: '', reason: 'forbidden', weakens: [], ...g })) }) as unknown as Inventory;

test('RBAC gaps: the four RBAC resources, bare or with their group; nothing else of a similar name', () => {
  const i = inv([
    { resource: 'rolebindings', namespace: 'b' },
    { resource: 'clusterroles.rbac.authorization.k8s.io' },
    { resource: 'roles.example.com' },
    { resource: 'serviceaccounts', namespace: 'a' },
    { resource: '/version' },
  ]);
  assert.deepEqual(rbacGaps(i).map((g) => g.resource), ['rolebindings', 'clusterroles.rbac.authorization.k8s.io']);
  assert.equal(rbacGap(i), 'could not read rolebindings in b, clusterroles.rbac.authorization.k8s.io');
  assert.equal(rbacGap(inv([{ resource: 'pods' }])), undefined);
});

test('ServiceAccount gaps: a namespace gap covers its namespace only; a cluster-wide one covers all', () => {
  assert.equal(serviceAccountGap(inv([{ resource: 'serviceaccounts', namespace: 'a' }]), 'a'), true);
  assert.equal(serviceAccountGap(inv([{ resource: 'serviceaccounts', namespace: 'a' }]), 'b'), false);
  assert.equal(serviceAccountGap(inv([{ resource: 'serviceaccounts' }]), 'b'), true);
  assert.equal(serviceAccountGap(inv([{ resource: 'secrets' }]), 'b'), false);
});
