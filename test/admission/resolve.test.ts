// The ServiceAccount admission model, one test per rule, each naming the Kubernetes behaviour it follows
// (kubernetes-semantics.md section; upstream plugin/pkg/admission/serviceaccount/admission.go unless noted).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildInventory, sourced } from '../../src/inventory/build.ts';
import { resolveWorkloadToken, SA_TOKEN_MOUNT_PATH, effectiveServiceAccount, isApiAudience } from '../../src/admission/index.ts';
import type { Inventory, KubeObject, Workload } from '../../src/inventory/types.ts';
import type { TokenVerdict } from '../../src/analysis/types.ts';

const NS = 'app-ns';

function sa(name: string, automount?: boolean, ns = NS): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns }, ...(automount !== undefined ? { automountServiceAccountToken: automount } : {}) };
}
function deployment(name: string, spec: Record<string, unknown>, ns = NS): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns }, spec: { template: { metadata: {}, spec: { containers: [{ name: 'app' }], ...spec } } } };
}
function pod(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}, ns = NS): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, ...meta }, spec: { containers: [{ name: 'app' }], ...spec } };
}
function tokenSecret(name: string, saName: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name, namespace: NS, labels, annotations: { 'kubernetes.io/service-account.name': saName } } };
}

function resolve(objects: KubeObject[], opts: { complete?: boolean; name?: string } = {}): { v: TokenVerdict; w: Workload; inv: Inventory } {
  const inv = buildInventory(objects.map((o, i) => sourced(o, { file: 'test.yaml', line: i + 1 })));
  inv.completeServiceAccounts = opts.complete ?? false;
  const w = opts.name ? inv.workloads.find((x) => x.name === opts.name)! : inv.workloads[0]!;
  assert.ok(w, 'workload present');
  return { v: resolveWorkloadToken(w, inv), w, inv };
}

describe('effective ServiceAccount (§1.2 step 2, §1.3 conversion.go Convert_v1_PodSpec_To_core_PodSpec)', () => {
  test('serviceAccountName is used', () => {
    const { w } = resolve([deployment('d', { serviceAccountName: 'x' })]);
    assert.deepEqual(effectiveServiceAccount(w), { name: 'x', from: 'serviceAccountName' });
  });
  test('the deprecated serviceAccount alias is used when serviceAccountName is empty', () => {
    const { w } = resolve([deployment('d', { serviceAccount: 'legacy' })]);
    assert.deepEqual(effectiveServiceAccount(w), { name: 'legacy', from: 'serviceAccount' });
  });
  test('serviceAccountName wins when both are set', () => {
    const { w } = resolve([deployment('d', { serviceAccountName: 'new', serviceAccount: 'old' })]);
    assert.equal(effectiveServiceAccount(w).name, 'new');
  });
  test('neither set (or empty strings) → default (DefaultServiceAccountName)', () => {
    assert.equal(effectiveServiceAccount(resolve([deployment('d', {})]).w).name, 'default');
    assert.equal(effectiveServiceAccount(resolve([deployment('d', { serviceAccountName: '', serviceAccount: '' })]).w).name, 'default');
  });
});

describe('ServiceAccount lookup (§1.2 step 3)', () => {
  test('`default` not in the input behaves as the controller creates it: automount unset → token', () => {
    const { v } = resolve([deployment('d', {})]);
    assert.equal(v.mounted, true);
    assert.equal(v.apiAccess, true);
    assert.equal(v.automount.decidedBy, 'default');
    assert.match(v.reason, /not in the input; the cluster creates it/);
  });
  test('each namespace has its own `default`: another namespace\'s default=false does not apply (peer regression #4)', () => {
    const { v } = resolve([deployment('d', {}), sa('default', false, 'other-ns')]);
    assert.equal(v.mounted, true);
  });
  test('a missing non-default ServiceAccount gives unknown, never a silent pass', () => {
    const { v } = resolve([deployment('d', { serviceAccountName: 'ghost' })]);
    assert.equal(v.mounted, 'unknown');
    assert.equal(v.apiAccess, 'unknown');
    assert.equal(v.automount.effective, 'unknown');
    assert.match(v.reason, /ghost is not in the input/);
  });
  test('a missing ServiceAccount does not matter when the pod decides (pod value wins, §1.4)', () => {
    assert.equal(resolve([deployment('d', { serviceAccountName: 'ghost', automountServiceAccountToken: false })]).v.mounted, false);
    assert.equal(resolve([deployment('d', { serviceAccountName: 'ghost', automountServiceAccountToken: true })]).v.mounted, true);
  });
  test('with a complete ServiceAccount list, a missing one means the API server rejects the pod', () => {
    const { v } = resolve([deployment('d', { serviceAccountName: 'ghost' })], { complete: true });
    assert.equal(v.mounted, false);
    assert.match(v.reason, /rejects the pod \("error looking up service account app-ns\/ghost"\)/);
  });
});

