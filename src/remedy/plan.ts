// The fix plan: pure, per service account, every step with its reason.
//
// The well-known fix (`automountServiceAccountToken: false`) is safe only when it cannot take a token from a
// workload that calls the API. kubeaudit's autofix flips a shared `default` service account and every pod using
// it loses its token. So we group workloads by service account and decide per group:
//   - nobody in the group keeps a token        → off on the service account;
//   - some keep it (need `yes`)                → off on the service account, explicit `true` in their templates
//                                                (the opt-in pattern of kube-prometheus and Kyverno);
//   - some need `unknown` (untouched by default) and would lose it → the SA is left alone and the others are
//                                                turned off per pod template instead;
//   - `--level pod`                            → off per pod template of the ones that don't need it;
//   - `--dedicated-sa`                         → workloads on `default` that keep a token move to their own SA
//                                                with copies of `default`'s bindings.
// Automount precedence modelled: pod field, else SA field, else true (kubernetes-semantics.md §1.4).
import type { Inventory, KubeObject, RbacBinding, RbacSubject, ServiceAccount, SourceLocation, Workload } from '../inventory/types.ts';
import { serviceAccountKey } from '../inventory/types.ts';
import type { WorkloadReport } from '../analysis/types.ts';

export type FixLevel = 'sa' | 'pod';

export interface FixOptions {
  /** `sa` (default): off on the service account when safe; `pod`: off per pod template only. */
  level?: FixLevel;
  /** Also remove the token of workloads whose need is `unknown` (treated as not needed). */
  includeUnknown?: boolean;
  /** Move workloads on `default` that keep a token to a dedicated service account with the same bindings. */
  dedicatedSa?: boolean;
}

/** The workload a step edits, with what an editor or patcher needs to find it. */
export interface WorkloadRef {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  location: SourceLocation;
  /** Path from the object root to the pod template (`[]` for a Pod). */
  templatePath: string[];
  resourceVersion?: string;
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  /** Where it is defined; undefined when the input has no manifest for it. */
  location?: SourceLocation;
  resourceVersion?: string;
}

export type FixStep =
  | {
      kind: 'sa-automount';
      serviceAccount: ServiceAccountRef;
      /** true: the input has no manifest for this SA (only ever `default`); the fix writes one. */
      create: boolean;
      /** A workload using it: a created manifest goes into the same file, so it is applied together. */
      nextTo: WorkloadRef;
      before: boolean | undefined;
      value: false;
      reason: string;
    }
  | { kind: 'pod-automount'; workload: WorkloadRef; before: boolean | undefined; value: boolean; reason: string }
  | { kind: 'create-sa'; serviceAccount: ServiceAccountRef; forWorkload: WorkloadRef; object: KubeObject; reason: string }
  | {
      kind: 'copy-binding';
      from: { kind: 'RoleBinding' | 'ClusterRoleBinding'; namespace: string; name: string; location: SourceLocation };
      object: KubeObject;
      /** Where the new object goes: next to the workload it serves. */
      forWorkload: WorkloadRef;
      reason: string;
    }
  | { kind: 'set-service-account'; workload: WorkloadRef; before: string; value: string; reason: string }
  | {
      /** --dedicated-sa: the grant moved to the copies; `default` leaves the original binding's subjects. */
      kind: 'remove-binding-subject';
      binding: { kind: 'RoleBinding' | 'ClusterRoleBinding'; namespace: string; name: string; location: SourceLocation };
      /** The subjects removed (as in the input). */
      remove: RbacSubject[];
      /** Subjects as scanned, and what remains (the live patch sets exactly these). */
      before: RbacSubject[];
      after: RbacSubject[];
      reason: string;
    };

/** A workload the plan leaves alone (and why), or something only a person can do. */
export interface PlanNote {
  workload?: WorkloadRef;
  serviceAccount?: string;
  reason: string;
}

