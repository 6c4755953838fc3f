import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { optionsForPods, writeDump, writeManifests, type GenCounts, type GenOptions } from '../../bench/gen.ts';

const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const INJECTED_NAME = /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

function dump(opts: GenOptions): { text: string; counts: GenCounts } {
  const parts: string[] = [];
  const counts = writeDump(opts, (c) => parts.push(c));
  return { text: parts.join(''), counts };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

interface Item { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid: string; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] }; [k: string]: unknown }
interface PodSpecLike {
  serviceAccountName?: string; serviceAccount?: string; automountServiceAccountToken?: boolean;
  containers: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  initContainers?: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  volumes?: { name: string; projected?: { defaultMode?: number; sources: Record<string, unknown>[] } }[];
}

const small = optionsForPods(120, 'test-seed');

test('same seed gives the same bytes; a different seed gives different bytes', () => {
  const a = dump(small).text;
  const b = dump(small).text;
  assert.equal(a, b);
  const c = dump({ ...small, seed: 'other-seed' }).text;
  assert.notEqual(a, c);
});

test('output is a kubectl List in Go MarshalIndent form with sorted keys, and counts match', () => {
  const { text, counts } = dump(small);
  const list = JSON.parse(text) as { apiVersion: string; kind: string; metadata: unknown; items: Item[] };
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.metadata, { resourceVersion: '' });
  // kubectl marshals unstructured maps: keys in byte order, 4-space indent, trailing newline.
  assert.equal(JSON.stringify(sortKeys(list), null, 4) + '\n', text);
  assert.equal(Buffer.byteLength(text), counts.bytes);
  assert.equal(list.items.length, counts.items);
  const byKind = new Map<string, number>();
  for (const it of list.items) byKind.set(it.kind, (byKind.get(it.kind) ?? 0) + 1);
  assert.equal(byKind.get('Pod'), 120);
  assert.equal(counts.pods, 120);
  assert.equal(byKind.get('Namespace'), small.namespaces);
  assert.equal(byKind.get('ServiceAccount'), small.namespaces * 3);
  assert.equal(byKind.get('RoleBinding'), small.namespaces * small.roleBindingsPerNamespace);
  assert.equal(byKind.get('ClusterRole'), small.clusterRoles);
  assert.equal(byKind.get('ClusterRoleBinding'), small.clusterRoleBindings);
  assert.equal(byKind.get('ReplicaSet'), byKind.get('Deployment'));
  // Every namespace has its `default` ServiceAccount.
  const nsNames = list.items.filter((i) => i.kind === 'Namespace').map((i) => i.metadata.name);
  const defaults = new Set(list.items.filter((i) => i.kind === 'ServiceAccount' && i.metadata.name === 'default').map((i) => i.metadata.namespace));
  for (const ns of nsNames) assert.ok(defaults.has(ns), `no default SA in ${ns}`);
  // Kinds come out grouped, as `kubectl get a,b,c` prints them.
  const seen: string[] = [];
  for (const it of list.items) if (seen.at(-1) !== it.kind) seen.push(it.kind);
  assert.equal(new Set(seen).size, seen.length, `kinds interleaved: ${seen.join(',')}`);
});