describe('shouldAutomount precedence: pod > ServiceAccount > true (§1.4)', () => {
  const cases: [string, boolean | undefined, boolean | undefined, boolean, string][] = [
    ['pod false beats SA true', false, true, false, 'pod'],
    ['pod true beats SA false (Sonar S6865 gets this wrong)', true, false, true, 'pod'],
    ['SA false applies when the pod is unset', undefined, false, false, 'serviceaccount'],
    ['SA true applies when the pod is unset', undefined, true, true, 'serviceaccount'],
    ['both unset → true ("default to true for backwards compatibility")', undefined, undefined, true, 'default'],
    ['SA unset + pod false → not mounted (kube-bench 5.1.6 gets this wrong)', false, undefined, false, 'pod'],
  ];
  for (const [title, podValue, saValue, mounted, decidedBy] of cases) {
    test(title, () => {
      const spec: Record<string, unknown> = { serviceAccountName: 'runner' };
      if (podValue !== undefined) spec.automountServiceAccountToken = podValue;
      const { v } = resolve([deployment('d', spec), sa('runner', saValue)]);
      assert.equal(v.mounted, mounted);
      assert.equal(v.automount.decidedBy, decidedBy);
      if (podValue !== undefined) assert.equal(v.automount.podValue, podValue);
      if (saValue !== undefined) assert.equal(v.automount.serviceAccountValue, saValue);
    });
  }
  test('the decision records where each setting is (file and line)', () => {
    const { v } = resolve([sa('runner', false), deployment('d', { serviceAccountName: 'runner', automountServiceAccountToken: true })], { name: 'd' });
    assert.equal(v.automount.serviceAccountLocation?.line, 1);
    assert.equal(v.automount.podLocation?.file, 'test.yaml');
  });
});

describe('mirror pods are never mutated (§1.7)', () => {
  test('no token even though automount would be on', () => {
    const { v } = resolve([pod('static', {}, { annotations: { 'kubernetes.io/config.mirror': 'abc' } })]);
    assert.equal(v.mounted, false);
    assert.match(v.reason, /mirror/);
  });
  test('a mirror pod that names a ServiceAccount would be rejected: said so', () => {
    const { v } = resolve([pod('static', { serviceAccountName: 'x' }, { annotations: { 'kubernetes.io/config.mirror': 'abc' } })]);
    assert.equal(v.mounted, false);
    assert.match(v.reason, /rejects a mirror pod/);
  });
});