export interface FixPlan {
  steps: FixStep[];
  /** Workloads deliberately not changed (need unknown, already fixed elsewhere…). */
  untouched: PlanNote[];
  /** Follow-ups the tool cannot do safely (projected token volumes, legacy token Secrets, bindings left on default). */
  manual: PlanNote[];
  /** Workloads whose running pods keep their token until restarted (no template change rolls them). */
  restart: WorkloadRef[];
  /** Per workload, whether its pods will get an automounted token after the fix (what the plan promises). */
  promised: { workload: WorkloadRef; automount: boolean }[];
}

interface Member {
  report: WorkloadReport;
  ref: WorkloadRef;
  /** Pod template's own automountServiceAccountToken. */
  podValue: boolean | undefined;
  /** What the fix should achieve for this member. */
  intent: 'keep' | 'remove' | 'frozen';
  /** Whether the automatic token is mounted now (pod value, else SA value, else true). */
  automountNow: boolean | 'unknown';
  /** The input's automount field has the wrong type: never edited. */
  typeError: boolean;
  /**
   * Why its pod template cannot be edited here (owned by a controller outside the input, which would revert
   * the change; or a live Pod, whose spec is immutable). Undefined when it can.
   */
  immutable?: string;
}

const ROLLING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function findWorkload(inventory: Inventory, r: WorkloadReport, index: number): Workload | undefined {
  const same = (w: Workload | undefined): boolean =>
    !!w && w.kind === r.kind && w.namespace === r.namespace && w.name === r.name && w.location.file === r.location.file;
  const byIndex = inventory.workloads[index];
  if (same(byIndex)) return byIndex;
  return inventory.workloads.find(
    (w) => same(w) && w.location.document === r.location.document && w.location.itemPath === r.location.itemPath,
  ) ?? inventory.workloads.find(same);
}

/**
 * Whether running pods keep the old token after the fix: an SA change never rolls pods; a template change rolls
 * Deployments/StatefulSets/DaemonSets; a CronJob's next Job picks it up by itself.
 */
function needsRestart(ref: WorkloadRef, templateChanged: boolean): boolean {
  if (ref.kind === 'CronJob') return false;
  return !(templateChanged && ROLLING_KINDS.has(ref.kind));
}

const describe = (r: WorkloadRef): string => `${r.kind} ${r.namespace}/${r.name}`;

function refOf(r: WorkloadReport, w: Workload | undefined): WorkloadRef {
  return {
    kind: r.kind,
    apiVersion: r.apiVersion,
    namespace: r.namespace,
    name: r.name,
    location: w?.location ?? r.location,
    templatePath: w?.templatePath ?? defaultTemplatePath(r.kind),
    resourceVersion: w?.resourceVersion,
  };
}

function defaultTemplatePath(kind: string): string[] {
  if (kind === 'Pod') return [];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template'];
  return ['spec', 'template'];
}

/** Tokens that automount off does not remove: the user's own projected volumes and legacy Secrets. */
function otherApiTokenSources(r: WorkloadReport): string[] {
  return r.token.sources
    .filter((s) => s.kind !== 'automount' && s.apiAudience !== false)
    .map((s) => (s.kind === 'projected' ? `projected volume ${s.volume ?? '?'}` : `legacy token Secret ${s.secret ?? '?'} (${s.kind})`));
}

function dedicatedName(inventory: Inventory, namespace: string, workload: string, taken: Set<string>): string {
  const free = (n: string): boolean => !inventory.serviceAccounts.has(serviceAccountKey(namespace, n)) && !taken.has(`${namespace}/${n}`);
  const base = workload.slice(0, 253);
  if (free(base) && base !== 'default') return base;
  for (let i = 0; ; i++) {
    const n = i === 0 ? `${base.slice(0, 250)}-sa` : `${base.slice(0, 245)}-sa-${i + 1}`;
    if (free(n)) return n;
  }
}

