// ClusterRole aggregation as the clusterrole-aggregation controller computes it, and label-selector semantics
// (metav1.LabelSelectorAsSelector).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateClusterRoles, selectorMatches } from '../../src/rbac/aggregate.ts';
import { clusterRole } from './fixtures.ts';

test('selectors: matchLabels AND matchExpressions (In, NotIn, Exists, DoesNotExist); empty matches all; bad operator none', () => {
  const l = { a: '1', b: '2' };
  assert.equal(selectorMatches({ matchLabels: { a: '1' } }, l), true);
  assert.equal(selectorMatches({ matchLabels: { a: '1', c: '3' } }, l), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'In', values: ['2', '3'] }] }, l), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['x'] }] }, l), true, 'NotIn matches an absent key');
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, l), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'Exists' }, { key: 'z', operator: 'DoesNotExist' }] }, l), true);
  assert.equal(selectorMatches({}, l), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['0'] }] }, l), false);
});

test('aggregation replaces hand-written rules, walks selectors in order, roles sorted by name, de-duplicates, skips itself', () => {
  const r = (verb: string, res: string) => ({ verbs: [verb], apiGroups: [''], resources: [res] });
  const out = aggregateClusterRoles([
    clusterRole('agg', [r('delete', 'everything')], { labels: { x: 'true' }, aggregate: { clusterRoleSelectors: [{ matchLabels: { y: 'true' } }, { matchLabels: { x: 'true' } }] } }),
    clusterRole('b', [r('get', 'b'), r('get', 'shared')], { labels: { x: 'true' } }),
    clusterRole('a', [r('get', 'a'), { verbs: ['get'], apiGroups: [''], resources: ['shared'], resourceNames: [] }], { labels: { x: 'true' } }),
    clusterRole('c', [r('get', 'c')], { labels: { y: 'true' } }),
  ]);
  const agg = out.clusterRoles.find((c) => c.name === 'agg')!;
  // y-selector first (c), then x-selector in name order (a, b); `resourceNames: []` equals an absent list.
  assert.deepEqual(agg.rules.map((x) => x.resources![0]), ['c', 'a', 'shared', 'b']);
  assert.deepEqual(out.changed, ['agg']);
  assert.equal(out.unstable, false);
});

test('nested aggregation converges like the controller re-queueing every aggregating role', () => {
  const out = aggregateClusterRoles([
    clusterRole('top', [], { aggregate: { clusterRoleSelectors: [{ matchLabels: { to: 'top' } }] } }),
    clusterRole('mid', [], { labels: { to: 'top' }, aggregate: { clusterRoleSelectors: [{ matchLabels: { to: 'mid' } }] } }),
    clusterRole('leaf', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], { labels: { to: 'mid' } }),
  ]);
  assert.deepEqual(out.clusterRoles.find((c) => c.name === 'top')!.rules, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
});

test('an aggregationRule that selects nothing leaves the hand-written rules (server-side apply sends no rules field)', () => {
  const own = [{ verbs: ['get'], apiGroups: [''], resources: ['own'] }];
  const out = aggregateClusterRoles([clusterRole('agg', own, { aggregate: { clusterRoleSelectors: [{ matchLabels: { none: 'true' } }] } })]);
  assert.deepEqual(out.clusterRoles[0]!.rules, own);
  assert.deepEqual(out.changed, []);
});
