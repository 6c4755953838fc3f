// The fix plan, rule by rule; each rule has a workload that must NOT be touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFix, renderPlan, type FixPlan } from '../../src/remedy/plan.ts';
import type { Inventory, ServiceAccount, Workload, RbacBinding } from '../../src/inventory/types.ts';
import type { WorkloadReport, NeedVerdict, TokenSource } from '../../src/analysis/types.ts';

interface W { name: string; sa?: string; need: NeedVerdict; pod?: boolean; ns?: string; kind?: string; extra?: TokenSource[] }

function world(ws: W[], sas: { name: string; ns?: string; automount?: boolean }[] = [], bindings: RbacBinding[] = []): { inv: Inventory; reports: WorkloadReport[] } {
  const serviceAccounts = new Map<string, ServiceAccount>();
  for (const s of sas) {
    const ns = s.ns ?? 'app';
    serviceAccounts.set(`${ns}/${s.name}`, { namespace: ns, name: s.name, automountServiceAccountToken: s.automount, secrets: [], imagePullSecrets: [], labels: {}, annotations: {}, location: { file: 'sa.yaml', line: 1, document: 0 } });
  }
  const workloads: Workload[] = [];
  const reports: WorkloadReport[] = [];
  ws.forEach((w, i) => {
    const ns = w.ns ?? 'app';
    const sa = w.sa ?? 'default';
    const saObj = serviceAccounts.get(`${ns}/${sa}`);
    const effective = w.pod ?? saObj?.automountServiceAccountToken ?? true;
    const kind = w.kind ?? 'Deployment';
    const location = { file: `${w.name}.yaml`, line: 1, document: 0 };
    workloads.push({ kind, apiVersion: 'apps/v1', namespace: ns, name: w.name, location, template: { metadata: {}, spec: { serviceAccountName: sa, automountServiceAccountToken: w.pod } }, templatePath: kind === 'Pod' ? [] : ['spec', 'template'], pods: { count: 1, names: [], uids: [] }, alreadyAdmitted: false });
    reports.push({
      kind, apiVersion: 'apps/v1', namespace: ns, name: w.name, serviceAccount: sa,
      serviceAccountStatus: saObj ? 'present' : sa === 'default' ? 'builtin-default' : 'missing',
      location, pods: 1,
      token: {
        mounted: effective, apiAccess: effective, containers: ['c'],
        sources: [...(effective ? [{ kind: 'automount' as const, apiAudience: true as const, containers: ['c'], detail: '' }] : []), ...(w.extra ?? [])],
        automount: { effective, decidedBy: w.pod !== undefined ? 'pod' : saObj?.automountServiceAccountToken !== undefined ? 'serviceaccount' : 'default', podValue: w.pod, serviceAccountValue: saObj?.automountServiceAccountToken },
        reason: '', needed: w.need, neededReason: w.need === 'no' ? 'only default permissions' : w.need === 'yes' ? 'audit log shows API calls' : 'has permissions, no evidence',
      },
    });
    void i;
  });
  const inv: Inventory = {
    namespaces: new Set(['app']), namespaceObjects: new Map(), serviceAccounts, workloads, tokenSecrets: new Map(), roles: [], clusterRoles: [],
    roleBindings: bindings.filter((b) => b.kind === 'RoleBinding'), clusterRoleBindings: bindings.filter((b) => b.kind === 'ClusterRoleBinding'),
    skipped: { count: 0, byReason: {} }, problems: [], origin: 'manifests', gaps: [], completeServiceAccounts: false,
  };
  return { inv, reports };
}

const stepsFor = (plan: FixPlan, name: string) => plan.steps.filter((s) => ('workload' in s && s.workload.name === name) || (s.kind === 'create-sa' && s.forWorkload.name === name));
const saSteps = (plan: FixPlan) => plan.steps.filter((s) => s.kind === 'sa-automount');
const promised = (plan: FixPlan, name: string) => plan.promised.find((p) => p.workload.name === name)?.automount;

