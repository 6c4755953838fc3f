// Owned Pods kept as rows until their owners are known (src/inventory/deferred-pods.ts). Deferring must not
// change the inventory: a Pod is deferred only when building it would report nothing (podFieldsWellTyped agrees
// with the builder on mutated Pods), a deferred Pod counts the injected token as the builder would
// (carriesInjectedTokenRaw), and a deferred Pod whose owner is absent is read again and built in full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryBuilder, SHARED_INJECTED_VOLUME_NAME, buildInventory, sourced } from '../../src/inventory/build.ts';
import { carriesInjectedTokenRaw, podFieldsWellTyped } from '../../src/inventory/deferred-pods.ts';
import { otherKindsFollowPods, readManifests } from '../../src/sources/manifests/index.ts';
import type { Inventory, KubeObject } from '../../src/inventory/types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ksa-deferred-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const clone = <T>(v: T): T => structuredClone(v);

/** An admitted Pod of ReplicaSet `rs` with every field the builder reads. */
function admittedPod(name: string, rsUid = 'rs-uid', rsName = 'rs'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid, controller: true, blockOwnerDeletion: true }],
    } as Record<string, unknown> as KubeObject['metadata'],
    spec: {
      serviceAccountName: 'app',
      serviceAccount: 'app',
      automountServiceAccountToken: true,
      initContainers: [{ name: 'init', restartPolicy: 'Always', volumeMounts: [{ name: 'kube-api-access-ab12c', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }] }],
      containers: [
        {
          name: 'app',
          image: 'x',
          env: [{ name: 'A', value: '1' }, { name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'token', optional: true } } }],
          envFrom: [{ secretRef: { name: 'env' } }, { configMapRef: { name: 'cm' } }],
          volumeMounts: [{ name: 'kube-api-access-ab12c', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }, { name: 'creds', mountPath: '/creds' }],
        },
      ],
      ephemeralContainers: [{ name: 'debug', volumeMounts: [] }],
      imagePullSecrets: [{ name: 'pull' }],
      volumes: [
        { name: 'creds', secret: { secretName: 'creds', items: [{ key: 'token', path: 't' }] } },
        {
          name: 'kube-api-access-ab12c',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token', audience: 'api' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
              { secret: { name: 'extra', items: [{ key: 'k', path: 'p' }] } },
            ],
          },
        },
      ],
    },
    status: { phase: 'Running' },
  };
}

/** Every path under `spec`, with the value found there. */
function specPaths(v: unknown, path: (string | number)[] = ['spec']): (string | number)[][] {
  const out: (string | number)[][] = [path];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...specPaths(x, [...path, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...specPaths(x, [...path, k]));
  return out;
}

function setAt(o: KubeObject, path: (string | number)[], value: unknown): void {
  let cur = o as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path.at(-1)!] = value;
}

/** Every Pod one field away from the base: each spec path set to each wrong-or-right type, plus removals. */
function mutatedPods(): { pod: KubeObject; what: string }[] {
  const base = admittedPod('p');
  const out: { pod: KubeObject; what: string }[] = [];
  for (const path of specPaths(base.spec)) {
    for (const value of [null, 7, Number.NaN, 'x', true, [], {}, [7], [{}], undefined]) {
      const pod = clone(base);
      if (value === undefined) {
        if (path.length === 1) continue;
        setAt(pod, path, undefined);
        // A removed key, not a key holding undefined (JSON has no undefined).
        const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((c, k) => c[k] as Record<string | number, unknown>, pod as Record<string, unknown>);
        if (Array.isArray(parent)) continue;
        delete parent[path.at(-1)!];
      } else setAt(pod, path, clone(value));
      out.push({ pod, what: `${path.join('.')} = ${JSON.stringify(value)}` });
    }
  }
  return out;
}

