// The inventory builder: kinds and template paths, owner folding, ServiceAccounts, Secrets (metadata only),
// RBAC defaults (semantics §3.2, pkg/apis/rbac/v1/defaults.go) and field-type validation.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryBuilder, buildInventory, sourced } from '../../src/inventory/build.ts';
import { loadPodTemplateTable, PodTemplateTable } from '../../src/inventory/pod-templates.ts';
import type { KubeObject, SourcedObject } from '../../src/inventory/types.ts';
import { UserError } from '../../src/cli/exit-codes.ts';

const tpl = (spec: Record<string, unknown> = {}) => ({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c' }], ...spec } });
const obj = (apiVersion: string, kind: string, name: string, rest: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({ apiVersion, kind, metadata: { name, namespace: 'ns', ...meta }, ...rest });

describe('workload kinds and template paths', () => {
  test('every built-in kind, with CronJob at spec.jobTemplate.spec.template', () => {
    const inv = buildInventory(
      [
        obj('v1', 'Pod', 'p', { spec: tpl().spec }),
        obj('apps/v1', 'Deployment', 'd', { spec: { template: tpl() } }),
        obj('apps/v1', 'ReplicaSet', 'rs', { spec: { template: tpl() } }),
        obj('apps/v1', 'StatefulSet', 'ss', { spec: { template: tpl() } }),
        obj('apps/v1', 'DaemonSet', 'ds', { spec: { template: tpl() } }),
        obj('batch/v1', 'Job', 'j', { spec: { template: tpl() } }),
        obj('batch/v1', 'CronJob', 'cj', { spec: { jobTemplate: { spec: { template: tpl({ serviceAccountName: 'cron' }) } } } }),
        obj('v1', 'ReplicationController', 'rc', { spec: { template: tpl() } }),
      ].map((o) => sourced(o)),
    );
    assert.deepEqual(inv.workloads.map((w) => w.kind), ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']);
    const cj = inv.workloads.find((w) => w.kind === 'CronJob')!;
    assert.deepEqual(cj.templatePath, ['spec', 'jobTemplate', 'spec', 'template']);
    assert.equal(cj.template.spec.serviceAccountName, 'cron');
  });
  test('default custom resources: Argo Rollout, Knative Service, OpenKruise CloneSet', () => {
    const inv = buildInventory(
      [
        obj('argoproj.io/v1alpha1', 'Rollout', 'r', { spec: { template: tpl() } }),
        obj('serving.knative.dev/v1', 'Service', 'k', { spec: { template: tpl({ serviceAccountName: 'ksvc' }) } }),
        obj('apps.kruise.io/v1alpha1', 'CloneSet', 'cs', { spec: { template: tpl() } }),
        obj('v1', 'Service', 'plain-service', { spec: { ports: [] } }),
      ].map((o) => sourced(o)),
    );
    assert.deepEqual(inv.workloads.map((w) => `${w.kind}/${w.name}`), ['Rollout/r', 'Service/k', 'CloneSet/cs'], 'a core v1 Service is not a Knative Service');
    assert.equal(inv.workloads[1]!.template.spec.serviceAccountName, 'ksvc');
  });
  test('Argo Workflow: a pod spec synthesised from the steps', () => {
    const inv = buildInventory([
      sourced(obj('argoproj.io/v1alpha1', 'Workflow', 'wf', { spec: { serviceAccountName: 'wf-sa', automountServiceAccountToken: false, templates: [{ name: 'main', container: { image: 'x' } }, { name: 'steps', steps: [] }, { name: 'sh', script: { image: 'y', source: 'echo' } }] } })),
    ]);
    const w = inv.workloads[0]!;
    assert.equal(w.template.spec.serviceAccountName, 'wf-sa');
    assert.equal(w.template.spec.automountServiceAccountToken, false);
    assert.deepEqual(w.template.spec.containers?.map((c) => c.name), ['main', 'sh']);
  });
  test('--pod-templates file adds a kind and removes a default; bad files are usage errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ksa-pt-'));
    const file = join(dir, 'pt.yaml');
    writeFileSync(file, 'podTemplates:\n  - apiVersion: example.com/v1\n    kind: Runner\n    path: spec.pod\n  - group: argoproj.io\n    kind: Rollout\n    disabled: true\n');
    const table = loadPodTemplateTable(file);
    const inv = buildInventory([sourced(obj('example.com/v2', 'Runner', 'r', { spec: { pod: tpl() } })), sourced(obj('argoproj.io/v1alpha1', 'Rollout', 'ro', { spec: { template: tpl() } }))], { podTemplates: table });
    assert.deepEqual(inv.workloads.map((w) => w.kind), ['Runner'], 'any version of the group matches; the disabled default is gone');
    writeFileSync(file, 'podTemplates:\n  - kind: X\n    path: spec\n');
    assert.throws(() => loadPodTemplateTable(file), (e: unknown) => e instanceof UserError && /podTemplates\[0\]: give 'apiVersion' or 'group'/.test(e.message));
  });
});

describe('pods folded into the top owner of the same input', () => {
  test('Pod → ReplicaSet → Deployment, by uid and by kind/name', () => {
    const inv = buildInventory(
      [
        obj('v1', 'Pod', 'web-1-a', { spec: tpl().spec }, { uid: 'p1', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', uid: 'rs1', controller: true }] }),
        obj('v1', 'Pod', 'web-1-b', { spec: tpl().spec }, { ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', controller: true }] }),
        obj('apps/v1', 'ReplicaSet', 'web-1', { spec: { template: tpl() } }, { uid: 'rs1', ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'd1', controller: true }] }),
        obj('apps/v1', 'Deployment', 'web', { spec: { template: tpl() } }, { uid: 'd1' }),
      ].map((o) => sourced(o)),
    );
    assert.equal(inv.workloads.length, 1);
    assert.deepEqual(inv.workloads[0]!.pods, { count: 2, names: ['web-1-a', 'web-1-b'], uids: ['p1'] });
  });
  test('Job → CronJob chain; an owner from another namespace does not match', () => {
    const inv = buildInventory(
      [
        obj('batch/v1', 'CronJob', 'cj', { spec: { jobTemplate: { spec: { template: tpl() } } } }),
        obj('batch/v1', 'Job', 'cj-1', { spec: { template: tpl() } }, { ownerReferences: [{ kind: 'CronJob', name: 'cj' }] }),
        obj('v1', 'Pod', 'cj-1-x', { spec: tpl().spec }, { ownerReferences: [{ kind: 'Job', name: 'cj-1', controller: true }] }),
        { ...obj('v1', 'Pod', 'elsewhere', { spec: tpl().spec }, { ownerReferences: [{ kind: 'Job', name: 'cj-1' }] }), metadata: { name: 'elsewhere', namespace: 'other', ownerReferences: [{ kind: 'Job', name: 'cj-1' }] } },
      ].map((o) => sourced(o)),
    );
    assert.deepEqual(inv.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}:${w.pods.count}`), ['ns/CronJob/cj:1', 'other/Pod/elsewhere:1']);
    // A Pod nobody in the input owns reports itself (made at finish: Pods carry no list of their own before).
    assert.deepEqual(inv.workloads[1]!.pods, { count: 1, names: ['elsewhere'], uids: [] });
    assert.deepEqual(inv.workloads[0]!.pods.names, ['cj-1-x']);
    assert.deepEqual(inv.workloads[1]!.ownerReferences?.map((r) => r.name), ['cj-1'], 'an owner absent from the input stays declared');
  });
  test('a ReplicaSet printed after its Deployment (kubectl order) is linked, not built; its wrongly typed fields are still reported', () => {
    const owned = (name: string, template: Record<string, unknown>) =>
      obj('apps/v1', 'ReplicaSet', name, { spec: { template } }, { uid: `${name}-uid`, ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'd1', controller: true }] });
    const pod = (name: string, rs: string) => obj('v1', 'Pod', name, { spec: tpl().spec }, { uid: `${name}-uid`, ownerReferences: [{ kind: 'ReplicaSet', name: rs, uid: `${rs}-uid`, controller: true }] });
    const inv = buildInventory(
      [
        pod('web-1-a', 'web-1'),
        pod('web-2-a', 'web-2'),
        pod('web-3-a', 'web-3'),
        obj('apps/v1', 'Deployment', 'web', { spec: { template: tpl({ serviceAccountName: 'web' }) } }, { uid: 'd1' }),
        owned('web-1', tpl({ serviceAccountName: 'old' })),
        owned('web-2', tpl({ automountServiceAccountToken: 'no' })),
        owned('web-3', { metadata: [], spec: tpl().spec }),
      ].map((o) => sourced(o)),
    );
    assert.deepEqual(inv.workloads.map((w) => `${w.kind}/${w.name}:${w.pods.count}`), ['Deployment/web:3'], 'every ReplicaSet folded, its Pods counted at the top');
    assert.equal(inv.workloads[0]!.template.spec.serviceAccountName, 'web', 'the Deployment keeps its own template');
    assert.deepEqual(
      inv.problems.map((p) => p.message),
      ['ReplicaSet ns/web-2: spec.template.spec.automountServiceAccountToken must be a boolean (true or false), got string "no"', 'ReplicaSet ns/web-3: spec.template.metadata must be a mapping, got a list'],
      'the same problems as when every ReplicaSet is built',
    );
  });
});

describe('ServiceAccounts, Secrets, Namespaces, RBAC', () => {
  test('ServiceAccount automount, its spelling and line come from the reader', () => {
    const so: SourcedObject = {
      object: obj('v1', 'ServiceAccount', 'sa', { automountServiceAccountToken: false, secrets: [{ name: 's1' }], imagePullSecrets: [{ name: 'pull' }] }),
      location: { file: 'sa.yaml', line: 1 },
      lineOf: (p) => (p.join('.') === 'automountServiceAccountToken' ? 7 : undefined),
      sourceText: (p) => (p.join('.') === 'automountServiceAccountToken' ? 'no' : undefined),
    };
    const sa = buildInventory([so]).serviceAccounts.get('ns/sa')!;
    assert.equal(sa.automountServiceAccountToken, false);
    assert.equal(sa.automountSpelling, 'no');
    assert.equal(sa.location.line, 7);
    assert.deepEqual(sa.secrets, ['s1']);
    assert.deepEqual(sa.imagePullSecrets, ['pull']);
  });
  test('Secrets: token Secrets by metadata, other Secrets by type only; values are never kept', () => {
    const inv = buildInventory([
      sourced(obj('v1', 'Secret', 'tok', { type: 'kubernetes.io/service-account-token', data: { token: 'c2VjcmV0LXZhbHVl' } }, { annotations: { 'kubernetes.io/service-account.name': 'bot', 'kubernetes.io/service-account.uid': 'u' } })),
      sourced(obj('v1', 'Secret', 'creds', { stringData: { password: 'hunter2' } })),
    ]);
    assert.deepEqual(inv.tokenSecrets.get('ns/tok')?.serviceAccountName, 'bot');
    assert.deepEqual(inv.otherSecrets?.get('ns/creds'), { type: 'Opaque' });
    const dump = JSON.stringify({ ...inv, tokenSecrets: [...inv.tokenSecrets.values()], otherSecrets: [...inv.otherSecrets!.entries()] });
    assert.ok(!dump.includes('c2VjcmV0LXZhbHVl') && !dump.includes('hunter2'));
  });
  test('namespaces: declared and used; objects without one land in `default`', () => {
    const inv = buildInventory([sourced({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }), sourced({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x' } })]);
    assert.deepEqual([...inv.namespaces].sort(), ['default', 'team']);
    assert.equal(inv.namespaceObjects.get('team')?.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    assert.ok(inv.serviceAccounts.has('default/x'));
  });
  test('RBAC: v1 defaults for roleRef.apiGroup and subject apiGroup; cluster-scoped objects have no namespace', () => {
    const inv = buildInventory([
      sourced(obj('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rb', { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }, { kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }] })),
      sourced(obj('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'crb', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }] })),
      sourced(obj('rbac.authorization.k8s.io/v1beta1', 'ClusterRole', 'cr', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } })),
      sourced(obj('rbac.authorization.k8s.io/v1', 'Role', 'r', { rules: [{ apiGroups: [''], resources: ['secrets'], verbs: 'get' }, { apiGroups: [''], resources: ['pods'], verbs: ['list'] }] })),
    ]);
    const rb = inv.roleBindings[0]!;
    assert.equal(rb.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.deepEqual(rb.subjects.map((s) => s.apiGroup), ['', 'rbac.authorization.k8s.io', 'rbac.authorization.k8s.io']);
    assert.equal(rb.subjects[0]!.namespace, undefined, 'left for the RBAC engine: it means the binding namespace');
    assert.equal(inv.clusterRoleBindings[0]!.namespace, '');
    assert.equal(inv.clusterRoles[0]!.namespace, '');
    assert.deepEqual(inv.clusterRoles[0]!.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] });
    assert.deepEqual(inv.roles[0]!.rules, [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }], 'the rule with verbs as a string is dropped and reported');
    assert.equal(inv.problems.length, 1);
    assert.match(inv.problems[0]!.message, /Role ns\/r: rules\[0\]\.verbs must be a list of strings, got string "get"/);
  });
});

describe('field-type validation: a problem with file:line, the object skipped or unknown, never a crash', () => {
  const withLines = (o: KubeObject, lines: Record<string, number>): SourcedObject => ({ object: o, location: { file: 'bad.yaml', line: 1 }, lineOf: (p) => lines[p.join('.')] });
  test('spec as a list (checkov ServiceAccountTokensUNKNOWN): object skipped with one error', () => {
    const inv = buildInventory([withLines({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: [{ containers: [] }] }, { spec: 5 })]);
    assert.equal(inv.workloads.length, 0);
    assert.deepEqual(inv.problems, [{ file: 'bad.yaml', line: 5, message: 'Pod ns/p: spec must be a mapping (a pod spec), got a list', level: 'error' }]);
  });
  test('automount "yes" in JSON: error at the field line, workload kept with a type error', () => {
    const inv = buildInventory([withLines(obj('apps/v1', 'Deployment', 'd', { spec: { template: tpl({ automountServiceAccountToken: 'yes' }) } }), { 'spec.template.spec.automountServiceAccountToken': 12 })]);
    assert.equal(inv.problems[0]!.line, 12);
    assert.match(inv.problems[0]!.message, /automountServiceAccountToken must be a boolean \(true or false\), got string "yes"/);
    assert.deepEqual(inv.workloads[0]!.typeErrors, ['spec.template.spec.automountServiceAccountToken']);
  });
  test('a line falls back to the nearest ancestor the reader knows', () => {
    const inv = buildInventory([withLines(obj('apps/v1', 'Deployment', 'd', { spec: { template: tpl({ containers: [{ name: 'c', volumeMounts: 'x' }] }) } }), { 'spec.template.spec.containers.0': 20 })]);
    assert.equal(inv.problems[0]!.line, 20);
  });
  test('missing metadata.name: reported, ignored', () => {
    const inv = buildInventory([sourced({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: {} }, { file: 'x.yaml', line: 3 })]);
    assert.equal(inv.serviceAccounts.size, 0);
    assert.match(inv.problems[0]!.message, /metadata.name is missing/);
  });
});

describe('memory: only what the analyses read is kept', () => {
  test('volumes that cannot carry a token, and their mounts, are dropped; token-path mounts and kube-api-access names stay', () => {
    const inv = buildInventory([
      sourced(
        obj('v1', 'Pod', 'p', {
          spec: {
            containers: [{ name: 'c', volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }, { name: 'own', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }, { name: 'sec', mountPath: '/s' }, { name: 'tok', mountPath: '/t', readOnly: true }] }],
            volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'own', emptyDir: {} }, { name: 'sec', secret: { secretName: 's' } }, { name: 'tok', projected: { sources: [{ configMap: { name: 'kube-root-ca.crt' } }, { serviceAccountToken: { path: 't', audience: 'vault' } }] } }, { name: 'kube-api-access-cache', emptyDir: {} }],
            imagePullSecrets: [{ name: 'pull' }],
          },
        }),
      ),
    ]);
    const spec = inv.workloads[0]!.template.spec;
    assert.deepEqual(spec.volumes, [{ name: 'sec', secret: { secretName: 's' } }, { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }] } }, { name: 'kube-api-access-cache' }]);
    assert.deepEqual(spec.containers![0]!.volumeMounts!.map((m) => m.name), ['own', 'sec', 'tok']);
    assert.equal(spec.imagePullSecrets, undefined);
  });
  test('plain env values, commands, probes and last-applied annotations are dropped', () => {
    const inv = buildInventory([
      sourced(
        obj('apps/v1', 'Deployment', 'd', {
          spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":1}', keep: 'y' } }, spec: { containers: [{ name: 'c', image: 'i', command: ['sleep'], env: [{ name: 'PLAIN', value: 'v' }, { name: 'TOK', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } }], livenessProbe: { exec: {} } }] } } },
        }),
      ),
    ]);
    const c = inv.workloads[0]!.template.spec.containers![0]!;
    assert.deepEqual(Object.keys(c).sort(), ['env', 'name']);
    assert.deepEqual(c.env, [{ name: 'TOK', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } }]);
    assert.deepEqual(inv.workloads[0]!.template.metadata.annotations, { keep: 'y' });
  });
});

test('sink bookkeeping: documents, skipped kinds, wantsKind, pod records for jq-audit', () => {
  const b = new InventoryBuilder({ podTemplates: new PodTemplateTable() });
  b.document();
  b.object(sourced({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }));
  b.skipped('not a Kubernetes object');
  b.object(sourced({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { automountServiceAccountToken: false, containers: [] } }));
  const inv = b.finish();
  assert.equal(inv.documents, 1);
  assert.equal(inv.skipped.count, 2);
  assert.equal(b.wantsKind('ConfigMap'), false);
  assert.equal(b.wantsKind('Rollout'), true);
  assert.deepEqual(inv.podRecords, [{ namespace: null, name: 'p', serviceAccountName: null, automountFalse: true }]);
});

test('metadata.name or namespace of the wrong type: one error, object ignored', () => {
  const inv = buildInventory([sourced({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x', namespace: 5 as unknown as string } }, { file: 'm.yaml', line: 2 })]);
  assert.equal(inv.serviceAccounts.size, 0);
  assert.deepEqual(inv.problems.map((p) => p.message), ['ServiceAccount x: metadata.namespace must be a string, got number 5']);
});

test('read-back pods that differ only in names share one pruned spec (kube-api-access suffix normalised); Pod labels are not kept', () => {
  const admitted = (name: string, suffix: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', uid: name, creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'x', 'pod-template-hash': 'h' } },
    spec: { serviceAccountName: 'sa', containers: [{ name: 'c', image: `img:${suffix}`, volumeMounts: [{ name: `kube-api-access-${suffix}`, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }], volumes: [{ name: `kube-api-access-${suffix}`, projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }] },
  });
  const inv = buildInventory([sourced(admitted('a', 'bcdfg')), sourced(admitted('b', 'hjklm'))]);
  const [a, b] = inv.workloads;
  assert.equal(a!.template.spec, b!.template.spec, 'one shared object');
  assert.equal(a!.template.spec.volumes![0]!.name, 'kube-api-access-*');
  assert.deepEqual(a!.template.metadata, {});
  const manifestPod = buildInventory([sourced({ ...admitted('m', 'bcdfg'), metadata: { name: 'm', namespace: 'ns' } })]).workloads[0]!;
  assert.equal(manifestPod.template.spec.volumes![0]!.name, 'kube-api-access-bcdfg', 'pods yet to be created keep their own volume names (the reuse quirk)');
});

test('an ownership cycle in the input ends instead of looping; nothing is folded into itself', () => {
  const inv = buildInventory([
    sourced(obj('apps/v1', 'ReplicaSet', 'a', { spec: { template: tpl() } }, { ownerReferences: [{ kind: 'ReplicaSet', name: 'b', controller: true }] })),
    sourced(obj('apps/v1', 'ReplicaSet', 'b', { spec: { template: tpl() } }, { ownerReferences: [{ kind: 'ReplicaSet', name: 'a', controller: true }] })),
    sourced(obj('v1', 'Pod', 'p', { spec: tpl().spec }, { ownerReferences: [{ kind: 'ReplicaSet', name: 'a', controller: true }] })),
  ]);
  assert.ok(inv.workloads.length >= 1);
  assert.equal(inv.workloads.reduce((n, w) => n + w.pods.count, 0), 1, 'the pod is counted once');
});