/** Whether a binding subject is exactly this service account (by kind ServiceAccount or its user name). */
export function subjectIsServiceAccount(b: RbacBinding, s: RbacSubject, namespace: string, name: string): boolean {
  return (
    (s.kind === 'ServiceAccount' && s.name === name && (s.namespace || (b.kind === 'RoleBinding' ? b.namespace : '')) === namespace) ||
    (s.kind === 'User' && s.name === `system:serviceaccount:${namespace}:${name}`)
  );
}

/** Bindings whose subjects name the service account itself (groups are inherited by any new SA anyway). */
export function bindingsNaming(inventory: Inventory, namespace: string, name: string): RbacBinding[] {
  const hit = (b: RbacBinding): boolean => !b.builtin && b.subjects.some((s) => subjectIsServiceAccount(b, s, namespace, name));
  return [...inventory.roleBindings.filter(hit), ...inventory.clusterRoleBindings.filter(hit)];
}

export function planFix(inventory: Inventory, reports: WorkloadReport[], opts: FixOptions = {}): FixPlan {
  const level = opts.level ?? 'sa';
  const plan: FixPlan = { steps: [], untouched: [], manual: [], restart: [], promised: [] };
  const groups = new Map<string, Member[]>();
  const takenNames = new Set<string>();
  /** `default` groups that --dedicated-sa emptied, with one moved workload (where a created manifest goes). */
  const emptiedDefaults = new Map<string, WorkloadRef>();
  const groupsMovedFrom = new Map<string, number>();

  reports.forEach((report, i) => {
    const w = findWorkload(inventory, report, i);
    const ref = refOf(report, w);
    const t = report.token;
    const podValue = t.automount.podValue;
    const need = t.needed;
    let intent: Member['intent'];
    if (need === 'yes') intent = 'keep';
    else if (need === 'no') intent = 'remove';
    else intent = opts.includeUnknown ? 'remove' : 'frozen';
    if (need === 'unknown') {
      plan.untouched.push({
        workload: ref,
        reason: opts.includeUnknown
          ? `need unknown (${t.neededReason}); included by --include-unknown, so treated as not needed`
          : `need unknown (${t.neededReason}); never changed without --include-unknown`,
      });
    }
    const typeError = !!w?.typeErrors?.some((p) => p.endsWith('automountServiceAccountToken'));
    if (typeError) {
      plan.untouched.push({ workload: ref, reason: 'its automountServiceAccountToken has the wrong type; fix the input first' });
      intent = 'frozen';
    }
    const member: Member = {
      report,
      ref,
      podValue,
      intent,
      automountNow: t.automount.effective,
      typeError,
    };
    const owner = w?.ownerReferences?.find((o) => o.controller) ?? w?.ownerReferences?.[0];
    if (owner) member.immutable = `it is managed by ${owner.kind} ${owner.name}, which would revert a change to it`;
    else if (report.kind === 'Pod' && inventory.origin === 'cluster') member.immutable = "a running Pod's spec cannot be changed";
    const key = serviceAccountKey(report.namespace, report.serviceAccount);
    const g = groups.get(key);
    if (g) g.push(member);
    else groups.set(key, [member]);
  });

  // Dedicated service accounts first: members that move off `default` no longer hold `default` back.
  if (opts.dedicatedSa) {
    for (const [key, members] of groups) {
      if (members.length === 0) continue;
      const namespace = members[0]!.report.namespace;
      // The key, not the report: a moved member's report still names `default`.
      if (key !== serviceAccountKey(namespace, 'default')) continue;
      for (const m of [...members]) {
        const keeps = m.intent === 'keep' || (m.intent === 'frozen' && m.report.token.needed === 'unknown' && !m.typeError);
        if (!keeps || m.automountNow === false || m.immutable) continue;
        if (m.ref.kind === 'Pod' && inventory.origin === 'cluster') continue; // a live Pod's SA is immutable
        const newName = dedicatedName(inventory, namespace, m.ref.name, takenNames);
        takenNames.add(`${namespace}/${newName}`);
        const saRef: ServiceAccountRef = { namespace, name: newName };
        const why = m.report.token.needed === 'yes' ? 'needs the API' : 'may need the API (need unknown; moved with the same permissions, nothing lost)';
        plan.steps.push({
          kind: 'create-sa',
          serviceAccount: saRef,
          forWorkload: m.ref,
          object: {
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            metadata: { name: newName, namespace, labels: { 'app.kubernetes.io/managed-by': 'kube-sa-audit' } },
          },
          reason: `${describe(m.ref)} ${why} but runs as the shared default service account; it gets its own`,
        });
        for (const b of bindingsNaming(inventory, namespace, 'default')) {
          const copyName = `${b.name}-${newName}`.slice(0, 253);
          plan.steps.push({
            kind: 'copy-binding',
            from: { kind: b.kind, namespace: b.namespace, name: b.name, location: b.location },
            forWorkload: m.ref,
            object: {
              apiVersion: 'rbac.authorization.k8s.io/v1',
              kind: b.kind,
              metadata: {
                name: copyName,
                ...(b.kind === 'RoleBinding' ? { namespace: b.namespace } : {}),
                labels: { 'app.kubernetes.io/managed-by': 'kube-sa-audit' },
                annotations: { 'kube-sa-audit.io/copied-from': `${b.kind}/${b.namespace ? b.namespace + '/' : ''}${b.name}` },
              },
              roleRef: { ...b.roleRef },
              subjects: [{ kind: 'ServiceAccount', name: newName, namespace }],
            },
            reason: `${b.kind} ${b.namespace ? b.namespace + '/' : ''}${b.name} grants default what ${describe(m.ref)} may use; the copy grants it to ${newName}`,
          });
        }
        plan.steps.push({
          kind: 'set-service-account',
          workload: m.ref,
          before: m.report.serviceAccount,
          value: newName,
          reason: `run ${describe(m.ref)} as its dedicated service account ${newName}`,
        });
        // The member now lives in its own group (SA without a manifest value: automount stays on).
        m.intent = 'keep';
        groups.set(serviceAccountKey(namespace, newName), [{ ...m, automountNow: true }]);
        members.splice(members.indexOf(m), 1);
        groupsMovedFrom.set(key, (groupsMovedFrom.get(key) ?? 0) + 1);
        if (members.length === 0) emptiedDefaults.set(key, m.ref);
      }
      const defaultBindings = bindingsNaming(inventory, namespace, 'default');
      const moved = groupsMovedFrom.get(key) ?? 0;
      if (defaultBindings.length && moved > 0) {
        // Nobody left on default may use the grant (the rest do not need a token): move it, not just copy it.
        if (!members.some((m) => m.intent !== 'remove' && m.automountNow !== false)) {
          for (const b of defaultBindings) {
            const remove = b.subjects.filter((s) => subjectIsServiceAccount(b, s, namespace, 'default'));
            plan.steps.push({
              kind: 'remove-binding-subject',
              binding: { kind: b.kind, namespace: b.namespace, name: b.name, location: b.location },
              remove,
              before: b.subjects,
              after: b.subjects.filter((s) => !remove.includes(s)),
              reason: `${b.kind} ${b.namespace ? b.namespace + '/' : ''}${b.name} was copied to the dedicated service accounts; no workload left on ${key} needs it, so default leaves its subjects`,
            });
          }
        } else {
          plan.manual.push({
            serviceAccount: key,
            reason: `bindings still grant ${key}: ${defaultBindings.map((b) => `${b.kind} ${b.name}`).join(', ')}; some workloads left on default may need them; remove default from their subjects once they have their own service accounts`,
          });
        }
      }
    }
  }

  for (const [key, members] of groups) {
    if (members.length === 0) {
      const moved = emptiedDefaults.get(key);
      const sa = inventory.serviceAccounts.get(key);
      if (moved && level === 'sa' && sa?.automountServiceAccountToken !== false) {
        plan.steps.push({
          kind: 'sa-automount',
          serviceAccount: { namespace: moved.namespace, name: 'default', location: sa?.location, resourceVersion: sa?.resourceVersion },
          create: !sa,
          nextTo: moved,
          before: sa?.automountServiceAccountToken,
          value: false,
          reason: `every workload that used ${key} now runs as its own service account; pods created through default later get no token`,
        });
      }
      continue;
    }
    const namespace = members[0]!.report.namespace;
    const saName = key.slice(namespace.length + 1);
    const sa: ServiceAccount | undefined = inventory.serviceAccounts.get(key);
    const saValue = sa?.automountServiceAccountToken;
    const remove = members.filter((m) => m.intent === 'remove');
    const toRemove = remove.filter((m) => m.automountNow !== false);
    const keep = members.filter((m) => m.intent === 'keep');
    const frozen = members.filter((m) => m.intent === 'frozen');

    for (const m of remove) {
      const others = otherApiTokenSources(m.report);
      if (others.length) plan.manual.push({ workload: m.ref, reason: `does not need a token but also gets one from ${others.join(', ')}; automount off does not remove it, delete it by hand` });
    }

    let saLevel = level === 'sa' && toRemove.length > 0;
    let fallbackWhy = '';
    if (saLevel && sa?.typeErrors?.includes('automountServiceAccountToken')) {
      saLevel = false;
      fallbackWhy = `service account ${key} has an automountServiceAccountToken of the wrong type`;
    }
    if (saLevel && !sa && saName !== 'default') {
      saLevel = false;
      fallbackWhy = `service account ${key} is not in the input, so it cannot be edited here`;
    }
    // Flipping the SA would take the token from an `unknown` member that relies on it.
    const frozenRelying = frozen.filter((m) => m.podValue === undefined && m.automountNow !== false);
    if (saLevel && frozenRelying.length) {
      saLevel = false;
      fallbackWhy = `service account ${key} is also used by ${frozenRelying.map((m) => describe(m.ref)).join(', ')} (need unknown), which would lose its token`;
    }
    // A member that needs its token but whose template cannot opt in would lose it.
    const stuckKeepers = keep.filter((m) => m.immutable && m.podValue !== true && m.automountNow !== false);
    if (saLevel && stuckKeepers.length) {
      saLevel = false;
      fallbackWhy = `${stuckKeepers.map((m) => describe(m.ref)).join(', ')} needs its token and cannot opt in (${stuckKeepers[0]!.immutable})`;
    }
    if (saLevel && sa && saValue === false) saLevel = false; // already off: only pod-level true overrides remain
    const manualOff = (m: Member): void => {
      plan.manual.push({ workload: m.ref, reason: `does not need its token, but ${m.immutable}; set automountServiceAccountToken: false at its source` });
    };

    const promise = (m: Member, automount: boolean): void => {
      plan.promised.push({ workload: m.ref, automount });
    };

    if (saLevel) {
      const keepers = keep.filter((m) => m.automountNow !== false);
      plan.steps.push({
        kind: 'sa-automount',
        serviceAccount: { namespace, name: saName, location: sa?.location, resourceVersion: sa?.resourceVersion },
        create: !sa,
        nextTo: toRemove[0]!.ref,
        before: saValue,
        value: false,
        reason:
          keepers.length === 0
            ? `no workload using ${key} needs its token (${toRemove.map((m) => describe(m.ref)).join(', ')})`
            : `${toRemove.length} of ${members.length} workloads using ${key} do not need its token; the ${keepers.length} that do opt in per pod`,
      });
      for (const m of keepers) {
        if (m.podValue === true) {
          promise(m, true);
          continue;
        }
        plan.steps.push({
          kind: 'pod-automount',
          workload: m.ref,
          before: m.podValue,
          value: true,
          reason: `${describe(m.ref)} needs its token; it opts in explicitly because ${key} turns automount off`,
        });
        promise(m, true);
      }
      for (const m of remove) {
        if (m.podValue === true && m.immutable) {
          manualOff(m);
          promise(m, true);
          continue;
        }
        if (m.podValue === true) {
          plan.steps.push({ kind: 'pod-automount', workload: m.ref, before: true, value: false, reason: `${describe(m.ref)} does not need its token but sets automount true itself, overriding the service account` });
        }
        promise(m, false);
        if (m.automountNow !== false && needsRestart(m.ref, m.podValue === true)) plan.restart.push(m.ref);
      }
      for (const m of frozen) if (m.automountNow !== 'unknown') promise(m, m.automountNow);
    } else {
      for (const m of toRemove) {
        if (m.immutable) {
          manualOff(m);
          continue;
        }
        plan.steps.push({
          kind: 'pod-automount',
          workload: m.ref,
          before: m.podValue,
          value: false,
          reason: `${describe(m.ref)} does not need its token (${m.report.token.neededReason})${fallbackWhy ? `; per pod because ${fallbackWhy}` : level === 'pod' ? '; --level pod' : ''}`,
        });
        if (needsRestart(m.ref, true)) plan.restart.push(m.ref);
      }
      for (const m of members) {
        if (m.intent === 'remove' && !(m.immutable && m.automountNow !== false)) promise(m, false);
        else if (m.automountNow !== 'unknown') promise(m, m.automountNow);
      }
    }
  }
  return plan;
}

