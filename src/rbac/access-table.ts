// `kubectl auth can-i --list` output from a rules review, byte for byte: kubectl breaks every rule into
// one-verb/one-resource/one-name rules (rbacutil.BreakdownRule), merges the simple ones that differ only by
// verb (CompactRules), sorts by the Go String() of the PolicyRule, and prints through a tabwriter
// (minwidth 6, tabwidth 4, padding 3, padchar ' ') — staging/src/k8s.io/kubectl/pkg/cmd/auth/cani.go.
// Pinned to kubectl v1.36.3 by test/e2e/rbac-can-i.test.ts (byte-equal tables for every corpus ServiceAccount).
import type { PolicyRule } from '../inventory/types.ts';
import { breakdownRule } from './match.ts';
import type { RulesReview } from './engine.ts';

const goList = (l: string[] | undefined): string => `[${(l ?? []).join(' ')}]`;

/** The generated protobuf String() of rbac/v1 PolicyRule, which kubectl sorts by. */
export function goPolicyRuleString(r: PolicyRule): string {
  return `&PolicyRule{Verbs:${goList(r.verbs)},APIGroups:${goList(r.apiGroups)},Resources:${goList(r.resources)},ResourceNames:${goList(r.resourceNames)},NonResourceURLs:${goList(r.nonResourceURLs)},}`;
}

function isSimple(r: PolicyRule): string | undefined {
  if ((r.resourceNames ?? []).length > 1 || (r.nonResourceURLs ?? []).length > 0) return undefined;
  if ((r.apiGroups ?? []).length !== 1 || (r.resources ?? []).length !== 1) return undefined;
  const names = r.resourceNames ?? [];
  return JSON.stringify([r.apiGroups![0], r.resources![0], names.length > 0, names[0] ?? '']);
}

export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = isSimple(r);
    if (key === undefined) {
      out.push(r);
      continue;
    }
    const existing = simple.get(key);
    // kubectl v1.36 keeps each verb once per simple rule (checked against its output: a Role and a
    // ClusterRole granting the same verbs print `[get list]`, not `[get list get list]`).
    if (existing) {
      for (const v of r.verbs) if (!existing.verbs.includes(v)) existing.verbs.push(v);
    } else simple.set(key, { ...r, verbs: [...r.verbs] });
  }
  return [...out, ...simple.values()];
}

/** describe.CombineResourceGroup: first resource and first group only (`deployments.apps/scale`). */
export function combineResourceGroup(resources: string[] | undefined, groups: string[] | undefined): string {
  if (!resources || resources.length === 0) return '';
  const first = resources[0]!;
  const slash = first.indexOf('/');
  let out = slash < 0 ? first : first.slice(0, slash);
  if (groups && groups.length > 0 && groups[0] !== '') out += '.' + groups[0];
  if (slash >= 0) out += first.slice(slash);
  return out;
}

/** Go text/tabwriter with kubectl's settings, for lines whose cells are separated by '\t'. */
export function tabwrite(lines: string[][], minwidth = 6, padding = 3): string {
  const cols = Math.max(0, ...lines.map((l) => l.length - 1));
  const widths: number[] = [];
  for (let c = 0; c < cols; c++) {
    let w = minwidth;
    for (const l of lines) if (c < l.length - 1) w = Math.max(w, [...l[c]!].length + padding);
    widths.push(w);
  }
  return lines.map((l) => l.map((cell, i) => (i < l.length - 1 ? cell + ' '.repeat(widths[i]! - [...cell].length) : cell)).join('') + '\n').join('');
}

export function accessTable(review: Pick<RulesReview, 'resourceRules' | 'nonResourceRules'>, opts: { noHeaders?: boolean } = {}): string {
  const rules: PolicyRule[] = [
    ...review.resourceRules.map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, resourceNames: r.resourceNames })),
    ...review.nonResourceRules.map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
  ];
  const broken = rules.flatMap(breakdownRule);
  const keyed = compactRules(broken).map((r) => ({ r, k: goPolicyRuleString(r) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const lines: string[][] = [];
  if (!opts.noHeaders) lines.push(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
  for (const { r } of keyed) lines.push([combineResourceGroup(r.resources, r.apiGroups), goList(r.nonResourceURLs), goList(r.resourceNames), goList(r.verbs)]);
  return tabwrite(lines);
}