describe('which containers get the injected mount (§1.5 mountServiceAccountToken)', () => {
  test('init containers (incl. sidecars) first, then containers', () => {
    const { v } = resolve([
      deployment('d', {
        initContainers: [{ name: 'init' }, { name: 'sidecar', restartPolicy: 'Always' }],
        containers: [{ name: 'a' }, { name: 'b' }],
      }),
    ]);
    assert.deepEqual(v.containers, ['init', 'sidecar', 'a', 'b']);
    assert.equal(v.sources[0]?.kind, 'automount');
    assert.equal(v.sources[0]?.expirationSeconds, 3607);
    assert.deepEqual(v.sources[0]?.audiences, []);
  });
  test('ephemeral containers never get it', () => {
    const { v } = resolve([pod('p', { ephemeralContainers: [{ name: 'debug' }] })]);
    assert.deepEqual(v.containers, ['app']);
  });
  test('a container already mounting something at the token path is skipped (exact string compare)', () => {
    const { v } = resolve([
      deployment('d', {
        containers: [
          { name: 'own', volumeMounts: [{ name: 'x', mountPath: SA_TOKEN_MOUNT_PATH }] },
          { name: 'trailing-slash', volumeMounts: [{ name: 'x', mountPath: SA_TOKEN_MOUNT_PATH + '/' }] },
          { name: 'plain' },
        ],
        volumes: [{ name: 'x', emptyDir: {} }],
      }),
    ]);
    assert.deepEqual(v.containers, ['trailing-slash', 'plain'], 'the trailing-slash path is not normalised, so that container still gets the token');
    assert.match(v.reason, /own already mounts something/);
  });
  test('the volume is added only if some container received the mount: every container overriding → no token', () => {
    const { v } = resolve([deployment('d', { containers: [{ name: 'own', volumeMounts: [{ name: 'x', mountPath: SA_TOKEN_MOUNT_PATH }] }], volumes: [{ name: 'x', emptyDir: {} }] })]);
    assert.equal(v.mounted, false);
    assert.match(v.reason, /adds no volume/);
  });
  test('no containers at all → no token', () => {
    const { v } = resolve([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: NS }, spec: { template: { spec: {} } } }]);
    assert.equal(v.mounted, false);
  });
});

describe('existing kube-api-access-* volume: reused by name only (§1.5 quirk)', () => {
  test('a user emptyDir named kube-api-access-x is mounted at the token path: no token', () => {
    const { v } = resolve([deployment('d', { volumes: [{ name: 'kube-api-access-cache', emptyDir: {} }] })]);
    assert.equal(v.mounted, false);
    assert.match(v.reason, /reuses it by name/);
  });
  test('a user projected token volume named kube-api-access-x with audience vault: token, not API', () => {
    const { v } = resolve([deployment('d', { volumes: [{ name: 'kube-api-access-mine', projected: { sources: [{ serviceAccountToken: { audience: 'vault', path: 'token' } }] } }] })]);
    assert.equal(v.mounted, true);
    assert.equal(v.apiAccess, false);
    assert.equal(v.sources[0]?.volume, 'kube-api-access-mine');
    assert.deepEqual(v.containers, ['app']);
  });
});

