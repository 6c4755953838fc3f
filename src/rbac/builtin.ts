// The built-in RBAC policy of a Kubernetes release (bootstrap ClusterRoles/bindings and kube-system/kube-public
// Roles), generated from the real API server into data/rbac/<version>.json. A binding to `edit` or
// `cluster-admin` in a manifest means what it means in a cluster only with this policy loaded.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeObject, RbacBinding, RbacRole } from '../inventory/types.ts';
import { bindingFromObject, roleFromObject } from './normalize.ts';

/** The release whose policy is used when nothing else is known. */
export const PINNED_POLICY_VERSION = 'v1.36.3';

export interface BuiltinPolicy {
  kubernetesVersion: string;
  roles: RbacRole[];
  clusterRoles: RbacRole[];
  roleBindings: RbacBinding[];
  clusterRoleBindings: RbacBinding[];
}

const DATA_DIR = fileURLToPath(new URL('../../data/rbac/', import.meta.url));
const cache = new Map<string, BuiltinPolicy>();

/** Versions with data, e.g. ['v1.36.3']. */
export function availablePolicyVersions(): string[] {
  if (!existsSync(DATA_DIR)) return [];
  return readdirSync(DATA_DIR).filter((f) => /^v\d+\.\d+\.\d+\.json$/.test(f)).map((f) => f.slice(0, -5)).sort();
}

/** Picks the exact version, else the newest data of the same minor, else the pinned release. */
export function resolvePolicyVersion(wanted?: string): string {
  const have = availablePolicyVersions();
  if (wanted) {
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(wanted);
    if (m) {
      const exact = `v${m[1]}.${m[2]}.${m[3]}`;
      if (have.includes(exact)) return exact;
      const sameMinor = have.filter((v) => v.startsWith(`v${m[1]}.${m[2]}.`));
      if (sameMinor.length > 0) return sameMinor[sameMinor.length - 1]!;
    }
  }
  return PINNED_POLICY_VERSION;
}

export function policyFromRaw(raw: { kubernetesVersion?: string; clusterRoles?: KubeObject[]; clusterRoleBindings?: KubeObject[]; roles?: KubeObject[]; roleBindings?: KubeObject[] }, file: string): BuiltinPolicy {
  const loc = { file, line: 0 };
  return {
    kubernetesVersion: raw.kubernetesVersion ?? '',
    clusterRoles: (raw.clusterRoles ?? []).map((o) => roleFromObject({ ...o, kind: 'ClusterRole' }, loc, true)),
    clusterRoleBindings: (raw.clusterRoleBindings ?? []).map((o) => bindingFromObject({ ...o, kind: 'ClusterRoleBinding' }, loc, true)),
    roles: (raw.roles ?? []).map((o) => roleFromObject({ ...o, kind: 'Role' }, loc, true)),
    roleBindings: (raw.roleBindings ?? []).map((o) => bindingFromObject({ ...o, kind: 'RoleBinding' }, loc, true)),
  };
}

/** Loads (and caches) the built-in policy; throws when the data file is missing. */
export function loadBuiltinPolicy(version?: string): BuiltinPolicy {
  const v = resolvePolicyVersion(version);
  const hit = cache.get(v);
  if (hit) return hit;
  const path = DATA_DIR + v + '.json';
  if (!existsSync(path)) throw new Error(`built-in RBAC policy data for ${v} not found (${path})`);
  const policy = policyFromRaw(JSON.parse(readFileSync(path, 'utf8')), `builtin:${v}`);
  cache.set(v, policy);
  return policy;
}
