// No Kyverno here, but its `validate.cel` rules are CEL over the same `object`: each generated rule is run
// inside a ValidatingAdmissionPolicy on the real API server, so its expressions are compiled and evaluated by
// Kubernetes' own CEL environment against real (admitted) objects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sharedControlPlane, uniqueNamespace, type ControlPlane } from '../helpers/control-plane.ts';
import { kyvernoPolicies } from '../../src/remedy/policy/kyverno.ts';
import { DEFAULT_POLICY_OPTIONS } from '../../src/remedy/policy/common.ts';

let cp: ControlPlane;
const ns = uniqueNamespace('kyv');
const id = ns.slice(-8);
const LABEL = 'ksa-kyverno-cel-test';
const names: string[] = [];

const RESOURCES: Record<string, { apiGroups: string[]; resources: string[]; operations: string[] }[]> = {
  pods: [{ apiGroups: [''], resources: ['pods'], operations: ['CREATE'] }],
  templates: [{ apiGroups: ['apps'], resources: ['deployments'], operations: ['CREATE'] }, { apiGroups: ['batch'], resources: ['cronjobs'], operations: ['CREATE'] }],
  bindings: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], operations: ['CREATE'] }],
};

const labels = { [LABEL]: id };
const tryCreate = async (o: unknown) => cp.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(o) });
const pod = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } });

before(async () => {
  cp = await sharedControlPlane();
  assert.equal((await cp.kubectl(['create', 'namespace', ns])).code, 0);
  for (let i = 0; i < 100 && (await cp.kubectl(['get', 'sa', 'default', '-n', ns])).code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
  const docs: unknown[] = [];
  for (const policy of kyvernoPolicies(DEFAULT_POLICY_OPTIONS)) {
    for (const rule of (policy.spec as any).rules) {
      const name = `ksa-kyv-${id}-${rule.name}`;
      names.push(name);
      docs.push({
        apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: RESOURCES[rule.name]!.map((r) => ({ ...r, apiVersions: ['v1'] })) },
          variables: rule.validate.cel.variables ?? [],
          validations: rule.validate.cel.expressions.map((e: any) => ({ expression: e.expression, message: e.message })),
        },
      });
      docs.push({
        apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name },
        spec: { policyName: name, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, objectSelector: { matchLabels: labels } } },
      });
    }
  }
  const r = await cp.kubectl(['apply', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
  assert.equal(r.code, 0, r.stderr);
  // Each policy starts to be enforced on its own schedule: wait until all three deny (a run once saw the pods
  // rule enforced and the templates rule not yet).
  const probes = [
    pod('probe'),
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'probe', namespace: ns, labels }, spec: { selector: { matchLabels: { a: 'probe' } }, template: { metadata: { labels: { a: 'probe' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'probe', namespace: ns, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }] },
  ];
  for (let i = 0; i < 150; i++) {
    const codes = await Promise.all(probes.map((o) => tryCreate(o).then((r) => r.code)));
    if (codes.every((c) => c !== 0)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('policies never took effect');
});

after(async () => {
  if (!cp) return;
  for (const n of names) {
    await cp.kubectl(['delete', 'validatingadmissionpolicybinding', n, '--ignore-not-found']);
    await cp.kubectl(['delete', 'validatingadmissionpolicy', n, '--ignore-not-found']);
  }
  await cp.kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('kyverno pods rule: denies a pod mounting default\'s token, admits automount false', async () => {
  const bad = await tryCreate(pod('bad'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /default service account and would mount its token/);
  assert.equal((await tryCreate(pod('ok', { automountServiceAccountToken: false }))).code, 0);
});

test('kyverno templates rule: Deployment and CronJob', async () => {
  const d = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns, labels }, spec: { selector: { matchLabels: { a: name } }, template: { metadata: { labels: { a: name } }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } } } });
  const cj = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: ns, labels }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }], ...spec } } } } } });
  assert.notEqual((await tryCreate(d('bad', {}))).code, 0);
  assert.equal((await tryCreate(d('ok', { automountServiceAccountToken: false }))).code, 0);
  assert.notEqual((await tryCreate(cj('bad', {}))).code, 0);
  assert.equal((await tryCreate(cj('ok', { automountServiceAccountToken: false }))).code, 0);
});

test('kyverno bindings rule', async () => {
  const rb = (name: string, subjects: unknown[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: ns, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects });
  assert.notEqual((await tryCreate(rb('bad', [{ kind: 'ServiceAccount', name: 'default', namespace: ns }]))).code, 0);
  assert.notEqual((await tryCreate(rb('bad2', [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts' }]))).code, 0);
  assert.equal((await tryCreate(rb('ok', [{ kind: 'ServiceAccount', name: 'someone', namespace: ns }]))).code, 0);
});
