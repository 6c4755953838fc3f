// The RBAC engine of kube-sa-audit: what each token can do, exactly as the RBAC authorizer decides.
//
// API (kept small; other stages import only these):
//   new RbacEngine({roles, clusterRoles, roleBindings, clusterRoleBindings}, {builtin?})  — or
//   RbacEngine.fromInventory(inventory)       built-in policy of the release merged under manifests (input wins);
//                                             a live cluster's own objects are used alone.
//   engine.authorize(user, attrs)             → {allowed, reason, grant?, rule?, errors}: SubjectAccessReview's answer;
//                                             attrs = {verb, apiGroup, resource, subresource?, name?, namespace?}
//                                             or {verb, path}. reason uses the authorizer's wording, e.g.
//                                             `RBAC: allowed by RoleBinding "x/ns" of Role "y" to ServiceAccount "sa/ns"`.
//   engine.rulesFor(user, namespace)          → SelfSubjectRulesReview's RBAC part (resourceRules, nonResourceRules).
//   engine.whoCan(attrs)                      → every subject allowed, with binding and role.
//   engine.allGrants(user)                    → every binding reaching the user (cluster-wide and per namespace).
//   serviceAccountUser(ns, name)              → {name: system:serviceaccount:ns:name, groups: [the 3 SA groups]}.
//   impersonatedUser(name, groups)            → the identity `--as/--as-group` produces.
//   analyzeRbac(inventory, reports, opts)     → fills report.permissions and token.needed; returns RbacAnalysis
//                                             (rules read it as ctx.rbac; use `rbacAnalysisOf(ctx)`).
import type { Inventory, PolicyRule } from '../inventory/types.ts';
import type { PermissionSummary, RuleContext, ServiceAccountReport, WorkloadReport } from '../analysis/types.ts';
import { RbacEngine, serviceAccountUser, type Grant, type UserInfo } from './engine.ts';
import { loadBuiltinPolicy, resolvePolicyVersion, type BuiltinPolicy } from './builtin.ts';
import { covers } from './match.ts';
import { describeGap, rbacGap, rbacGaps as rbacGapsOf } from '../inventory/gaps.ts';
import { dangerousCatalogue, findDangerousIn, type DangerousHit, type DangerousPermission, type RawHit } from './dangerous.ts';

export { RbacEngine, serviceAccountUser, impersonatedUser, splitServiceAccountUser, describeGrant } from './engine.ts';
export type { UserInfo, Grant, Decision, RulesReview, WhoCanEntry, RbacInput } from './engine.ts';
export type { RequestAttributes, ResourceAttributes, NonResourceAttributes } from './match.ts';
export { ruleAllows, covers } from './match.ts';
export { loadBuiltinPolicy, PINNED_POLICY_VERSION } from './builtin.ts';
export type { BuiltinPolicy } from './builtin.ts';
export { dangerousCatalogue } from './dangerous.ts';
export type { DangerousHit, DangerousPermission } from './dangerous.ts';

export interface RbacAnalysisOptions {
  /** Built-in policy release to assume (`v1.36.3`), default: the inventory's server version or the pinned one. */
  builtinPolicyVersion?: string;
}

/** What one service account's token can do. */
export interface ServiceAccountPermissions {
  namespace: string;
  name: string;
  user: UserInfo;
  grants: Grant[];
  /** Grants beyond the defaults every authenticated service account gets. */
  extraGrants: Grant[];
  errors: string[];
  dangerous: DangerousHit[];
  onlyDefaults: boolean;
  equivalentToClusterAdmin: boolean;
  summary: PermissionSummary;
}

