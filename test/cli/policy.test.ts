// `policy`: output shape per engine and mode, exemption label handling, usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { main } from '../../src/cli/main.ts';
import { captureCliIO } from '../helpers/cli-io.ts';

async function runPolicy(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureCliIO();
  const code = await main(['policy', ...args], { io: c.io });
  await new Promise((r) => setImmediate(r));
  return { code, out: c.out(), err: c.err() };
}

/** Parses as Kubernetes does (YAML 1.1: `yes`/`on` would be booleans). */
const docs = (text: string): any[] => parseAllDocuments(text, { version: '1.1' }).map((d: any) => d.toJS()).filter((x: unknown) => x);

test('vap (default): three policies with bindings, Deny, kube-system excluded', async () => {
  const r = await runPolicy([]);
  assert.equal(r.code, 0, r.err);
  const objs = docs(r.out);
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), [
    'ValidatingAdmissionPolicy/kube-sa-audit-default-sa-pods', 'ValidatingAdmissionPolicyBinding/kube-sa-audit-default-sa-pods',
    'ValidatingAdmissionPolicy/kube-sa-audit-default-sa-templates', 'ValidatingAdmissionPolicyBinding/kube-sa-audit-default-sa-templates',
    'ValidatingAdmissionPolicy/kube-sa-audit-sa-bindings', 'ValidatingAdmissionPolicyBinding/kube-sa-audit-sa-bindings',
  ]);
  for (const b of objs.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')) {
    assert.deepEqual(b.spec.validationActions, ['Deny']);
    assert.deepEqual(b.spec.matchResources.namespaceSelector.matchExpressions[0], { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] });
  }
  const rbac = objs.find((o) => o.metadata.name === 'kube-sa-audit-sa-bindings' && o.kind === 'ValidatingAdmissionPolicyBinding');
  assert.deepEqual(rbac.spec.matchResources.objectSelector.matchExpressions, [{ key: 'kubernetes.io/bootstrapping', operator: 'NotIn', values: ['rbac-defaults'] }]);
  assert.match(r.out, /^# .*\(paramKind ServiceAccount, paramRef/m, 'limitations documented in the output');
  const templates = objs.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name.endsWith('templates'));
  assert.deepEqual(templates.spec.paramRef, { name: 'default', parameterNotFoundAction: 'Allow' });
  const noParams = docs((await runPolicy(['--no-sa-params'])).out).find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name.endsWith('templates'));
  assert.equal(noParams.spec.paramRef, undefined);
});

test('--mode warn / audit set the binding actions', async () => {
  for (const [mode, action] of [['warn', 'Warn'], ['audit', 'Audit']] as const) {
    const objs = docs((await runPolicy(['--mode', mode])).out);
    for (const b of objs.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')) assert.deepEqual(b.spec.validationActions, [action]);
  }
});

test('--exempt-label on namespaces and objects; a value that YAML 1.1 would read as a boolean stays a string', async () => {
  const objs = docs((await runPolicy(['--exempt-label', 'security.example.com/token-exempt=yes'])).out);
  const b = objs.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
  assert.deepEqual(b.spec.matchResources.objectSelector.matchExpressions, [{ key: 'security.example.com/token-exempt', operator: 'NotIn', values: ['yes'] }]);
  assert.ok(b.spec.matchResources.namespaceSelector.matchExpressions.some((e: any) => e.key === 'security.example.com/token-exempt'));
  const keyOnly = docs((await runPolicy(['--exempt-label', 'exempt'])).out).find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
  assert.deepEqual(keyOnly.spec.matchResources.objectSelector.matchExpressions, [{ key: 'exempt', operator: 'DoesNotExist' }]);
});

test('kyverno: ClusterPolicies with CEL rules, Enforce in deny mode, Audit otherwise, autogen off', async () => {
  const deny = docs((await runPolicy(['--engine', 'kyverno'])).out);
  assert.deepEqual(deny.map((o) => o.kind), ['ClusterPolicy', 'ClusterPolicy']);
  assert.equal(deny[0].spec.validationFailureAction, 'Enforce');
  assert.equal(deny[0].metadata.annotations['pod-policies.kyverno.io/autogen-controllers'], 'none');
  assert.deepEqual(deny[0].spec.rules.map((r: any) => r.name), ['pods', 'templates']);
  assert.ok(deny[0].spec.rules[1].match.any[0].resources.kinds.includes('CronJob'));
  const audit = docs((await runPolicy(['--engine', 'kyverno', '--mode', 'audit', '--exempt-label', 'x=y'])).out);
  assert.equal(audit[0].spec.validationFailureAction, 'Audit');
  assert.ok(audit[0].spec.rules[0].exclude.any.some((a: any) => a.resources.selector?.matchExpressions?.[0]?.operator === 'In'));
});

test('gatekeeper: ConstraintTemplates with Rego and Constraints with the enforcement action', async () => {
  const objs = docs((await runPolicy(['--engine', 'gatekeeper', '--mode', 'warn'])).out);
  assert.deepEqual(objs.map((o) => o.kind), ['ConstraintTemplate', 'K8sSaAuditDefaultSaToken', 'ConstraintTemplate', 'K8sSaAuditSaBindings']);
  assert.match(objs[0].spec.targets[0].rego, /violation contains \{"msg": msg\} if/);
  assert.equal(objs[1].spec.enforcementAction, 'warn');
  assert.deepEqual(objs[1].spec.match.excludedNamespaces, ['kube-system']);
  assert.equal((await runPolicy(['--engine', 'gatekeeper', '--mode', 'audit'])).out.includes('enforcementAction: dryrun'), true);
});

test('-o json is a List', async () => {
  const j = JSON.parse((await runPolicy(['-o', 'json'])).out);
  assert.equal(j.kind, 'List');
  assert.equal(j.items.length, 6);
});

test('usage errors: exit 2 with one line', async () => {
  for (const args of [['--engine', 'opa'], ['--mode', 'block'], ['--exempt-label', 'bad key!'], ['--exempt-label', 'k=bad value'], ['--name-prefix', 'Bad_Prefix'], ['--nope']]) {
    const r = await runPolicy(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
});
