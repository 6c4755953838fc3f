// Conformance with the peer tools' own fixtures for automount / default-ServiceAccount checks
// (../shared/corpus/peer-fixtures, expectations.json). Peers disagree with each other on purpose
// (peer-tools.md "Cross-cutting findings"); where we disagree with one, the Kubernetes behaviour that
// justifies our answer is written next to the case, and the exact set is pinned so it cannot drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agreementByTool, compareAll, CHECKS, loadExpectations, type Comparison } from './peers.ts';

/** `tool | check | resource` → why our answer is the one the API server would give. */
const JUSTIFIED_DISAGREEMENTS: Record<string, string> = {
  'kube-linter | default-service-account | Deployment//app':
    'the pod template has no containers, so admission mounts the token into no container and adds no volume (semantics §1.5: "added only if at least one container received the mount"); kube-linter looks at the SA name only',
  'kube-linter | default-service-account | DeploymentConfig//app':
    'same as the Deployment: no containers, so no token is mounted (§1.5)',
  'kubeaudit | asat/AutomountServiceAccountTokenTrueAndDefaultSA | ReplicationController/service-account-token-nil-and-no-name-and-default-sa/replicationcontroller':
    'the `default` ServiceAccount in the file has no namespace (so it lives in `default`), while the RC runs in namespace service-account-token-nil-and-no-name-and-default-sa whose own `default` SA (created by the controller, automount unset) decides: admission looks up <pod namespace>/<name> (§1.2 step 3). kubeaudit matches the SA by name ignoring namespace (peer-tools.md regression #4)',
  'kubeaudit | asat/AutomountServiceAccountTokenTrueAndDefaultSA | ReplicationController/service-account-token-true-allowed/replicationcontroller':
    'the kubeaudit override label only silences kubeaudit; the pod template sets automountServiceAccountToken: true and uses the default SA, so the API server mounts the token (§1.4)',
  'trivy-checks | KSV036 | Pod/test/mypod':
    'the pod and the SA leave automount unset, so shouldAutomount defaults to true and admission mounts an API token (§1.4 step 3); KSV036 passes "unset" on manifests because it only sees an explicit true or a visible mount',
  'gatekeeper-library | K8sPSPAutomountServiceAccountTokenPod | Pod//nginx-automountserviceaccounttoken-update':
    'the fixture is an AdmissionReview envelope for a Pod UPDATE, not a manifest; admission mutates only on CREATE (§1.1), and we do not read AdmissionReview objects, so the Pod is not scanned (Gatekeeper passes it because it skips UPDATE)',
};

// Scanning every fixture takes a few seconds; both tests read the same comparison.
const comparison = compareAll();

const keyOf = (c: Comparison): string => `${c.tool} | ${c.check} | ${c.resource}`;

test('peer fixtures: agreement per tool, and every disagreement is a pinned, justified one', async (t) => {
  const rows = await comparison;
  assert.equal(rows.length, loadExpectations().length, 'every expectation row was compared');
  // Every mapped check has at least one fixture row (the comparison is not vacuous).
  for (const check of Object.keys(CHECKS)) assert.ok(rows.some((r) => `${r.tool} ${r.check}` === check), `fixtures for ${check}`);
  const agreement = agreementByTool(rows);
  for (const [check, a] of Object.entries(agreement)) t.diagnostic(`${check}: ${a.agree}/${a.total} agree`);
  const disagreements = rows.filter((r) => r.ours !== r.expected);
  for (const d of disagreements) t.diagnostic(`DISAGREE ${keyOf(d)}: peer ${d.expected}, ours ${d.ours}: ${JUSTIFIED_DISAGREEMENTS[keyOf(d)] ?? '(unjustified)'}`);
  assert.deepEqual(disagreements.map(keyOf).sort(), Object.keys(JUSTIFIED_DISAGREEMENTS).sort());
  const total = rows.length;
  const agreed = rows.length - disagreements.length;
  t.diagnostic(`overall: ${agreed}/${total} agree`);
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8');
  assert.ok(readme.includes(`${agreed} of ${total} cases`), 'README "Compared with other tools" states the current agreement');
});

test('peer fixtures: the precedence cases every tool gets wrong somewhere are right here', async () => {
  const rows = await comparison;
  const kubescape = rows.filter((r) => r.tool === 'kubescape-regolibrary' && r.check === 'automount-service-account');
  // pod true + SA false → mounted; pod false + SA true → not mounted (shouldAutomount: the pod wins, §1.4).
  const byCase = (dir: string) => kubescape.find((r) => r.case_dir?.endsWith(dir));
  assert.equal(byCase('deployment-pod-true-sa-false')?.ours, 'fail');
  assert.equal(byCase('deployment-pod-false-sa-true')?.ours, 'pass');
  assert.equal(byCase('cronjob-pod-true-sa-false')?.ours, 'fail', 'batch/v1 CronJob templates are resolved');
  const polaris = rows.filter((r) => r.tool === 'polaris');
  assert.equal(polaris.find((r) => r.file.endsWith('failure.pod_true_serviceaccount_false.yaml'))?.ours, 'fail');
  assert.equal(polaris.find((r) => r.file.endsWith('success.pod_false_serviceaccount_true.yaml'))?.ours, 'pass');
});