/** One line per step, for the dry run. */
export function renderPlan(plan: FixPlan): string {
  const out: string[] = [];
  if (plan.steps.length === 0) out.push('Nothing to change: no workload carries a token it does not need, or every such change is unsafe (see below).');
  for (const s of plan.steps) {
    switch (s.kind) {
      case 'sa-automount':
        out.push(`- ServiceAccount ${s.serviceAccount.namespace}/${s.serviceAccount.name}: ${s.create ? 'create it with' : 'set'} automountServiceAccountToken: false — ${s.reason}`);
        break;
      case 'pod-automount':
        out.push(`- ${s.workload.kind} ${s.workload.namespace}/${s.workload.name}: pod template automountServiceAccountToken: ${s.value} — ${s.reason}`);
        break;
      case 'create-sa':
        out.push(`- ServiceAccount ${s.serviceAccount.namespace}/${s.serviceAccount.name}: create — ${s.reason}`);
        break;
      case 'copy-binding':
        out.push(`- ${s.object.kind} ${(s.object.metadata?.namespace ? s.object.metadata.namespace + '/' : '') + s.object.metadata?.name}: create — ${s.reason}`);
        break;
      case 'set-service-account':
        out.push(`- ${s.workload.kind} ${s.workload.namespace}/${s.workload.name}: serviceAccountName ${s.before} → ${s.value} — ${s.reason}`);
        break;
      case 'remove-binding-subject':
        out.push(`- ${s.binding.kind} ${s.binding.namespace ? s.binding.namespace + '/' : ''}${s.binding.name}: remove subject ${s.remove.map((x) => `${x.kind} ${x.name}`).join(', ')} — ${s.reason}`);
        break;
    }
  }
  if (plan.untouched.length) {
    out.push('', 'Not changed:');
    for (const n of plan.untouched) out.push(`- ${n.workload ? `${n.workload.kind} ${n.workload.namespace}/${n.workload.name}` : n.serviceAccount}: ${n.reason}`);
  }
  if (plan.manual.length) {
    out.push('', 'Left for you:');
    for (const n of plan.manual) out.push(`- ${n.workload ? `${n.workload.kind} ${n.workload.namespace}/${n.workload.name}` : n.serviceAccount}: ${n.reason}`);
  }
  return out.join('\n') + '\n';
}
