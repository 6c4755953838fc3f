// Differential test: kube-sa-audit's RBAC engine against the real kube-apiserver's SubjectAccessReview.
// A seeded generator creates Roles, ClusterRoles (some aggregated by label selectors, some nested), and
// bindings to service accounts, users and groups across several namespaces; then ≥10,000 random questions are
// asked of both. Every answer must agree. Set KSA_RBAC_SEED to replay a run, KSA_RBAC_QUESTIONS to change the count.
//
// Two engines are checked: (1) built from the server's own RBAC objects read back (what a live scan sees), and
// (2) built offline from the generated manifests plus data/rbac/v1.36.3.json (what a manifest scan sees).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { adminClient, mapLimit, prng, type AdminClient } from '../rbac/live-client.ts';
import { RbacEngine, serviceAccountUser, describeGrant, type UserInfo } from '../../src/rbac/engine.ts';
import { loadBuiltinPolicy } from '../../src/rbac/builtin.ts';
import { roleFromObject, bindingFromObject } from '../../src/rbac/normalize.ts';
import { ruleAllows, type RequestAttributes } from '../../src/rbac/match.ts';
import { aggregateClusterRoles } from '../../src/rbac/aggregate.ts';
import type { KubeObject } from '../../src/inventory/types.ts';

const SEED = Number(process.env.KSA_RBAC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const QUESTIONS = Number(process.env.KSA_RBAC_QUESTIONS ?? 10_000);
const RBAC = 'rbac.authorization.k8s.io';

let cp: ControlPlane;
let client: AdminClient;
const tag = uniqueNamespace('rbacdiff');
const namespaces = [0, 1, 2, 3].map((i) => `${tag}-${i}`);
const users = [0, 1, 2, 3].map((i) => `${tag}-user${i}`);
const groups = [0, 1, 2].map((i) => `${tag}-group${i}`);
const saNames = ['sa0', 'sa1', 'sa2', 'default'];
const objects: KubeObject[] = [];

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate'];
const GROUPS = ['', 'apps', 'batch', RBAC, 'example.com'];
const RESOURCES = ['pods', 'pods/exec', 'pods/log', 'pods/*', '*/scale', 'deployments', 'deployments/scale', 'secrets', 'configmaps', 'namespaces', 'nodes', 'nodes/proxy', 'roles', 'widgets', 'serviceaccounts/token'];
const NAMES = ['a', 'b', 'c'];
const URLS = ['/healthz', '/healthz/*', '/metrics', '/api/*', '/logs*', '/version', '/apis'];
const Q_RESOURCES: [string, string][] = [['', 'pods'], ['apps', 'deployments'], ['', 'secrets'], ['', 'configmaps'], ['', 'namespaces'], ['', 'nodes'], [RBAC, 'roles'], ['example.com', 'widgets'], ['', 'serviceaccounts'], ['batch', 'jobs'], ['', 'services']];
const Q_SUBS = ['', '', '', '', '', '', '', 'exec', 'log', 'scale', 'proxy', 'token', '*'];
const Q_URLS = ['/healthz', '/healthz/etcd', '/metrics', '/api', '/api/v1', '/apis', '/apis/apps', '/logs', '/logsfoo', '/version', '/version/', '/openapi/v2', '/livez', '/readyz', '/random', '/.well-known/openid-configuration'];

function generate(r: ReturnType<typeof prng>): void {
  const rule = (nonResourceAllowed: boolean): Record<string, unknown> => {
    if (nonResourceAllowed && r.chance(0.15)) return { verbs: r.chance(0.1) ? ['*'] : r.subset(['get', 'post', 'put', 'delete'], 2), nonResourceURLs: r.chance(0.1) ? ['*'] : r.subset(URLS, 3) };
    const out: Record<string, unknown> = {
      verbs: r.chance(0.1) ? ['*'] : r.subset(VERBS, 7),
      apiGroups: r.chance(0.1) ? ['*'] : r.subset(GROUPS, 3),
      resources: r.chance(0.08) ? ['*'] : r.subset(RESOURCES, 7),
    };
    if (r.chance(0.2)) out.resourceNames = r.subset(NAMES, 2);
    return out;
  };
  const rules = (n: number, nonRes: boolean) => Array.from({ length: 2 + r.int(n) }, () => rule(nonRes));
  const aggLabels = [`${tag}/agg-a`, `${tag}/agg-b`];
  const clusterRoles: string[] = [];
  for (let i = 0; i < 12; i++) {
    const name = `${tag}-cr${i}`;
    clusterRoles.push(name);
    const labels: Record<string, string> = {};
    // Aggregating roles carry no selector labels themselves, so there is no aggregation cycle.
    if (i < 9) for (const l of aggLabels) if (r.chance(0.35)) labels[l] = 'true';
    const o: KubeObject = { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name, labels }, rules: rules(3, true) };
    if (i >= 9) {
      // Aggregated: by matchLabels, by matchExpressions, and one that nests (selects roles that aggregate).
      const selectors = i === 9 ? [{ matchLabels: { [aggLabels[0]!]: 'true' } }]
        : i === 10 ? [{ matchExpressions: [{ key: aggLabels[1]!, operator: 'Exists' }] }, { matchLabels: { [aggLabels[0]!]: 'true' } }]
        : [{ matchLabels: { [`${tag}/nest`]: 'true' } }];
      o.aggregationRule = { clusterRoleSelectors: selectors };
      if (i === 9) labels[`${tag}/nest`] = 'true';
      if (i === 10) labels[`${tag}/nest`] = 'true';
    }
    objects.push(o);
  }
  for (const ns of namespaces) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 3; i++) objects.push({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: `role${i}`, namespace: ns }, rules: rules(3, false) });
  }
  const subject = (bindingNs: string | undefined): Record<string, unknown> => {
    const k = r.int(10);
    if (k < 4) {
      const s: Record<string, unknown> = { kind: 'ServiceAccount', name: r.pick(saNames) };
      // Without a namespace: the binding's (RoleBinding) or never matches (ClusterRoleBinding, rejected by validation).
      if (bindingNs === undefined || r.chance(0.6)) s.namespace = r.chance(0.8) ? (bindingNs ?? r.pick(namespaces)) : r.pick(namespaces);
      return s;
    }
    if (k < 6) return { kind: 'User', apiGroup: RBAC, name: r.chance(0.4) ? `system:serviceaccount:${r.pick(namespaces)}:${r.pick(saNames)}` : r.pick(users) };
    const g = r.int(4);
    return { kind: 'Group', apiGroup: RBAC, name: g < 2 ? r.pick(groups) : `system:serviceaccounts:${r.pick(namespaces)}` };
  };
  for (const ns of namespaces) {
    for (let i = 0; i < 8; i++) {
      const toCluster = r.chance(0.5);
      const roleRef = toCluster ? { apiGroup: RBAC, kind: 'ClusterRole', name: r.chance(0.1) ? `${tag}-missing` : r.pick(clusterRoles) } : { apiGroup: RBAC, kind: 'Role', name: r.chance(0.1) ? 'missing' : `role${r.int(3)}` };
      const subjects = Array.from({ length: 1 + r.int(3) }, () => subject(ns));
      // A RoleBinding may also bind the whole-namespace SA group of its own namespace.
      if (r.chance(0.1)) subjects.push({ kind: 'Group', apiGroup: RBAC, name: 'system:serviceaccounts' });
      objects.push({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: `rb${i}`, namespace: ns }, roleRef, subjects });
    }
  }
  for (let i = 0; i < 10; i++) {
    objects.push({
      apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: `${tag}-crb${i}` },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: r.chance(0.1) ? `${tag}-missing` : r.pick(clusterRoles) },
      subjects: Array.from({ length: 1 + r.int(3) }, () => subject(undefined)),
    });
  }
}

