// The real-world bundles in ../shared/corpus/real-world produce the escalations their RBAC really grants.
// Each expectation names the upstream object that causes it, so a change in our engine that drops one is visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeObjects, objectsOf } from './load.ts';

const CORPUS = new URL('../../../../shared/corpus/real-world/', import.meta.url).pathname;
const scan = (project: string, installNamespace?: string) => analyzeObjects(objectsOf([CORPUS + project], installNamespace));
const dangerousOf = (res: Awaited<ReturnType<typeof scan>>, name: string) => {
  const w = res.workloads.find((x) => x.name === name);
  assert.ok(w, `workload ${name}`);
  return { w, ids: new Map(w.permissions!.dangerous.map((d) => [d.id, d.scope || 'cluster'])) };
};

test('argo-cd (applied with -n argocd): the application controller is cluster-admin; argocd-server can get nodes/proxy', async () => {
  const res = await scan('argo-cd', 'argocd');
  // ClusterRole argocd-application-controller: `*` verbs on `*.*` and nonResourceURLs `*`, bound by a CRB to argocd/argocd-application-controller.
  const ctl = dangerousOf(res, 'argocd-application-controller');
  assert.equal(ctl.w.permissions!.equivalentToClusterAdmin, true);
  const ctlFinding = res.findings.find((f) => f.rule === 'rbac-dangerous-token' && f.resource.name === 'argocd-application-controller');
  assert.equal(ctlFinding?.severity, 'critical');
  // ClusterRole argocd-server: `get` on `*` of every group — that includes nodes/proxy (kubelet API) and every Secret.
  const server = dangerousOf(res, 'argocd-server');
  assert.equal(server.ids.get('nodes-proxy'), 'cluster');
  assert.equal(server.ids.get('secrets-read'), 'cluster');
  // argocd-repo-server sets automountServiceAccountToken: false: no token, nothing needed.
  const repo = res.workloads.find((x) => x.name === 'argocd-repo-server')!;
  assert.equal(repo.token.mounted, false);
  assert.equal(repo.token.needed, 'no');
});

test('argo-cd applied without a namespace: its ClusterRoleBindings name argocd/… SAs, so the default-namespace pods get nothing cluster-wide', async () => {
  const res = await scan('argo-cd');
  assert.equal(dangerousOf(res, 'argocd-application-controller').w.permissions!.equivalentToClusterAdmin, false);
});

test('flux v1: the flux ServiceAccount is bound to a ClusterRole with `*` on everything: cluster-admin', async () => {
  const res = await scan('flux-v1');
  assert.equal(dangerousOf(res, 'flux').w.permissions!.equivalentToClusterAdmin, true);
  // memcached runs as flux/default with nothing bound: its token is safe to turn off.
  assert.equal(dangerousOf(res, 'memcached').w.token.needed, 'no');
});

test('calico: tigera-operator can bind and escalate roles cluster-wide; calico-node may mint the calico-cni-plugin token (named)', async () => {
  const res = await scan('calico');
  const op = dangerousOf(res, 'tigera-operator');
  assert.equal(op.ids.get('rbac-escalate'), 'cluster');
  assert.equal(op.ids.get('rbac-bind'), 'cluster');
  const node = res.workloads.find((x) => x.name === 'calico-node')!;
  const tok = node.permissions!.dangerous.find((d) => d.id === 'serviceaccount-token-create');
  assert.ok(tok, 'create serviceaccounts/token restricted to resourceNames [calico-cni-plugin] still mints that token');
});

test('kyverno: admission controller writes webhook configurations; background controller writes RBAC cluster-wide', async () => {
  const res = await scan('kyverno');
  assert.equal(dangerousOf(res, 'kyverno-admission-controller').ids.get('admission-control-write'), 'cluster');
  assert.equal(dangerousOf(res, 'kyverno-background-controller').ids.get('rbac-write'), 'cluster');
});

test('cert-manager: the controller reads every Secret and creates pods (HTTP-01 solvers) cluster-wide: critical', async () => {
  const res = await scan('cert-manager');
  const cm = dangerousOf(res, 'cert-manager');
  assert.equal(cm.ids.get('secrets-read'), 'cluster');
  assert.equal(cm.ids.get('workload-create'), 'cluster');
  assert.equal(res.findings.find((f) => f.rule === 'rbac-dangerous-token' && f.resource.name === 'cert-manager')?.severity, 'critical');
});

test('longhorn and rbac-manager: impersonate, bind and escalate cluster-wide', async () => {
  const lh = dangerousOf(await scan('longhorn'), 'longhorn-manager');
  for (const id of ['impersonate', 'rbac-bind', 'rbac-escalate']) assert.equal(lh.ids.get(id), 'cluster', id);
  const rm = dangerousOf(await scan('rbac-manager'), 'rbac-manager');
  for (const id of ['rbac-bind', 'rbac-escalate']) assert.equal(rm.ids.get(id), 'cluster', id);
});

test('tekton: a RoleBinding gives a Role to system:authenticated (reported, medium: it reads one ConfigMap)', async () => {
  const res = await scan('tekton-pipeline');
  const f = res.findings.filter((x) => x.rule === 'rbac-broad-group-binding');
  assert.deepEqual(f.map((x) => `${x.resource.namespace}/${x.resource.name}:${x.severity}`), ['tekton-pipelines/tekton-pipelines-info:medium']);
});

test('microservices-demo: no RBAC at all, so all 12 mounted tokens are safe to turn off', async () => {
  const res = await scan('microservices-demo');
  assert.equal(res.workloads.length, 12);
  assert.ok(res.workloads.every((w) => w.token.needed === 'no' && w.permissions!.onlyDefaults));
  assert.equal(res.findings.filter((x) => x.rule === 'rbac-token-without-permissions').length, 12);
});
