// Helpers shared by the RBAC rules: severity arithmetic, blast radius of a service account, binding subjects.
import type { RuleContext, ServiceAccountUsage, Severity, WorkloadReport } from '../../analysis/types.ts';
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

/**
 * Counts, per ServiceAccount, the workloads and pods that use it and how many of them carry its token (the blast
 * radius of a grant to it), with the first 20 carriers' names, as reports are added in order.
 */
export class ServiceAccountUsageCounter {
  private readonly byNamespace = new Map<string, Map<string, ServiceAccountUsage>>();

  add(r: WorkloadReport): void {
    let inNamespace = this.byNamespace.get(r.namespace);
    if (inNamespace === undefined) this.byNamespace.set(r.namespace, (inNamespace = new Map()));
    let u = inNamespace.get(r.serviceAccount);
    if (u === undefined) inNamespace.set(r.serviceAccount, (u = { workloads: 0, pods: 0, workloadsWithToken: 0, podsWithToken: 0, names: [] }));
    u.workloads++;
    u.pods += r.pods;
    if (carriesToken(r)) {
      u.workloadsWithToken++;
      u.podsWithToken += r.pods;
      if (u.names.length < 20) u.names.push(`${r.kind}/${r.name}`);
    }
  }

  usageOf(namespace: string, name: string): ServiceAccountUsage {
    const u = this.byNamespace.get(namespace)?.get(name);
    // A copy: findings keep what they were given.
    return u ? { ...u, names: [...u.names] } : { workloads: 0, pods: 0, workloadsWithToken: 0, podsWithToken: 0, names: [] };
  }
}

/** The usage of every ServiceAccount in a rule context's reports, counted once per context (rules are pure over it). */
const counted = new WeakMap<readonly WorkloadReport[], ServiceAccountUsageCounter>();

/**
 * Workloads and pods using a service account, and how many of them carry its token. Counted once per scan, not
 * once per binding (O(bindings × workloads) took seconds at 150,000 pods); a streamed scan counts as it goes and
 * hands the counts in as `ctx.usageOf`.
 */
export function blastRadius(ctx: RuleContext, namespace: string, name: string): ServiceAccountUsage {
  if (ctx.usageOf) return ctx.usageOf(namespace, name);
  let counter = counted.get(ctx.workloads);
  if (!counter) {
    counter = new ServiceAccountUsageCounter();
    for (const r of ctx.workloads) counter.add(r);
    counted.set(ctx.workloads, counter);
  }
  return counter.usageOf(namespace, name);
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