export interface RbacAnalysis {
  engine: RbacEngine;
  kubernetesVersion: string;
  catalogue: DangerousPermission[];
  /** The rules the built-in policy gives every service account (system:basic-user, system:discovery, …). */
  defaultRules: PolicyRule[];
  /** Names of the built-in bindings those default rules come from. */
  defaultBindings: string[];
  /**
   * Everything about one ServiceAccount's grants, worked out afresh on each call (the scan itself keeps only
   * each account's summary: see `accountOf` in analyzeRbac).
   */
  permissionsOf(namespace: string, name: string): ServiceAccountPermissions;
  /** Whether a grant gives nothing beyond the defaults. */
  isDefaultGrant(g: Grant): boolean;
  /** The ServiceAccounts the workloads run as, in order of first use, with their permissions. */
  serviceAccounts: ServiceAccountReport[];
}

const NO_LINES: string[] = Object.freeze([]) as unknown as string[];
const NO_GRANTS: PermissionSummary['grants'] = Object.freeze([]) as unknown as PermissionSummary['grants'];

/** What the scan keeps of one ServiceAccount's permissions (analyzeRbac's memo). */
interface ServiceAccount {
  namespace: string;
  name: string;
  summary: PermissionSummary;
  /** How many grants go beyond the defaults. */
  extraGrants: number;
  /** The need verdict of its workloads that mount a token (one shared sentence), once worked out. */
  need: { needed: 'no' | 'unknown'; reason: string } | undefined;
  /** Whether a workload has used it yet (its entry in ScanResult.serviceAccounts is then made). */
  used: boolean;
}

/** Typed access to ctx.rbac for rules. */
export const rbacAnalysisOf = (ctx: RuleContext): RbacAnalysis | undefined => ctx.rbac as RbacAnalysis | undefined;

const minorOf = (v: string): number => Number(/^v?\d+\.(\d+)/.exec(v)?.[1] ?? 36);

const formatted = new WeakMap<PolicyRule, string>();
export function formatRule(r: PolicyRule): string {
  const hit = formatted.get(r);
  if (hit !== undefined) return hit;
  const s = formatRuleUncached(r);
  formatted.set(r, s);
  return s;
}

function formatRuleUncached(r: PolicyRule): string {
  const verbs = r.verbs.join(',');
  if ((r.nonResourceURLs ?? []).length > 0) return `${verbs} ${r.nonResourceURLs!.join(',')}`;
  const res: string[] = [];
  for (const g of r.apiGroups ?? []) for (const x of r.resources ?? []) res.push(g === '' ? x : `${x}.${g}`);
  const names = (r.resourceNames ?? []).length > 0 ? ` named ${r.resourceNames!.join(',')}` : '';
  return `${verbs} ${res.join(',')}${names}`;
}

// Grants are shared objects (RbacEngine.toGrant): each is described once, and every line naming it refers to
// that one string (the arrow makes it a two-byte string, twice the size of its characters).
const grantNames = new WeakMap<Grant, string>();
export function formatGrant(g: Grant): string {
  let hit = grantNames.get(g);
  if (hit === undefined) grantNames.set(g, (hit = formatGrantUncached(g)));
  return hit;
}

function formatGrantUncached(g: Grant): string {
  const b = g.binding.kind === 'RoleBinding' ? `RoleBinding ${g.binding.namespace}/${g.binding.name}` : `ClusterRoleBinding ${g.binding.name}`;
  return `${b} → ${g.role.kind} ${g.role.name}`;
}

export function analyzeRbac(inventory: Inventory, reports: WorkloadReport[], opts: RbacAnalysisOptions = {}): RbacAnalysis {
  const run = startRbacAnalysis(inventory, opts);
  const serviceAccounts: ServiceAccountReport[] = [];
  for (const report of reports) {
    const first = run.add(report);
    if (first) serviceAccounts.push(first);
  }
  run.done();
  return { ...run.analysis, serviceAccounts };
}

/** An RBAC analysis fed one workload report at a time (analyzeRbac feeds it all of them). */
export interface RbacAnalysisRun {
  /** The analysis; its `serviceAccounts` stays empty (the caller lists what `add` returns). */
  analysis: RbacAnalysis;
  /**
   * Sets `report.permissions` and `report.token.needed`; returns the ServiceAccount's report entry the first time
   * a workload uses that ServiceAccount, else undefined.
   */
  add(report: WorkloadReport): ServiceAccountReport | undefined;
  /** Drops what only `add` shares through. */
  done(): void;
}

