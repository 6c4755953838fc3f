// Helpers shared by the RBAC rules: severity arithmetic, blast radius of a service account, binding subjects.
import type { RuleContext, Severity, WorkloadReport } from '../../analysis/types.ts';
import { SEVERITIES, severityRank } from '../../analysis/types.ts';
import type { RbacBinding, RbacSubject } from '../../inventory/types.ts';
import type { Grant } from '../../rbac/engine.ts';
import { splitServiceAccountUser } from '../../rbac/engine.ts';
import { findDangerous } from '../../rbac/dangerous.ts';
import type { RbacAnalysis } from '../../rbac/index.ts';
import { formatRule } from '../../rbac/index.ts';

export const maxSeverity = (xs: Severity[], floor: Severity = 'info'): Severity => xs.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a), floor);
export const shiftSeverity = (s: Severity, by: number, min: Severity = 'low'): Severity =>
  SEVERITIES[Math.min(SEVERITIES.length - 1, Math.max(severityRank(min), severityRank(s) + by))]!;

export const bindingName = (b: { kind: string; namespace: string; name: string }): string => (b.kind === 'RoleBinding' ? `RoleBinding ${b.namespace}/${b.name}` : `ClusterRoleBinding ${b.name}`);

/** Workload reports grouped by `namespace/serviceAccount`, built once per rule context (rules are pure over it). */
const bySA = new WeakMap<readonly WorkloadReport[], Map<string, WorkloadReport[]>>();
function reportsOf(ctx: RuleContext, namespace: string, name: string): readonly WorkloadReport[] {
  let index = bySA.get(ctx.workloads);
  if (!index) {
    index = new Map();
    for (const r of ctx.workloads) {
      const key = `${r.namespace}/${r.serviceAccount}`;
      const list = index.get(key);
      if (list) list.push(r);
      else index.set(key, [r]);
    }
    bySA.set(ctx.workloads, index);
  }
  return index.get(`${namespace}/${name}`) ?? [];
}

/**
 * Workloads and pods using a service account, and how many of them carry its token. Indexed: one pass over
 * the reports per scan, not one per binding (O(bindings × workloads) took seconds at 150,000 pods).
 */
export function blastRadius(ctx: RuleContext, namespace: string, name: string): { workloads: number; pods: number; workloadsWithToken: number; podsWithToken: number; names: string[] } {
  let workloads = 0, pods = 0, workloadsWithToken = 0, podsWithToken = 0;
  const names: string[] = [];
  for (const r of reportsOf(ctx, namespace, name)) {
    workloads++;
    pods += r.pods;
    if (carriesToken(r)) {
      workloadsWithToken++;
      podsWithToken += r.pods;
      if (names.length < 20) names.push(`${r.kind}/${r.name}`);
    }
  }
  return { workloads, pods, workloadsWithToken, podsWithToken, names };
}

/** A token the API server accepts reaches a container, or may (unknown). */
export const carriesToken = (r: WorkloadReport): boolean => r.token.mounted !== false && r.token.apiAccess !== false;

/** The service account a subject names, if any (ServiceAccount subjects and User system:serviceaccount:ns:name). */
export function subjectServiceAccount(s: RbacSubject, binding: RbacBinding): { namespace: string; name: string } | undefined {
  if (s.kind === 'ServiceAccount') {
    const ns = s.namespace || (binding.kind === 'RoleBinding' ? binding.namespace : '');
    return ns ? { namespace: ns, name: s.name } : undefined;
  }
  if (s.kind === 'User') return splitServiceAccountUser(s.name);
  return undefined;
}

/** A grant for one binding (as the engine would build it), for judging what that binding alone gives. */
export function grantOfBinding(rbac: RbacAnalysis, b: RbacBinding, subject: RbacSubject): Grant | undefined {
  const ns = b.kind === 'RoleBinding' ? b.namespace : '';
  const role = b.roleRef.kind === 'Role' ? (ns ? rbac.engine.roles.get(`${ns}/${b.roleRef.name}`) : undefined) : b.roleRef.kind === 'ClusterRole' ? rbac.engine.clusterRoles.get(b.roleRef.name) : undefined;
  if (!role) return undefined;
  return {
    binding: { kind: b.kind, namespace: ns, name: b.name },
    role: { kind: role.kind, name: role.name, namespace: role.namespace },
    subject,
    via: `${subject.kind} ${subject.name}`,
    scope: ns,
    builtin: b.builtin && role.builtin,
    rules: role.rules,
  };
}

/** What one binding grants: dangerous hits, non-default rule lines, and a severity for it. */
export function judgeGrant(rbac: RbacAnalysis, g: Grant): { severity: Severity; dangerous: ReturnType<typeof findDangerous>; lines: string[]; onlyDefaults: boolean } {
  const dangerous = g.scope === '' ? findDangerous([g], new Map(), rbac.catalogue) : findDangerous([], new Map([[g.scope, [g]]]), rbac.catalogue);
  const onlyDefaults = rbac.isDefaultGrant(g);
  const lines = onlyDefaults ? [] : g.rules.map(formatRule);
  const severity = dangerous.length > 0 ? maxSeverity(dangerous.map((d) => d.severity)) : onlyDefaults ? 'info' : 'medium';
  return { severity, dangerous, lines, onlyDefaults };
}