test('no workload on the SA needs a token: off on the SA, nothing on the pods', () => {
  const { inv, reports } = world([{ name: 'web', sa: 'web', need: 'no' }, { name: 'web2', sa: 'web', need: 'no' }], [{ name: 'web' }]);
  const plan = planFix(inv, reports);
  assert.equal(plan.steps.length, 1);
  const s = saSteps(plan)[0]!;
  assert.equal(s.kind, 'sa-automount');
  assert.equal(s.serviceAccount.name, 'web');
  assert.equal(s.create, false);
  assert.match(s.reason, /no workload using app\/web needs its token/);
  assert.equal(promised(plan, 'web'), false);
  // Running pods keep the token until restarted: the SA change does not roll them.
  assert.deepEqual(plan.restart.map((r) => r.name).sort(), ['web', 'web2']);
});

test('default SA missing from the input: a manifest for it is created', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }]);
  const plan = planFix(inv, reports);
  const s = saSteps(plan)[0]!;
  assert.ok(s.kind === 'sa-automount' && s.create && s.serviceAccount.name === 'default' && s.nextTo.name === 'web');
});

test('a non-default SA missing from the input: per-pod instead (cannot edit what is not there)', () => {
  const { inv, reports } = world([{ name: 'dns', sa: 'external-dns', need: 'no' }]);
  const plan = planFix(inv, reports);
  assert.equal(saSteps(plan).length, 0);
  const [s] = stepsFor(plan, 'dns');
  assert.ok(s && s.kind === 'pod-automount' && s.value === false);
  assert.match(s.reason, /not in the input/);
});

test('shared SA, some need it: off on the SA, explicit opt-in for the ones that need it (kubeaudit bug avoided)', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator', need: 'yes' }, { name: 'batch', need: 'no', pod: false }], [{ name: 'default' }]);
  const plan = planFix(inv, reports);
  assert.equal(saSteps(plan).length, 1);
  const op = stepsFor(plan, 'operator');
  assert.equal(op.length, 1);
  assert.ok(op[0]!.kind === 'pod-automount' && op[0]!.value === true && op[0]!.before === undefined);
  assert.equal(promised(plan, 'operator'), true, 'the workload that needs the API keeps its token');
  assert.equal(promised(plan, 'web'), false);
  // Must not be touched: `batch` already has automount off itself.
  assert.equal(stepsFor(plan, 'batch').length, 0);
  assert.deepEqual(plan.restart.map((r) => r.name), ['web']);
});

test('a workload that needs the token and already opts in is not touched', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator', need: 'yes', pod: true }], [{ name: 'default' }]);
  const plan = planFix(inv, reports);
  assert.equal(stepsFor(plan, 'operator').length, 0);
  assert.equal(promised(plan, 'operator'), true);
});

test('need unknown is never changed without --include-unknown; the SA is not flipped under it', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'controller', need: 'unknown' }], [{ name: 'default' }]);
  const plan = planFix(inv, reports);
  assert.equal(saSteps(plan).length, 0, 'flipping default would take the unknown workload\'s token');
  assert.equal(stepsFor(plan, 'controller').length, 0);
  const [web] = stepsFor(plan, 'web');
  assert.ok(web && web.kind === 'pod-automount' && web.value === false);
  assert.match(web.reason, /per pod because .*controller.*would lose its token/);
  assert.ok(plan.untouched.some((n) => n.workload?.name === 'controller' && /never changed without --include-unknown/.test(n.reason)));
  assert.equal(promised(plan, 'controller'), true);
  assert.match(renderPlan(plan), /Not changed:\n- Deployment app\/controller: need unknown/);
});

test('need unknown with --include-unknown: treated as not needed', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'controller', need: 'unknown' }], [{ name: 'default' }]);
  const plan = planFix(inv, reports, { includeUnknown: true });
  assert.equal(saSteps(plan).length, 1);
  assert.equal(promised(plan, 'controller'), false);
});