test('a Pod is well-typed exactly when building it reports no problem (every spec field set to every type)', () => {
  const cases = mutatedPods();
  assert.ok(cases.length > 500, `${cases.length} mutated Pods`);
  let wellTyped = 0;
  for (const { pod, what } of cases) {
    const inv = buildInventory([sourced(pod)]);
    const clean = inv.problems.length === 0;
    assert.equal(podFieldsWellTyped(pod), clean, `${what}: ${inv.problems.map((p) => p.message).join('; ') || 'no problem'}`);
    if (clean) wellTyped++;
  }
  // Both kinds of case occur: the comparison is not one-sided.
  assert.ok(wellTyped > 100 && wellTyped < cases.length - 100, `${wellTyped} of ${cases.length} well-typed`);
});

test('the injected-token answer of a deferred Pod is the builder\'s, on mutated and edge-case Pods', () => {
  const owner: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'ns', uid: 'rs-uid' }, spec: { template: { spec: { containers: [{ name: 'app' }] } } } };
  const edge = (edit: (spec: Record<string, any>) => void): KubeObject => {
    const pod = admittedPod('e');
    edit(pod.spec as Record<string, any>);
    return pod;
  };
  const edges: KubeObject[] = [
    edge((s) => (s.volumes[1].projected.sources = s.volumes[1].projected.sources.slice(1))), // no token source
    edge((s) => s.volumes.unshift({ name: 'kube-api-access-first', configMap: { name: 'x' } })), // first injected-looking volume has no token
    edge((s) => s.volumes.push({ name: SHARED_INJECTED_VOLUME_NAME, projected: { sources: [{ serviceAccountToken: { path: 't' } }] } })),
    edge((s) => {
      s.containers[0].volumeMounts = [{ name: SHARED_INJECTED_VOLUME_NAME, mountPath: '/elsewhere' }];
      s.initContainers = [];
    }),
    edge((s) => {
      s.containers[0].volumeMounts = [{ name: SHARED_INJECTED_VOLUME_NAME, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }];
      s.initContainers = [];
    }),
    edge((s) => {
      s.containers[0].volumeMounts = [{ name: 'kube-api-access-ab12c' }]; // no mountPath: not a mount
      s.initContainers = [];
    }),
    edge((s) => {
      s.containers[0].volumeMounts = [];
      s.initContainers = [];
      s.ephemeralContainers = [{ name: 'dbg', volumeMounts: [{ name: 'kube-api-access-ab12c', mountPath: '/t' }] }];
    }),
  ];
  const pods = [...edges, ...mutatedPods().map((c) => c.pod)].filter((p) => podFieldsWellTyped(p));
  let carrying = 0;
  for (const pod of pods) {
    const inv = buildInventory([sourced(owner), sourced(pod)]);
    const built = inv.workloads[0]!.admittedPods!.withInjectedToken;
    assert.equal(carriesInjectedTokenRaw(pod) ? 1 : 0, built, JSON.stringify(pod.spec));
    carrying += built;
  }
  assert.ok(carrying > 10 && carrying < pods.length - 3, `${carrying} of ${pods.length} carry the token`);
});

/** A List in kubectl's layout: four-space indentation, the List's kind and metadata after its items. */
const kubectlList = (items: KubeObject[]): string => JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4) + '\n';

/** Everything an analysis or a report can see of an inventory, as plain data (Maps and Sets as entry lists). */
function plain(inv: Inventory, file: string): unknown {
  return JSON.parse(JSON.stringify(inv, (k, v) => (v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : k === 'file' && v === file ? '(file)' : v)));
}

function dumpItems(): KubeObject[] {
  const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'ns', uid: 'rs-uid' }, spec: { template: { spec: { serviceAccountName: 'app', containers: [{ name: 'app' }] } } } };
  const noToken = admittedPod('p-2');
  (noToken.spec as Record<string, any>).volumes.pop();
  const orphan = admittedPod('orphan', 'gone-uid', 'gone');
  const badType = admittedPod('bad');
  (badType.spec as Record<string, any>).automountServiceAccountToken = 'no';
  const bare = admittedPod('bare');
  delete (bare.metadata as Record<string, unknown>).ownerReferences;
  const sa: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'ns' } };
  return [admittedPod('p-1'), noToken, orphan, badType, bare, admittedPod('p-3'), rs, sa];
}

/**
 * Reads `file` as a regular file, Pods deferred. Chunks one byte smaller than the file make a small file take
 * the streamed path (a file read whole is not deferred), with every item inside the first chunk.
 */
