// TYPE resolution as kubectl's RESTMapper does it for can-i (cani.go resourceFor), and the --list table format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveResourceArg } from '../../src/rbac/resources.ts';
import { accessTable, combineResourceGroup, goPolicyRuleString, tabwrite } from '../../src/rbac/access-table.ts';

test('plural, singular, short names, TYPE.GROUP and TYPE.VERSION.GROUP; core wins for events; unknown kept verbatim', () => {
  const r = (a: string) => { const x = resolveResourceArg(a); return `${x.resource}.${x.group}`; };
  assert.equal(r('deploy'), 'deployments.apps');
  assert.equal(r('Deployment'), 'deployments.apps');
  assert.equal(r('deployments.apps'), 'deployments.apps');
  assert.equal(r('deployments.v1.apps'), 'deployments.apps');
  assert.equal(r('events'), 'events.', 'core before events.k8s.io, as discovery orders them');
  assert.equal(r('events.events.k8s.io'), 'events.events.k8s.io');
  assert.equal(r('ingresses.networking.k8s.io'), 'ingresses.networking.k8s.io');
  assert.equal(r('crds'), 'customresourcedefinitions.apiextensions.k8s.io');
  assert.equal(r('*'), '*.');
  assert.equal(r('Widgets'), 'Widgets.', 'kubectl keeps the original spelling when it cannot resolve');
  assert.equal(resolveResourceArg('users').type, undefined);
});

test('kubectl --list helpers: CombineResourceGroup, Go PolicyRule String(), tabwriter padding', () => {
  assert.equal(combineResourceGroup(['deployments/scale'], ['apps']), 'deployments.apps/scale');
  assert.equal(combineResourceGroup(['pods'], ['']), 'pods');
  assert.equal(combineResourceGroup([], ['apps']), '');
  assert.equal(goPolicyRuleString({ verbs: ['get', 'list'], resources: ['pods'], apiGroups: [''] }), '&PolicyRule{Verbs:[get list],APIGroups:[],Resources:[pods],ResourceNames:[],NonResourceURLs:[],}');
  assert.equal(tabwrite([['a', 'bb', 'c'], ['dddddddd', 'e', 'f']]), 'a          bb    c\ndddddddd   e     f\n', 'cell + padding 3, at least minwidth 6; last cell unpadded');
  const t = accessTable({ resourceRules: [{ verbs: ['list', 'get'], apiGroups: [''], resources: ['pods'], resourceNames: [] }, { verbs: ['get', 'watch'], apiGroups: [''], resources: ['pods'], resourceNames: [] }], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/b', '/a'] }] }, { noHeaders: true });
  // Sorted by the Go String() (Verbs first: [get] < [list get watch]); verbs merged once each, in arrival order.
  assert.equal(t, '       [/a]   []    [get]\n       [/b]   []    [get]\npods   []     []    [list get watch]\n');
});