describe('pods already admitted (read back from a cluster): their volumes are the truth', () => {
  const injected = (name: string) => ({ name, projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt' } }, { downwardAPI: {} }] } });
  const mount = (name: string) => ({ name, mountPath: SA_TOKEN_MOUNT_PATH, readOnly: true });
  test('the containers that mount the injected volume get the token (ephemeral too when it mounts it explicitly)', () => {
    const { v, w } = resolve([
      pod('p', { containers: [{ name: 'a', volumeMounts: [mount('kube-api-access-abcde')] }, { name: 'b' }], ephemeralContainers: [{ name: 'dbg', volumeMounts: [mount('kube-api-access-abcde')] }], volumes: [injected('kube-api-access-abcde')] }, { uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' }),
    ]);
    assert.equal(w.alreadyAdmitted, true);
    assert.deepEqual(v.containers, ['a', 'dbg']);
    assert.equal(v.sources[0]?.kind, 'automount');
    assert.equal(v.apiAccess, true);
  });
  test('no kube-api-access volume → no automounted token, whatever the ServiceAccount says now', () => {
    const { v } = resolve([pod('p', { serviceAccountName: 'runner' }, { uid: 'u1' }), sa('runner', true)]);
    assert.equal(v.mounted, false);
    assert.match(v.reason, /admission already ran/);
  });
  test('a Pod manifest without uid/creationTimestamp/status is simulated, not read back', () => {
    const { w, v } = resolve([pod('p', {})]);
    assert.equal(w.alreadyAdmitted, false);
    assert.equal(v.mounted, true);
  });
});

describe('hand-made projected serviceAccountToken volumes (§1.4 "false only stops the automatic volume", §2.2 audiences)', () => {
  const projected = (name: string, sat: Record<string, unknown>) => ({ name, projected: { sources: [{ serviceAccountToken: { path: 'token', ...sat } }] } });
  test('automount false + projected token without audience → an API token (peer regression #7)', () => {
    const { v } = resolve([deployment('d', { automountServiceAccountToken: false, containers: [{ name: 'app', volumeMounts: [{ name: 't', mountPath: '/t' }] }], volumes: [projected('t', {})] })]);
    assert.equal(v.mounted, true);
    assert.equal(v.apiAccess, true);
    assert.equal(v.sources[0]?.kind, 'projected');
    assert.equal(v.sources[0]?.expirationSeconds, 3600, 'expirationSeconds defaults to 1 hour');
  });
  for (const audience of ['vault', 'sts.amazonaws.com']) {
    test(`audience ${audience}: a token, but not one the API server accepts by default`, () => {
      const { v } = resolve([deployment('d', { automountServiceAccountToken: false, containers: [{ name: 'app', volumeMounts: [{ name: 't', mountPath: '/t' }] }], volumes: [projected('t', { audience, expirationSeconds: 600 })] })]);
      assert.equal(v.mounted, true);
      assert.equal(v.apiAccess, false);
      assert.deepEqual(v.sources[0]?.audiences, [audience]);
      assert.equal(v.sources[0]?.apiAudience, false);
    });
  }
  test('several audiences, one of them the API: API access', () => {
    const { v } = resolve([
      deployment('d', {
        automountServiceAccountToken: false,
        containers: [{ name: 'app', volumeMounts: [{ name: 't', mountPath: '/t' }] }],
        volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { audience: 'vault', path: 'v' } }, { serviceAccountToken: { audience: 'https://kubernetes.default.svc.cluster.local', path: 'k' } }] } }],
      }),
    ]);
    assert.equal(v.apiAccess, true);
    assert.equal(v.sources.length, 2);
  });
  test('a projected token that no container mounts reaches nobody', () => {
    const { v } = resolve([deployment('d', { automountServiceAccountToken: false, volumes: [projected('t', {})] })]);
    assert.equal(v.mounted, false);
    assert.match(v.reason, /no container mounts it/);
  });
  test('audience rules: none = API; issuer-style audiences = API; --api-audience extends the set', () => {
    assert.equal(isApiAudience(undefined), true);
    assert.equal(isApiAudience('https://kubernetes.default.svc.cluster.local'), true);
    assert.equal(isApiAudience('https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123'), true);
    assert.equal(isApiAudience('vault'), false);
    assert.equal(isApiAudience('my-api', { apiAudiences: ['my-api'] }), true);
  });
});

