// Shared by the live tests: capturing CliIO, identities bound to generated roles, corpus bundles moved into a
// test namespace, and waiting for controllers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import type { CliIO } from '../../../src/cli/io.ts';
import type { ControlPlane } from '../../helpers/control-plane.ts';
import { requiredClusterRole } from '../../../src/sources/cluster/resources.ts';

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
}

export function captureIO(env: NodeJS.ProcessEnv = {}): CapturedIO {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (b) => (o += b));
  stderr.on('data', (b) => (e += b));
  const stdin = new PassThrough();
  return { stdin, stdout, stderr, env: { PATH: process.env.PATH, ...env }, cwd: process.cwd(), invokedAs: 'kube-sa-audit', out: () => o, err: () => e };
}

import { kubectlOk } from '../../helpers/control-plane.ts';
export { kubectlOk };

/**
 * A user identity (client certificate) bound to the rbac-requirements ClusterRole, optionally with some
 * resources removed, so tests run the scan with exactly that role.
 */
export async function identityWithRequiredRole(cp: ControlPlane, opts: { secretsMetadata?: boolean; without?: string[]; serviceAccount?: { namespace: string; name: string } } = {}): Promise<{ user: string; kubeconfig: string }> {
  const id = Math.random().toString(36).slice(2, 10);
  const user = `ksa-reader-${id}`;
  const role = requiredClusterRole({ secretsMetadata: opts.secretsMetadata ?? false, name: user }) as { rules: { resources: string[] }[] };
  for (const r of role.rules) r.resources = r.resources.filter((x) => !(opts.without ?? []).includes(x));
  role.rules = role.rules.filter((r) => r.resources.length > 0);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: user },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
    subjects: [opts.serviceAccount ? { kind: 'ServiceAccount', ...opts.serviceAccount } : { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
  };
  await kubectlOk(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding] }));
  const kubeconfig = await cp.kubeconfigFor(opts.serviceAccount ? { serviceAccount: opts.serviceAccount } : { user });
  return { user: opts.serviceAccount ? `system:serviceaccount:${opts.serviceAccount.namespace}:${opts.serviceAccount.name}` : user, kubeconfig };
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'PriorityClass', 'StorageClass', 'PersistentVolume', 'APIService']);

/** A corpus bundle with every namespaced object put into `ns` (and every occurrence of `rename` replaced by ns). */
export function bundleInto(file: string, ns: string, rename?: string): string {
  let text = fs.readFileSync(file, 'utf8');
  if (rename) text = text.split(rename).join(ns);
  const docs = parseAllDocuments(text);
  const out: string[] = [];
  for (const d of docs) {
    const o = d.toJS() as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || !o.kind) continue;
    if (o.kind === 'Namespace') continue;
    if (!CLUSTER_SCOPED.has(String(o.kind))) d.setIn(['metadata', 'namespace'], ns);
    out.push(d.toString());
  }
  return out.join('---\n');
}

export function tmpFile(name: string, text: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ksa-live-'));
  const p = path.join(d, name);
  fs.writeFileSync(p, text);
  return p;
}

/** Polls until `check` returns true (or throws after `timeoutMs`). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until every Deployment/StatefulSet/DaemonSet/Job in ns has at least one pod the controllers made. */
export async function waitForControllerPods(cp: ControlPlane, ns: string, expectedOwners: number, timeoutMs = 90_000): Promise<void> {
  await waitFor(`pods of ${expectedOwners} workloads in ${ns}`, async () => {
    const pods = JSON.parse(await kubectlOk(cp, ['get', 'pods', '-n', ns, '-o', 'json'])) as { items: { metadata: { ownerReferences?: { uid: string }[] } }[] };
    const owners = new Set(pods.items.flatMap((p) => (p.metadata.ownerReferences ?? []).map((o) => o.uid)));
    return owners.size >= expectedOwners;
  }, timeoutMs);
}