test('an unknown workload that sets automount itself does not hold the SA back', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'controller', need: 'unknown', pod: true }], [{ name: 'default' }]);
  const plan = planFix(inv, reports);
  assert.equal(saSteps(plan).length, 1);
  assert.equal(stepsFor(plan, 'controller').length, 0);
  assert.equal(promised(plan, 'controller'), true);
});

test('--level pod: off per pod template of the ones that do not need it, SA untouched', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator', need: 'yes' }], [{ name: 'default' }]);
  const plan = planFix(inv, reports, { level: 'pod' });
  assert.equal(saSteps(plan).length, 0);
  assert.equal(stepsFor(plan, 'operator').length, 0, 'the one that needs it is not touched');
  const [web] = stepsFor(plan, 'web');
  assert.ok(web && web.kind === 'pod-automount' && web.value === false);
  assert.deepEqual(plan.restart, [], 'a Deployment template change rolls its pods');
});

test('a workload that does not need it but opts in explicitly is turned off too', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no', pod: true }], [{ name: 'default' }]);
  const plan = planFix(inv, reports);
  const [web] = stepsFor(plan, 'web');
  assert.ok(web && web.kind === 'pod-automount' && web.value === false && web.before === true);
  assert.equal(promised(plan, 'web'), false);
});

test('SA already off: nothing to do (idempotent), pods that need it keep their opt-in', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator', need: 'yes', pod: true }], [{ name: 'default', automount: false }]);
  const plan = planFix(inv, reports);
  assert.deepEqual(plan.steps, []);
  assert.match(renderPlan(plan), /Nothing to change/);
});

test('a token from a projected volume is left for a person, with the reason', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no', extra: [{ kind: 'projected', volume: 'tok', apiAudience: true, containers: ['c'], detail: '' }] }], [{ name: 'default' }]);
  const plan = planFix(inv, reports);
  assert.ok(plan.manual.some((n) => n.workload?.name === 'web' && /projected volume tok/.test(n.reason)));
});

test('--dedicated-sa: a workload on default that needs the API moves to its own SA with copies of the bindings', () => {
  const binding: RbacBinding = { kind: 'RoleBinding', namespace: 'app', name: 'default-edit', roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'app' }], labels: {}, annotations: {}, location: { file: 'rbac.yaml', line: 1 }, builtin: false };
  const other: RbacBinding = { ...binding, name: 'other', subjects: [{ kind: 'ServiceAccount', name: 'someone', namespace: 'app' }] };
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator', need: 'yes' }], [{ name: 'default' }], [binding, other]);
  const plan = planFix(inv, reports, { dedicatedSa: true });
  const kinds = plan.steps.map((s) => s.kind);
  assert.deepEqual(kinds, ['create-sa', 'copy-binding', 'set-service-account', 'remove-binding-subject', 'sa-automount']);
  const copy = plan.steps[1]!;
  assert.ok(copy.kind === 'copy-binding');
  assert.deepEqual(copy.object.subjects, [{ kind: 'ServiceAccount', name: 'operator', namespace: 'app' }]);
  assert.deepEqual((copy.object as any).roleRef, binding.roleRef);
  // With the operator gone from default, nobody on default needs a token: plain off, no opt-in steps.
  assert.equal(stepsFor(plan, 'operator').filter((s) => s.kind === 'pod-automount').length, 0);
  assert.equal(promised(plan, 'operator'), true);
  assert.equal(promised(plan, 'web'), false);
  // Nobody left on default needs the grant: default leaves the original binding (moved, not only copied).
  const moved = plan.steps[3]!;
  assert.ok(moved.kind === 'remove-binding-subject' && moved.binding.name === 'default-edit' && moved.after.length === 0);
  // The binding that does not name default is untouched.
  assert.ok(!plan.steps.some((s) => s.kind === 'remove-binding-subject' && s.binding.name === 'other'));
  // When a workload left on default may still need it (need unknown), the grant is only copied, with a note.
  const { inv: inv2, reports: reports2 } = world([{ name: 'operator', need: 'yes' }, { name: 'legacy', need: 'unknown' }], [{ name: 'default' }], [binding]);
  inv2.workloads[1]!.ownerReferences = [{ kind: 'Tenant', name: 't', controller: true }]; // cannot be moved
  const plan2 = planFix(inv2, reports2, { dedicatedSa: true });
  assert.ok(!plan2.steps.some((s) => s.kind === 'remove-binding-subject'));
  assert.ok(plan2.manual.some((n) => /bindings still grant app\/default/.test(n.reason)));
  // Without the flag nothing moves.
  assert.ok(!planFix(inv, reports).steps.some((s) => s.kind === 'create-sa'));
});