type Question = { user: UserInfo; attrs: RequestAttributes };

function questions(r: ReturnType<typeof prng>, n: number): Question[] {
  const out: Question[] = [];
  for (let i = 0; i < n; i++) {
    const user: UserInfo = r.chance(0.6)
      ? serviceAccountUser(r.chance(0.9) ? r.pick(namespaces) : 'kube-system', r.pick(saNames))
      : { name: r.pick(users), groups: [...(r.chance(0.7) ? r.subset(groups, 2) : []), 'system:authenticated'] };
    if (r.chance(0.12)) {
      out.push({ user, attrs: { verb: r.pick(['get', 'post', 'put', 'delete', 'head']), path: r.pick(Q_URLS) } });
      continue;
    }
    const [apiGroup, resource] = r.pick(Q_RESOURCES);
    const verb = r.chance(0.03) ? '*' : r.pick(VERBS);
    const namespace = resource === 'namespaces' && r.chance(0.5) ? undefined : r.chance(0.8) ? r.pick(namespaces) : r.chance(0.5) ? '' : 'elsewhere';
    const name = r.chance(0.35) ? r.pick([...NAMES, 'd']) : '';
    const attrs = { verb, apiGroup, resource, subresource: r.pick(Q_SUBS), name, namespace: namespace ?? name };
    out.push({ user, attrs });
  }
  return out;
}

