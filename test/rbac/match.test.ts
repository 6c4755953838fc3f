// Each case follows pkg/apis/rbac/v1/evaluation_helpers.go (RuleAllows) and rbac.md; the differential test
// (test/e2e/rbac-differential.test.ts) checks the same functions against the real API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleAllows, covers, ANY_NAME } from '../../src/rbac/match.ts';
import type { PolicyRule } from '../../src/inventory/types.ts';

const res = (verb: string, resource: string, o: { group?: string; sub?: string; name?: string } = {}) => ({ verb, apiGroup: o.group ?? '', resource, subresource: o.sub, name: o.name, namespace: 'ns' });
const rule = (verbs: string[], resources: string[], o: Partial<PolicyRule> = {}): PolicyRule => ({ verbs, apiGroups: [''], resources, ...o });

test('verbs: exact and case-sensitive, `*` matches any', () => {
  assert.equal(ruleAllows(res('get', 'pods'), rule(['get'], ['pods'])), true);
  assert.equal(ruleAllows(res('GET', 'pods'), rule(['get'], ['pods'])), false);
  assert.equal(ruleAllows(res('escalate', 'pods'), rule(['*'], ['pods'])), true);
});

test('apiGroups: exact; core is "" (not "core"); `*` matches every group', () => {
  assert.equal(ruleAllows(res('get', 'deployments', { group: 'apps' }), rule(['get'], ['deployments'])), false);
  assert.equal(ruleAllows(res('get', 'pods'), rule(['get'], ['pods'], { apiGroups: ['core'] })), false);
  assert.equal(ruleAllows(res('get', 'deployments', { group: 'apps' }), rule(['get'], ['deployments'], { apiGroups: ['*'] })), true);
});

test('resources: `pods` does not cover `pods/exec`; `*/exec` does; `pods/*` is not a wildcard', () => {
  assert.equal(ruleAllows(res('create', 'pods', { sub: 'exec' }), rule(['create'], ['pods'])), false);
  assert.equal(ruleAllows(res('create', 'pods'), rule(['create'], ['pods/exec'])), false);
  assert.equal(ruleAllows(res('create', 'pods', { sub: 'exec' }), rule(['create'], ['*/exec'])), true);
  assert.equal(ruleAllows(res('update', 'deployments', { group: 'apps', sub: 'scale' }), rule(['update'], ['*/scale'], { apiGroups: ['apps'] })), true);
  assert.equal(ruleAllows(res('create', 'pods', { sub: 'exec' }), rule(['create'], ['pods/*'])), false, 'pods/* only matches a subresource literally named *');
  assert.equal(ruleAllows(res('create', 'pods', { sub: '*' }), rule(['create'], ['pods/*'])), true);
  assert.equal(ruleAllows(res('create', 'pods', { sub: 'exec' }), rule(['create'], ['*'])), true, '* covers subresources');
  assert.equal(ruleAllows(res('get', 'pods', { sub: 'exec' }), rule(['get'], ['*/ex'])), false);
});

test('resourceNames: empty = any; requests without a name never match a named rule', () => {
  const named = rule(['get', 'list', 'create', 'deletecollection', 'watch'], ['secrets'], { resourceNames: ['a'] });
  assert.equal(ruleAllows(res('get', 'secrets', { name: 'a' }), named), true);
  assert.equal(ruleAllows(res('get', 'secrets', { name: 'b' }), named), false);
  for (const v of ['create', 'list', 'watch', 'deletecollection']) assert.equal(ruleAllows(res(v, 'secrets'), named), false, v);
  // list/watch with fieldSelector metadata.name=a carry name=a (requestinfo.go), so named list works.
  assert.equal(ruleAllows(res('list', 'secrets', { name: 'a' }), named), true);
  assert.equal(ruleAllows(res('get', 'secrets', { name: 'zzz' }), rule(['get'], ['secrets'])), true);
  assert.equal(ruleAllows(res('get', 'secrets', { name: ANY_NAME }), named), true, 'catalogue probe: some name');
});

test('nonResourceURLs: exact, `*`, prefix when the entry ends in `*` (also /healthz* → /healthzfoo)', () => {
  const nr = (verb: string, path: string) => ({ verb, path });
  const r: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/api/*', '/version*'] };
  assert.equal(ruleAllows(nr('get', '/healthz'), r), true);
  assert.equal(ruleAllows(nr('get', '/healthz/etcd'), r), false);
  assert.equal(ruleAllows(nr('get', '/api/v1'), r), true);
  assert.equal(ruleAllows(nr('get', '/api'), r), false);
  assert.equal(ruleAllows(nr('get', '/versionfoo'), r), true);
  assert.equal(ruleAllows(nr('post', '/healthz'), r), false);
  assert.equal(ruleAllows(nr('get', '/anything'), { verbs: ['*'], nonResourceURLs: ['*'] }), true);
  assert.equal(ruleAllows(nr('get', '/a/b'), { verbs: ['get'], nonResourceURLs: ['/a/*/c'] }), false, '* only honoured at the end');
  // A resource rule never matches a non-resource request and vice versa.
  assert.equal(ruleAllows(nr('get', '/api'), rule(['*'], ['*'], { apiGroups: ['*'] })), false);
  assert.equal(ruleAllows(res('get', 'pods'), { verbs: ['*'], nonResourceURLs: ['*'] }), false);
});

test('covers: literal verbs (escalate only by * or escalate), named owners cover only those names', () => {
  assert.equal(covers([rule(['*'], ['*'], { apiGroups: ['*'] })], [rule(['escalate'], ['roles'], { apiGroups: ['rbac.authorization.k8s.io'] })]).covered, true);
  assert.equal(covers([rule(['get', 'list'], ['pods'])], [rule(['get'], ['pods'])]).covered, true);
  assert.equal(covers([rule(['get'], ['pods'], { resourceNames: ['a'] })], [rule(['get'], ['pods'])]).covered, false);
  assert.equal(covers([rule(['get'], ['pods'])], [rule(['get'], ['pods'], { resourceNames: ['a'] })]).covered, true);
  assert.equal(covers([rule(['get'], ['*/log'])], [rule(['get'], ['pods/log'])]).covered, true);
  assert.equal(covers([{ verbs: ['get'], nonResourceURLs: ['/api/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/api/v1'] }]).covered, true);
  assert.equal(covers([{ verbs: ['get'], nonResourceURLs: ['/api'] }], [{ verbs: ['get'], nonResourceURLs: ['/api/v1'] }]).missing.length, 1);
});