describe('legacy kubernetes.io/service-account-token Secrets (§2.4)', () => {
  const base = [sa('deployer', false), tokenSecret('deployer-token', 'deployer')];
  const withSpec = (spec: Record<string, unknown>) => resolve([...base, deployment('d', { serviceAccountName: 'deployer', ...spec })], { name: 'd' });
  test('through a secret volume', () => {
    const { v } = withSpec({ containers: [{ name: 'app', volumeMounts: [{ name: 's', mountPath: '/s' }] }], volumes: [{ name: 's', secret: { secretName: 'deployer-token' } }] });
    assert.equal(v.sources[0]?.kind, 'legacy-secret');
    assert.equal(v.sources[0]?.secret, 'deployer-token');
    assert.equal(v.sources[0]?.serviceAccount, 'app-ns/deployer');
    assert.equal(v.apiAccess, true);
  });
  test('through a projected secret source', () => {
    const { v } = withSpec({ containers: [{ name: 'app', volumeMounts: [{ name: 's', mountPath: '/s' }] }], volumes: [{ name: 's', projected: { sources: [{ secret: { name: 'deployer-token' } }] } }] });
    assert.equal(v.sources[0]?.kind, 'legacy-secret');
  });
  test('a secret volume that selects only ca.crt does not carry the token', () => {
    const { v } = withSpec({ containers: [{ name: 'app', volumeMounts: [{ name: 's', mountPath: '/s' }] }], volumes: [{ name: 's', secret: { secretName: 'deployer-token', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] });
    assert.equal(v.mounted, false);
  });
  test('through env secretKeyRef key token (but not key ca.crt), and envFrom', () => {
    const env = withSpec({ containers: [{ name: 'app', env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'deployer-token', key: 'token' } } }] }, { name: 'ca', env: [{ name: 'C', valueFrom: { secretKeyRef: { name: 'deployer-token', key: 'ca.crt' } } }] }] }).v;
    assert.equal(env.sources[0]?.kind, 'env');
    assert.deepEqual(env.containers, ['app']);
    const envFrom = withSpec({ initContainers: [{ name: 'init', envFrom: [{ secretRef: { name: 'deployer-token' } }] }] }).v;
    assert.deepEqual(envFrom.containers, ['init']);
    assert.equal(envFrom.sources[0]?.kind, 'env');
  });
  test('a Secret that is not in the input, or not of the token type, is not a token', () => {
    const missing = withSpec({ containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'unknown-secret' } }] }] }).v;
    assert.equal(missing.mounted, false);
    const opaque = resolve([sa('deployer', false), { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'creds', namespace: NS } }, deployment('d', { serviceAccountName: 'deployer', containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'creds' } }] }] })], { name: 'd' }).v;
    assert.equal(opaque.mounted, false);
  });
  test('the token authenticates as the Secret\'s ServiceAccount, not the pod\'s', () => {
    const { v } = resolve([sa('runner', false), tokenSecret('admin-token', 'admin'), deployment('d', { serviceAccountName: 'runner', containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'admin-token' } }] }] })], { name: 'd' });
    assert.equal(v.sources[0]?.serviceAccount, 'app-ns/admin');
  });
  test('an invalidated token (legacy-token-invalid-since label) is rejected by the API server', () => {
    const { v } = resolve([sa('deployer', false), tokenSecret('deployer-token', 'deployer', { 'kubernetes.io/legacy-token-invalid-since': '2026-01-01' }), deployment('d', { serviceAccountName: 'deployer', containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'deployer-token' } }] }] })], { name: 'd' });
    assert.equal(v.mounted, true);
    assert.equal(v.apiAccess, false);
  });
});

describe('wrong field types make the verdict unknown, never a pass', () => {
  test('automountServiceAccountToken: "false" (a string) → unknown, even if the SA says false', () => {
    const { v, inv } = resolve([sa('default', false), deployment('d', { automountServiceAccountToken: 'false' })], { name: 'd' });
    assert.equal(v.mounted, 'unknown');
    assert.equal(v.automount.effective, 'unknown');
    assert.equal(inv.problems.length, 1);
  });
  test('a ServiceAccount whose automount has the wrong type → unknown for pods that defer to it', () => {
    const { v } = resolve([sa('runner', 'no' as unknown as boolean), deployment('d', { serviceAccountName: 'runner' })], { name: 'd' });
    assert.equal(v.mounted, 'unknown');
  });
  test('containers not a list → unknown', () => {
    const { v } = resolve([deployment('d', { containers: { name: 'app' } })]);
    assert.equal(v.mounted, 'unknown');
    assert.match(v.reason, /wrong type/);
  });
});

test('needed is left unknown for the RBAC and evidence stages', () => {
  const { v } = resolve([deployment('d', {})]);
  assert.equal(v.needed, 'unknown');
});

test('a pod admitted before its ServiceAccount was deleted holds a token the API server rejects (§2.1 authenticator checks the SA)', () => {
  const vol = { name: 'kube-api-access-zzzzz', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } };
  const objects = [pod('p', { serviceAccountName: 'gone', containers: [{ name: 'app', volumeMounts: [{ name: vol.name, mountPath: SA_TOKEN_MOUNT_PATH }] }], volumes: [vol] }, { uid: 'u' })];
  const complete = resolve(objects, { complete: true }).v;
  assert.deepEqual([complete.mounted, complete.apiAccess], [true, false]);
  const partial = resolve(objects).v;
  assert.deepEqual([partial.mounted, partial.apiAccess], [true, true], 'without the full SA list the dump is taken as admitted');
});