function sar(q: Question): unknown {
  const spec: Record<string, unknown> = { user: q.user.name, groups: q.user.groups };
  if ('path' in q.attrs) spec.nonResourceAttributes = { verb: q.attrs.verb, path: q.attrs.path };
  else spec.resourceAttributes = { verb: q.attrs.verb, group: q.attrs.apiGroup, resource: q.attrs.resource, subresource: q.attrs.subresource, name: q.attrs.name, namespace: q.attrs.namespace };
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
}

/** The grants and rules that decide a question: a reproducer small enough to read. */
function reproducer(engine: RbacEngine, q: Question): string {
  const ns = 'path' in q.attrs ? '' : (q.attrs.namespace ?? '');
  const { grants, errors } = engine.visit(q.user, ns);
  return JSON.stringify({ seed: SEED, question: q, grants: grants.filter((g) => !g.builtin).map((g) => ({ binding: describeGrant(g), rules: g.rules })), errors }, null, 1);
}

/** The server's RBAC objects as an engine; `aggregate: false` keeps the server's own aggregated rules. */
async function readBack(aggregate = true): Promise<RbacEngine> {
  const list = async (path: string) => {
    const res = await client.get(path);
    assert.equal(res.status, 200, path);
    return res.json.items as KubeObject[];
  };
  const loc = { file: 'cluster', line: 0 };
  const [crs, crbs, roles, rbs] = await Promise.all([
    list(`/apis/${RBAC}/v1/clusterroles`), list(`/apis/${RBAC}/v1/clusterrolebindings`), list(`/apis/${RBAC}/v1/roles`), list(`/apis/${RBAC}/v1/rolebindings`),
  ]);
  return new RbacEngine({
    clusterRoles: crs.map((o) => roleFromObject({ ...o, kind: 'ClusterRole' }, loc, false)),
    clusterRoleBindings: crbs.map((o) => bindingFromObject({ ...o, kind: 'ClusterRoleBinding' }, loc, false)),
    roles: roles.map((o) => roleFromObject({ ...o, kind: 'Role' }, loc, false)),
    roleBindings: rbs.map((o) => bindingFromObject({ ...o, kind: 'RoleBinding' }, loc, false)),
  }, { builtin: null, aggregate });
}