export interface RbacAnalysisRunOptions {
  /**
   * Once an entry has been handed out by `add`, keep only what the rules read of its summary (onlyDefaults,
   * dangerous, equivalentToClusterAdmin; no lines or grants) for the later workloads of that ServiceAccount.
   * For a caller that writes each entry out at once (analysis/streamed-json.ts); default false.
   */
  slimAfterFirstUse?: boolean;
}

export function startRbacAnalysis(inventory: Inventory, opts: RbacAnalysisOptions = {}, mode: RbacAnalysisRunOptions = {}): RbacAnalysisRun {
  const version = resolvePolicyVersion(opts.builtinPolicyVersion ?? inventory.serverVersion);
  const engine = RbacEngine.fromInventory(inventory, { builtinPolicyVersion: version });
  const kubernetesVersion = inventory.serverVersion ?? version;
  let baselinePolicy: BuiltinPolicy | null = engine.builtin;
  if (!baselinePolicy) {
    try {
      baselinePolicy = loadBuiltinPolicy(version);
    } catch {
      baselinePolicy = null;
    }
  }
  // "Default" is derived from the built-in policy: what it grants a service account nobody bound anything to.
  // The namespace contains ':' so no real binding can name it.
  const baselineEngine = new RbacEngine({ roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] }, { builtin: baselinePolicy });
  const baseline = baselineEngine.allGrants(serviceAccountUser('kube-sa-audit:baseline', 'baseline')).grants;
  const defaultRules = baseline.flatMap((g) => g.rules);
  const defaultBindings = baseline.map((g) => g.binding.name);
  const catalogue = dangerousCatalogue(minorOf(kubernetesVersion));
  // Memoised by the role's rule list (shared by every grant of that role) and by rule: a cluster has few
  // roles and many service accounts.
  const defaultByRules = new WeakMap<readonly PolicyRule[], boolean>();
  const isDefaultGrant = (g: Grant): boolean => {
    let v = defaultByRules.get(g.rules);
    if (v === undefined) defaultByRules.set(g.rules, (v = covers(defaultRules, g.rules).covered));
    return v;
  };
  const defaultByRule = new WeakMap<PolicyRule, boolean>();
  const isDefaultRule = (r: PolicyRule): boolean => {
    let v = defaultByRule.get(r);
    if (v === undefined) defaultByRule.set(r, (v = covers(defaultRules, [r]).covered));
    return v;
  };
  const dangerousMemo = new Map<string, RawHit[]>();

  // A live scan that could not list some RBAC objects cannot say "nothing beyond the defaults": missing
  // bindings would only ever add permissions (kubescape #3069: a 403 read as "absent" is a false pass). Every
  // summary is then a lower bound and every need verdict `unknown` (audit evidence may still prove a "yes").
  const rbacGaps = rbacGapsOf(inventory);
  const missing = rbacGap(inventory);
  const memo = new Map<string, Map<string, ServiceAccount>>();
  // Most grants reach many service accounts (group bindings, one RoleBinding per namespace): the summaries'
  // lines and entries are shared between them instead of copied per account (read-only; same JSON). A grant's
  // lines depend on the grant alone (its rules, scope and binding), so they are made once per shared Grant:
  // building and hashing each account's lines to find the shared copy cost ~0.3 s at 150,000 pods.
  const gapLines = rbacGaps.map((g) => `incomplete: ${describeGap(g)} could not be read (${g.reason}); grants from it are unknown`);
  // A caller that writes each summary out at once (slimAfterFirstUse) gets the lines made afresh instead: kept
  // for every grant until the end, they were ~20 MB of a streamed 150,000-pod scan that never reads them again.
  const linesByGrant = mode.slimAfterFirstUse ? undefined : new WeakMap<Grant, readonly string[]>();
  const linesOfGrant = (g: Grant): readonly string[] => {
    let hit = linesByGrant?.get(g);
    if (hit === undefined) {
      const where = g.scope === '' ? 'cluster-wide' : whereIn(g.scope);
      const made: string[] = [];
      for (const rule of g.rules) if (!isDefaultRule(rule)) made.push(`${formatRule(rule)} ${where} (${formatGrant(g)})`);
      linesByGrant?.set(g, made);
      hit = made;
    }
    return hit;
  };
  // Grant paths and dangerous entries are shared between the summaries that hold them, unless each summary is
  // written out at once (slimAfterFirstUse): sharing then only keeps them, and their keys, alive to the end.
  const grantPaths = mode.slimAfterFirstUse ? undefined : new WeakMap<Grant, PermissionSummary['grants'][number]>();
  const grantPathOf = (g: Grant): PermissionSummary['grants'][number] => {
    let hit = grantPaths?.get(g);
    if (hit === undefined) {
      hit = { binding: g.binding, role: { kind: g.role.kind, name: g.role.name }, via: g.via, scope: g.scope, builtin: g.builtin };
      grantPaths?.set(g, hit);
    }
    return hit;
  };
  const dangerousEntries = new Map<string, PermissionSummary['dangerous'][number]>();
  const dangerousEntryOf = (d: DangerousHit): PermissionSummary['dangerous'][number] => {
    if (mode.slimAfterFirstUse) return { id: d.id, severity: d.severity, why: d.why, scope: d.scope, via: d.via };
    const key = `${d.id}\u0000${d.severity}\u0000${d.why}\u0000${d.scope}\u0000${d.via}`;
    let hit = dangerousEntries.get(key);
    if (hit === undefined) dangerousEntries.set(key, (hit = { id: d.id, severity: d.severity, why: d.why, scope: d.scope, via: d.via }));
    return hit;
  };
  const inNamespace = new Map<string, string>();
  const whereIn = (ns: string): string => {
    let w = inNamespace.get(ns);
    if (w === undefined) inNamespace.set(ns, (w = `in namespace ${ns}`));
    return w;
  };
  const permissionsOf = (namespace: string, name: string): ServiceAccountPermissions => {
    const user = serviceAccountUser(namespace, name);
    const found = engine.allGrants(user);
    const grants = found.grants; // shared, read-only Grant objects (RbacEngine.toGrant)
    const errors = found.errors;
    const dangerous = findDangerousIn(grants, catalogue, dangerousMemo);
    const extraGrants = grants.filter((g) => !isDefaultGrant(g));
    const equivalentToClusterAdmin = dangerous.some((d) => d.id === 'cluster-admin');
    const lines: string[] = [];
    for (const g of extraGrants) for (const line of linesOfGrant(g)) lines.push(line);
    for (const e of [...new Set(errors)]) lines.push(`binding to a missing role: ${e}`);
    for (const line of gapLines) lines.push(line);
    const summary: PermissionSummary = {
      onlyDefaults: extraGrants.length === 0 && rbacGaps.length === 0,
      lines,
      grants: grants.map(grantPathOf),
      dangerous: dangerous.map(dangerousEntryOf),
      equivalentToClusterAdmin,
      ...(missing ? { incomplete: `${missing}: the permissions listed are a lower bound` } : {}),
    };
    return { namespace, name, user, grants, extraGrants, errors, dangerous, onlyDefaults: summary.onlyDefaults, equivalentToClusterAdmin, summary };
  };
  // What the scan keeps of each account: its summary (the report's), and how many grants go beyond the defaults
  // (the need verdict's). The user, the grant lists and the raw hits that permissionsOf also returns were 20 of
  // the 110 MB the RBAC analysis kept alive at 150,000 pods, until the report was written.
  const accountOf = (namespace: string, name: string): ServiceAccount => {
    // By namespace, then name: both are the inventory's own strings, whose hashes are kept, where a joined key
    // was a new string to hash on each of the 66,757 calls at 150,000 pods.
    let inNamespace = memo.get(namespace);
    if (inNamespace === undefined) memo.set(namespace, (inNamespace = new Map()));
    let hit = inNamespace.get(name);
    if (hit === undefined) {
      const p = permissionsOf(namespace, name);
      inNamespace.set(name, (hit = { namespace, name, summary: p.summary, extraGrants: p.extraGrants.length, need: undefined, used: false }));
    }
    return hit;
  };

  // The need verdict depends only on the ServiceAccount (and whether a token is mounted at all), so every
  // workload of an account shares one sentence instead of building its own.
  const NOT_MOUNTED = { needed: 'no', reason: 'no service-account token is mounted or injected, so nothing depends on one' } as const;
  const INCOMPLETE = missing ? ({ needed: 'unknown', reason: `${missing}, so whether the token grants anything beyond the defaults is unknown` } as const) : undefined;
  const needOf = (p: ServiceAccount, notMounted: boolean): { needed: 'no' | 'unknown'; reason: string } => {
    // Unreadable RBAC leaves every need verdict `unknown`, a token-less workload's included.
    if (INCOMPLETE) return INCOMPLETE;
    // Semantics: "needed" asks whether the workload would lose API access without a token. A workload that
    // already runs without one needs none, whatever its service account may do.
    if (notMounted) return NOT_MOUNTED;
    if (p.need !== undefined) return p.need;
    let hit: { needed: 'no' | 'unknown'; reason: string };
    const who = `${p.namespace}/${p.name}`;
    if (p.summary.onlyDefaults) {
      hit = { needed: 'no', reason: `service account ${who} has no permissions beyond the defaults every authenticated identity gets (${defaultBindings.join(', ')}); removing the token cannot break an API call that would have succeeded` };
    } else {
      hit = { needed: 'unknown', reason: `service account ${who} holds ${p.extraGrants} grant(s) beyond the defaults; whether the workload uses them is unknown until evidence says more` };
    }
    // Kept for the account's later workloads, unless each verdict is written out at once (slimAfterFirstUse):
    // then making the sentence again is cheaper than holding one per ServiceAccount to the end.
    if (!mode.slimAfterFirstUse) p.need = hit;
    return hit;
  };
  const add = (report: WorkloadReport): ServiceAccountReport | undefined => {
    const p = accountOf(report.namespace, report.serviceAccount);
    // Each ServiceAccount's permissions are reported once (ScanResult.serviceAccounts): at 150,000 pods,
    // repeating them in every workload was 60 % of a 440 MB report. Workloads keep a reference in memory.
    Object.defineProperty(report, 'permissions', { value: p.summary, enumerable: false, writable: true, configurable: true });
    const { needed, reason } = needOf(p, report.token.mounted === false);
    report.token.needed = needed;
    report.token.neededReason = reason;
    if (p.used) return undefined;
    p.used = true;
    const entry: ServiceAccountReport = { namespace: report.namespace, name: report.serviceAccount, permissions: p.summary };
    if (mode.slimAfterFirstUse) {
      const full = p.summary;
      p.summary = { onlyDefaults: full.onlyDefaults, lines: NO_LINES, grants: NO_GRANTS, dangerous: full.dangerous, equivalentToClusterAdmin: full.equivalentToClusterAdmin, ...(full.incomplete !== undefined ? { incomplete: full.incomplete } : {}) };
    }
    return entry;
  };
  // Only `add` shares through this; later permissionsOf calls still work without it.
  const done = (): void => dangerousEntries.clear();

  return { analysis: { engine, kubernetesVersion, catalogue, defaultRules, defaultBindings, permissionsOf, isDefaultGrant, serviceAccounts: [] }, add, done };
}