async function readFile(file: string, keepPodIdentities: boolean): Promise<InventoryBuilder> {
  const builder = new InventoryBuilder({ origin: 'manifests', keepPodIdentities });
  await readManifests([file], builder, { cwd: tmp, chunkBytes: statSync(file).size - 1 });
  return builder;
}

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

test('a dump read with deferred Pods gives the inventory of a reader that cannot defer (stdin)', async () => {
  const file = join(tmp, 'dump.json');
  writeFileSync(file, kubectlList(dumpItems()));
  for (const keepPodIdentities of [false, true]) {
    const deferred = (await readFile(file, keepPodIdentities)).finish();
    const streamed = new InventoryBuilder({ origin: 'manifests', keepPodIdentities });
    await readManifests(['-'], streamed, { cwd: tmp, stdin: createReadStream(file) });
    const plainStreamed = plain(streamed.finish(), '-');
    assert.deepEqual(plain(deferred, file), plainStreamed, `keepPodIdentities ${keepPodIdentities}`);
    const rs = deferred.workloads.find((w) => w.kind === 'ReplicaSet')!;
    assert.deepEqual(rs.pods.count, 4, 'p-1, p-2, bad (built at once: it is reported) and p-3 folded into their ReplicaSet');
    assert.deepEqual(rs.admittedPods, { count: 4, withInjectedToken: 3 });
    assert.deepEqual(rs.pods.names, keepPodIdentities ? ['p-1', 'p-2', 'bad', 'p-3'] : []);
    assert.deepEqual(deferred.workloads.filter((w) => w.kind === 'Pod').map((w) => `${w.name}@${w.location.itemPath}`), ['orphan@items/2', 'bare@items/4'], 'in input order');
    assert.equal(deferred.problems.length, 1, 'the wrongly typed Pod is reported once');
  }
});

test('a deferred Pod whose owner is absent is read again: a file changed in between is a problem, not a wrong answer', async () => {
  const file = join(tmp, 'changing.json');
  const text = kubectlList(dumpItems());
  writeFileSync(file, text);
  const orphanLine = (await readFile(file, false)).finish().workloads.find((w) => w.name === 'orphan')!.location.line;
  assert.ok(orphanLine > 100, `the orphan starts at line ${orphanLine}`);
  const descriptors = openDescriptors();
  const builder = await readFile(file, false);
  // The orphan (owner absent) is built from the file at finish(): spoil its bytes, keeping the size.
  writeFileSync(file, text.replace('"name": "orphan"', '"name": ["orphan'));
  const inv = builder.finish();
  assert.deepEqual(inv.workloads.filter((w) => w.kind === 'Pod').map((w) => w.name), ['bare'], 'the orphan was deferred, then could not be built');
  const changed = inv.problems.filter((p) => /changed while the file was being read/.test(p.message));
  assert.equal(changed.length, 1, JSON.stringify(inv.problems));
  assert.equal(changed[0]!.line, orphanLine, 'at the line where the Pod starts');
  assert.equal(openDescriptors(), descriptors, 'the file opened to read the Pod again was closed');
});

test('the tail check that chooses deferral: true only when the file lists other kinds after its Pods', () => {
  const check = (text: string): boolean => {
    const file = join(tmp, 'tail.json');
    writeFileSync(file, text);
    const fd = openSync(file, 'r');
    try {
      return otherKindsFollowPods(fd, statSync(file).size);
    } finally {
      closeSync(fd);
    }
  };
  const pods = [admittedPod('a'), admittedPod('b')];
  assert.equal(check(kubectlList(pods)), false, 'kubectl get pods -A -o json: only Pods (their owner references name other kinds, deeper)');
  assert.equal(check(kubectlList(dumpItems())), true, 'Pods, then a ReplicaSet and a ServiceAccount');
  assert.equal(check(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: dumpItems() })), false, 'not in kubectl\'s layout');
  assert.equal(check(JSON.stringify({ apiVersion: 'v1', items: dumpItems(), kind: 'List' }, null, 2)), true, 'two-space indentation');
});