before(async () => {
  cp = await sharedControlPlane();
  client = adminClient(cp.kubeconfig);
  generate(prng(SEED));
  const apply = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  assert.equal(apply.code, 0, apply.stderr);
  // The aggregation controller and the authorizer's informers catch up asynchronously: wait until the server's
  // aggregated roles hold what the controller's algorithm computes.
  const loc = { file: 'gen', line: 0 };
  const builtin = loadBuiltinPolicy('v1.36.3');
  const expected = aggregateClusterRoles([...builtin.clusterRoles, ...objects.filter((o) => o.kind === 'ClusterRole').map((o) => roleFromObject(o, loc, false))]).clusterRoles.filter((c) => c.name.startsWith(tag));
  const deadline = Date.now() + 60_000;
  for (;;) {
    // Compare with what the server's controller wrote, not with our own recomputation of it.
    const live = await readBack(false);
    const pending = expected.filter((c) => JSON.stringify(live.clusterRoles.get(c.name)?.rules ?? null) !== JSON.stringify(c.rules));
    if (pending.length === 0) break;
    if (Date.now() > deadline) assert.fail(`aggregation did not converge for ${pending.map((c) => c.name).join(', ')}: server has ${JSON.stringify(live.clusterRoles.get(pending[0]!.name)?.rules)}, the controller's algorithm gives ${JSON.stringify(pending[0]!.rules)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await waitForAuthorizerCaches();
});

/**
 * The RBAC authorizer answers from informer caches, which lag the API. Each informer delivers its events in
 * order, so once a sentinel Role, RoleBinding, ClusterRole and ClusterRoleBinding created *after* everything
 * else (aggregation included) authorise a request, every earlier object of those four types is in the caches
 * too. A fixed sleep was flaky on a loaded machine.
 */
async function waitForAuthorizerCaches(): Promise<void> {
  const ns = namespaces[0]!;
  const user = `${tag}-sentinel`;
  const sentinel = [
    { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: `${tag}-sentinel` }, rules: [{ verbs: ['get'], nonResourceURLs: [`/${tag}-sentinel`] }] },
    { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: `${tag}-sentinel` }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: `${tag}-sentinel` }, subjects: [{ apiGroup: RBAC, kind: 'User', name: user }] },
    { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: `${tag}-sentinel`, namespace: ns }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: [`${tag}-sentinel`] }] },
    { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: `${tag}-sentinel`, namespace: ns }, roleRef: { apiGroup: RBAC, kind: 'Role', name: `${tag}-sentinel` }, subjects: [{ apiGroup: RBAC, kind: 'User', name: user }] },
  ];
  const apply = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: sentinel }) });
  assert.equal(apply.code, 0, apply.stderr);
  const probes = [
    { user: user, groups: ['system:authenticated'], nonResourceAttributes: { verb: 'get', path: `/${tag}-sentinel` } },
    { user: user, groups: ['system:authenticated'], resourceAttributes: { verb: 'get', group: '', resource: 'configmaps', name: `${tag}-sentinel`, namespace: ns } },
  ];
  const deadline = Date.now() + 60_000;
  for (const spec of probes) {
    for (;;) {
      const res = await client.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
      if (res.json.status?.allowed === true) break;
      if (Date.now() > deadline) assert.fail(`the authorizer never saw the sentinel grant ${JSON.stringify(spec)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

after(async () => {
  if (!cp) return;
  await cp.kubectl(['delete', '--wait=false', '--ignore-not-found', 'clusterrole,clusterrolebinding', `${tag}-sentinel`]);
  await cp.kubectl(['delete', '--wait=false', '--ignore-not-found', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.filter((o) => o.kind !== 'Role' && o.kind !== 'RoleBinding') }) });
  client?.close();
});

test(`RBAC engine equals SubjectAccessReview on ${QUESTIONS} random questions`, { timeout: 600_000 }, async () => {
  const live = await readBack();
  const loc = { file: 'gen', line: 0 };
  const offline = new RbacEngine({
    clusterRoles: objects.filter((o) => o.kind === 'ClusterRole').map((o) => roleFromObject(o, loc, false)),
    roles: objects.filter((o) => o.kind === 'Role').map((o) => roleFromObject(o, loc, false)),
    roleBindings: objects.filter((o) => o.kind === 'RoleBinding').map((o) => bindingFromObject(o, loc, false)),
    clusterRoleBindings: objects.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => bindingFromObject(o, loc, false)),
  }, { builtin: loadBuiltinPolicy('v1.36.3') });
  const qs = questions(prng(SEED ^ 0x5bd1e995), QUESTIONS);
  const started = Date.now();
  const answers = await mapLimit(qs, 16, async (q) => {
    const res = await client.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', sar(q));
    if (res.status !== 201) throw new Error(`SubjectAccessReview ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
    return res.json.status as { allowed?: boolean; reason?: string; evaluationError?: string };
  });
  const seconds = (Date.now() - started) / 1000;
  let agreeLive = 0, agreeOffline = 0, allowedCount = 0, reasonChecked = 0;
  const disagreements: string[] = [];
  for (let i = 0; i < qs.length; i++) {
    const q = qs[i]!;
    const server = answers[i]!;
    const serverAllowed = server.allowed === true;
    if (serverAllowed) allowedCount++;
    const a = live.authorize(q.user, q.attrs);
    const b = offline.authorize(q.user, q.attrs);
    if (a.allowed === serverAllowed) agreeLive++;
    else disagreements.push(`live engine says ${a.allowed}, server says ${serverAllowed} (${server.reason ?? ''}):\n${reproducer(live, q)}`);
    if (b.allowed === serverAllowed) agreeOffline++;
    else disagreements.push(`offline engine says ${b.allowed}, server says ${serverAllowed} (${server.reason ?? ''}):\n${reproducer(offline, q)}`);
    if (serverAllowed && server.reason) {
      // The server reports the first allowing binding in its cache's order; ours must be able to produce it.
      const ns = 'path' in q.attrs ? '' : (q.attrs.namespace ?? '');
      const possible = live.visit(q.user, ns).grants.filter((g) => g.rules.some((rule) => ruleAllows(q.attrs, rule))).map((g) => `RBAC: allowed by ${describeGrant(g)}`);
      if (!possible.includes(server.reason)) disagreements.push(`server reason ${JSON.stringify(server.reason)} is not one we produce: ${JSON.stringify(possible)}`);
      reasonChecked++;
    }
  }
  const pct = (n: number) => ((100 * n) / qs.length).toFixed(2);
  console.log(`rbac-differential: seed=${SEED} questions=${qs.length} allowed=${allowedCount} agreement live=${pct(agreeLive)}% offline=${pct(agreeOffline)}% reasons checked=${reasonChecked} server time=${seconds.toFixed(1)}s (replay: KSA_RBAC_SEED=${SEED})`);
  if (disagreements.length > 0) console.log(disagreements.slice(0, 5).join('\n\n'));
  assert.equal(disagreements.length, 0, `${disagreements.length} disagreements (seed ${SEED}); first:\n${disagreements[0]}`);
  assert.ok(allowedCount > qs.length * 0.05 && allowedCount < qs.length * 0.95, `the generator should produce both answers often (allowed ${allowedCount})`);
});

test('rulesFor equals SelfSubjectRulesReview (as a multiset of rules) for every generated subject in every namespace', { timeout: 300_000 }, async () => {
  const live = await readBack();
  const subjects: UserInfo[] = [...namespaces.flatMap((ns) => saNames.map((n) => serviceAccountUser(ns, n))), ...users.map((u, i) => ({ name: u, groups: [groups[i % groups.length]!, 'system:authenticated'] }))];
  const cases = subjects.flatMap((user) => namespaces.map((ns) => ({ user, ns })));
  const norm = (rules: { verbs?: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }[]) =>
    rules.map((r) => JSON.stringify([r.verbs ?? [], r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []])).sort();
  const results = await mapLimit(cases, 16, async ({ user, ns }) => {
    // Impersonation as the admin: the server then evaluates exactly this user and these groups.
    const res = await client.post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } },
      { 'Impersonate-User': user.name, 'Impersonate-Group': user.groups });
    assert.equal(res.status, 201, JSON.stringify(res.json).slice(0, 300));
    const ours = live.rulesFor(user, ns);
    const same = JSON.stringify(norm(res.json.status.resourceRules)) === JSON.stringify(norm(ours.resourceRules)) &&
      JSON.stringify(norm(res.json.status.nonResourceRules)) === JSON.stringify(norm(ours.nonResourceRules));
    return { user, ns, same, server: res.json.status, ours };
  });
  const bad = results.filter((r) => !r.same);
  console.log(`rbac-differential: rulesFor vs SelfSubjectRulesReview: ${results.length - bad.length}/${results.length} equal (seed ${SEED})`);
  assert.equal(bad.length, 0, bad.slice(0, 1).map((b) => JSON.stringify({ user: b.user, ns: b.ns, server: b.server, ours: { resourceRules: b.ours.resourceRules, nonResourceRules: b.ours.nonResourceRules } })).join('\n'));
});
