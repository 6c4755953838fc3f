import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podNameMatchesWorkload as matches, WorkloadIndex, hasKnownPodNaming } from '../../src/evidence/attribution.ts';

test('generated pod names per controller', () => {
  const cases: [string, string, string, boolean][] = [
    ['Deployment', 'web', 'web-7d9f8b6c4d-x2b4z', true],
    ['Deployment', 'web', 'web-api-7d9f8b6c4d-x2b4z', false],
    ['Deployment', 'web-api', 'web-api-7d9f8b6c4d-x2b4z', true],
    ['Deployment', 'web', 'web-x2b4z', false], // DaemonSet/ReplicaSet shape, no pod-template-hash
    ['Deployment', 'web', 'web-7d9f8b6c4d-x2b4a', false], // 'a' is not in utilrand's alphabet
    ['ReplicaSet', 'web-7d9f8b6c4d', 'web-7d9f8b6c4d-x2b4z', true],
    ['DaemonSet', 'agent', 'agent-x2b4z', true],
    ['DaemonSet', 'agent', 'agent-7d9f8-x2b4z', false],
    ['StatefulSet', 'db', 'db-0', true],
    ['StatefulSet', 'db', 'db-12', true],
    ['StatefulSet', 'db', 'db-01', false],
    ['StatefulSet', 'db', 'db-replica-0', false],
    ['Job', 'migrate', 'migrate-x2b4z', true],
    ['Job', 'migrate', 'migrate-3-x2b4z', true], // Indexed Job
    ['CronJob', 'backup', 'backup-29412345-x2b4z', true],
    ['CronJob', 'backup', 'backup-x2b4z', false],
    ['ReplicationController', 'rc', 'rc-x2b4z', true],
    ['Pod', 'solo', 'solo', true],
    ['Pod', 'solo', 'solo-x2b4z', false],
    // generateName cut to 58 characters (names.SimpleNameGenerator)
    ['Deployment', 'a'.repeat(60), 'a'.repeat(58) + 'x2b4z', true],
    ['Deployment', 'a'.repeat(50), 'a'.repeat(50) + '-7d9f8b6' + 'x2b4z', true],
    ['Deployment', 'a'.repeat(50), 'a'.repeat(50) + '-7a9f8b6' + 'x2b4z', false],
    ['DaemonSet', 'd'.repeat(57), 'd'.repeat(57) + '-' + 'x2b4z', true],
    // custom kinds: Deployment-like (Argo Rollouts) or ReplicaSet-like
    ['Rollout', 'canary', 'canary-6f7b8c9d5-x2b4z', true],
  ];
  for (const [kind, name, pod, want] of cases) assert.equal(matches(kind, name, pod), want, `${kind} ${name} ← ${pod}`);
  assert.equal(hasKnownPodNaming('CronJob'), true);
  assert.equal(hasKnownPodNaming('Rollout'), false);
});

test('index: uid, then input pod name, then generated names among the SA\'s workloads in its namespace only', () => {
  const idx = new WorkloadIndex([
    { kind: 'Deployment', namespace: 'a', name: 'web', serviceAccount: 'web', pods: { names: ['web-old-pod'], uids: ['uid-1'] } },
    { kind: 'Deployment', namespace: 'b', name: 'web', serviceAccount: 'web', pods: { names: [], uids: [] } },
    { kind: 'Deployment', namespace: 'a', name: 'other', serviceAccount: 'other', pods: { names: [], uids: [] } },
    { kind: 'DaemonSet', namespace: 'a', name: 'x', serviceAccount: 'shared', pods: { names: [], uids: [] } },
    { kind: 'Job', namespace: 'a', name: 'x', serviceAccount: 'shared', pods: { names: [], uids: [] } },
    { kind: 'CronJob', namespace: 'a', name: 'backup', serviceAccount: 'bk', pods: { names: [], uids: [] } },
    { kind: 'Job', namespace: 'a', name: 'backup-29412345', serviceAccount: 'bk', pods: { names: [], uids: [] } },
  ]);
  assert.deepEqual(idx.match('a', 'bk', 'backup-29412345-x2b4z', 'u'), { workload: 6, how: 'generated-name' }, 'the Job, not its CronJob');
  assert.deepEqual(idx.match('a', 'bk', 'backup-29412399-x2b4z', 'u'), { workload: 5, how: 'generated-name' }, 'a Job not in the input: its CronJob');
  assert.deepEqual(idx.match('a', 'web', 'whatever', 'uid-1'), { workload: 0, how: 'pod-uid' });
  assert.deepEqual(idx.match('a', 'web', 'web-old-pod', 'uid-new'), { workload: 0, how: 'pod-name' });
  assert.deepEqual(idx.match('a', 'web', 'web-7d9f8b6c4d-x2b4z', 'u'), { workload: 0, how: 'generated-name' });
  assert.deepEqual(idx.match('b', 'web', 'web-7d9f8b6c4d-x2b4z', 'u'), { workload: 1, how: 'generated-name' });
  assert.deepEqual(idx.match('a', 'other', 'web-7d9f8b6c4d-x2b4z', 'u'), { how: 'none' }, 'only workloads that use the SA');
  assert.deepEqual(idx.match('a', 'shared', 'x-x2b4z', 'u'), { how: 'ambiguous', candidates: [3, 4] });
  assert.deepEqual(idx.usersOf('a', 'shared'), [3, 4]);
});