test('--dedicated-sa picks a free name', () => {
  const { inv, reports } = world([{ name: 'operator', need: 'yes' }, { name: 'web', need: 'no' }], [{ name: 'default' }, { name: 'operator' }]);
  const plan = planFix(inv, reports, { dedicatedSa: true });
  const c = plan.steps.find((s) => s.kind === 'create-sa');
  assert.ok(c && c.kind === 'create-sa' && c.serviceAccount.name === 'operator-sa');
});

test('workloads in other namespaces are separate groups', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no', ns: 'a' }, { name: 'op', need: 'yes', ns: 'b' }], [{ name: 'default', ns: 'a' }, { name: 'default', ns: 'b' }]);
  const plan = planFix(inv, reports);
  assert.equal(saSteps(plan).length, 1);
  assert.equal(saSteps(plan)[0]!.kind === 'sa-automount' && saSteps(plan)[0]!.serviceAccount.namespace, 'a');
  assert.equal(stepsFor(plan, 'op').length, 0, 'namespace b is not touched');
});

test('every step names its reason', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator', need: 'yes' }, { name: 'x', sa: 'gone', need: 'no' }], [{ name: 'default' }]);
  for (const s of planFix(inv, reports, { dedicatedSa: true }).steps) assert.ok(s.reason.length > 20, `${s.kind} has a reason`);
});

test('a workload managed by a controller outside the input is never edited; the SA is not flipped under it when it needs the token', () => {
  const { inv, reports } = world([{ name: 'web', need: 'no' }, { name: 'operator-managed', need: 'yes' }], [{ name: 'default' }]);
  inv.workloads[1]!.ownerReferences = [{ kind: 'Prometheus', name: 'k8s', controller: true }];
  const plan = planFix(inv, reports);
  assert.equal(saSteps(plan).length, 0, 'flipping the SA would take the token of a workload that cannot opt in');
  assert.equal(stepsFor(plan, 'operator-managed').length, 0);
  assert.equal(promised(plan, 'operator-managed'), true);
  const [web] = stepsFor(plan, 'web');
  assert.ok(web && web.kind === 'pod-automount' && web.value === false && /cannot opt in \(it is managed by Prometheus k8s/.test(web.reason));
});

test('a managed workload that does not need its token goes to the manual list when only a template edit would help', () => {
  const { inv, reports } = world([{ name: 'managed', need: 'no' }], [{ name: 'default' }]);
  inv.workloads[0]!.ownerReferences = [{ kind: 'Tenant', name: 't1', controller: true }];
  const plan = planFix(inv, reports, { level: 'pod' });
  assert.deepEqual(plan.steps, []);
  assert.ok(plan.manual.some((n) => n.workload?.name === 'managed' && /managed by Tenant t1/.test(n.reason)));
  assert.equal(promised(plan, 'managed'), true, 'nothing promised that the tool cannot do');
  // At SA level the SA change alone removes it: no template edit needed.
  const sa = planFix(inv, reports);
  assert.equal(saSteps(sa).length, 1);
  assert.equal(promised(sa, 'managed'), false);
});