test('pods carry the injected kube-api-access volume exactly when automount is on (pod field, then SA, then true)', () => {
  const { text, counts } = dump(optionsForPods(400, 'automount'));
  const items = (JSON.parse(text) as { items: Item[] }).items;
  const saAutomount = new Map<string, boolean | undefined>();
  for (const it of items) if (it.kind === 'ServiceAccount') saAutomount.set(`${it.metadata.namespace}/${it.metadata.name}`, it.automountServiceAccountToken as boolean | undefined);
  let on = 0, off = 0, podOverride = 0, saOff = 0;
  for (const pod of items.filter((i) => i.kind === 'Pod')) {
    const spec = pod.spec as PodSpecLike;
    // Admission defaulted the SA name and filled the deprecated alias.
    assert.ok(spec.serviceAccountName, `${pod.metadata.name} has no serviceAccountName`);
    assert.equal(spec.serviceAccount, spec.serviceAccountName);
    const key = `${pod.metadata.namespace}/${spec.serviceAccountName}`;
    assert.ok(saAutomount.has(key), `pod ${pod.metadata.name} uses missing SA ${key}`);
    const expected = spec.automountServiceAccountToken ?? saAutomount.get(key) ?? true;
    if (spec.automountServiceAccountToken !== undefined) podOverride++;
    if (saAutomount.get(key) === false) saOff++;
    const injected = (spec.volumes ?? []).filter((v) => v.name.startsWith('kube-api-access-'));
    const containers = [...(spec.initContainers ?? []), ...spec.containers];
    if (expected) {
      on++;
      assert.equal(injected.length, 1, `${pod.metadata.name}: expected one injected volume`);
      const vol = injected[0]!;
      assert.match(vol.name, INJECTED_NAME);
      assert.equal(vol.projected?.defaultMode, 420);
      assert.deepEqual(vol.projected?.sources.map((s) => Object.keys(s)[0]), ['serviceAccountToken', 'configMap', 'downwardAPI']);
      assert.deepEqual(vol.projected?.sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
      for (const c of containers) {
        const m = (c.volumeMounts ?? []).filter((x) => x.mountPath === TOKEN_PATH);
        assert.deepEqual(m, [{ mountPath: TOKEN_PATH, name: vol.name, readOnly: true }], `${pod.metadata.name}/${c.name}`);
      }
    } else {
      off++;
      assert.equal(injected.length, 0, `${pod.metadata.name}: automount off but volume injected`);
      for (const c of containers) assert.ok(!(c.volumeMounts ?? []).some((x) => x.mountPath === TOKEN_PATH));
    }
  }
  assert.equal(on, counts.podsWithInjectedToken);
  // The sample must exercise all branches for the test to mean anything.
  assert.ok(on > 0 && off > 0 && podOverride > 0 && saOff > 0, JSON.stringify({ on, off, podOverride, saOff }));
  // Templates are never mutated by admission.
  for (const it of items) {
    if (it.kind === 'Pod' || !['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(it.kind)) continue;
    assert.ok(!JSON.stringify(it.spec).includes('kube-api-access-'), `${it.kind}/${it.metadata.name} template has an injected volume`);
  }
});

test('owner references resolve to objects in the dump; RBAC binds default SAs and groups', () => {
  const items = (JSON.parse(dump(small).text) as { items: Item[] }).items;
  const byUid = new Map(items.map((i) => [i.metadata.uid, i]));
  let owned = 0;
  for (const it of items) for (const ref of it.metadata.ownerReferences ?? []) {
    const owner = byUid.get(ref.uid);
    assert.ok(owner, `${it.kind}/${it.metadata.name}: owner ${ref.kind}/${ref.name} missing`);
    assert.equal(owner.kind, ref.kind);
    assert.equal(owner.metadata.name, ref.name);
    assert.equal(owner.metadata.namespace, it.metadata.namespace);
    owned++;
  }
  assert.ok(owned > 100);
  const subjects = items.filter((i) => i.kind === 'RoleBinding' || i.kind === 'ClusterRoleBinding')
    .flatMap((b) => b.subjects as { kind: string; name: string }[]);
  assert.ok(subjects.some((s) => s.kind === 'ServiceAccount' && s.name === 'default'));
  assert.ok(subjects.some((s) => s.kind === 'Group' && s.name.startsWith('system:serviceaccounts')));
  assert.ok(subjects.some((s) => s.kind === 'Group' && s.name.startsWith('team-')));
  const roleNames = new Set(items.filter((i) => i.kind === 'Role').map((i) => `${i.metadata.namespace}/${i.metadata.name}`));
  const crNames = new Set(items.filter((i) => i.kind === 'ClusterRole').map((i) => i.metadata.name));
  for (const b of items.filter((i) => i.kind === 'RoleBinding' || i.kind === 'ClusterRoleBinding')) {
    const ref = b.roleRef as { kind: string; name: string };
    const ok = ref.kind === 'Role' ? roleNames.has(`${b.metadata.namespace}/${ref.name}`) : crNames.has(ref.name);
    assert.ok(ok, `${b.kind}/${b.metadata.name} refers to missing ${ref.kind} ${ref.name}`);
  }
});

test('a zero-pod dump is still a valid List', () => {
  const { text } = dump({ ...optionsForPods(0, 'z'), namespaces: 1, clusterRoles: 0, clusterRoleBindings: 0, roleBindingsPerNamespace: 0 });
  const list = JSON.parse(text) as { items: Item[] };
  assert.equal(JSON.stringify(sortKeys(list), null, 4) + '\n', text);
  assert.equal(list.items.filter((i) => i.kind === 'Pod').length, 0);
});

test('manifest directory: N single-document YAML files, deterministic', () => {
  const a = mkdtempSync(join(tmpdir(), 'ksa-gen-a-'));
  const b = mkdtempSync(join(tmpdir(), 'ksa-gen-b-'));
  try {
    const ra = writeManifests(42, a, 's');
    writeManifests(42, b, 's');
    assert.equal(ra.files, 42);
    const files = (d: string) => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name)).sort();
    const fa = files(a);
    assert.equal(fa.length, 42);
    const kinds = new Map<string, number>();
    for (const f of fa) {
      const text = readFileSync(f, 'utf8');
      assert.equal(text, readFileSync(f.replace(a, b), 'utf8'));
      const docs = parseAllDocuments(text);
      assert.equal(docs.length, 1);
      const obj = docs[0]!.toJS() as { kind: string; metadata: { name: string; namespace: string } };
      assert.ok(obj.metadata.name && obj.metadata.namespace);
      kinds.set(obj.kind, (kinds.get(obj.kind) ?? 0) + 1);
    }
    assert.deepEqual([...kinds.keys()].sort(), ['Deployment', 'Role', 'RoleBinding', 'ServiceAccount']);
    assert.equal(kinds.get('Deployment'), ra.deployments);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
