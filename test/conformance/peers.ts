// Runs kube-sa-audit on the peer tools' own fixtures for the automount / default-ServiceAccount checks and maps
// our answer onto each peer check's pass/fail meaning (shared by the conformance test and its report script).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InventoryBuilder } from '../../src/inventory/build.ts';
import { readManifests } from '../../src/sources/manifests/index.ts';
import { analyzeInventory } from '../../src/analysis/scan.ts';
import type { ScanResult } from '../../src/analysis/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';

export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'corpus');

export interface Expectation {
  tool: string;
  check: string;
  file: string;
  resource: string;
  expected: 'pass' | 'fail';
  case_dir?: string;
  document_index?: number;
  note?: string;
}

/** How our answer maps onto a peer check. */
type Mapping = 'token-mounted' | 'default-sa-automount-default-on' | 'finding:token-default-service-account' | 'finding:token-deprecated-service-account-field' | 'finding:token-service-account-missing' | 'sa-automount-default-on' | 'legacy-token-secret';

/** The automount / default-SA checks compared, and what "fail" means for each in our terms. */
export const CHECKS: Record<string, { mapping: Mapping; meaning: string }> = {
  'kubeaudit asat/AutomountServiceAccountTokenTrueAndDefaultSA': { mapping: 'finding:token-default-service-account', meaning: 'API token of the default SA mounted' },
  'kubeaudit asat/AutomountServiceAccountTokenDeprecated': { mapping: 'finding:token-deprecated-service-account-field', meaning: 'deprecated serviceAccount field' },
  'kube-linter default-service-account': { mapping: 'finding:token-default-service-account', meaning: 'API token of the default SA mounted' },
  'kube-linter deprecated-service-account-field': { mapping: 'finding:token-deprecated-service-account-field', meaning: 'deprecated serviceAccount field' },
  'kube-linter non-existent-service-account': { mapping: 'finding:token-service-account-missing', meaning: 'ServiceAccount not found' },
  'checkov CKV_K8S_38': { mapping: 'token-mounted', meaning: 'a token is mounted' },
  // CKV_K8S_41 judges only ServiceAccounts named `default`; any other SA passes by definition of the check.
  'checkov CKV_K8S_41': { mapping: 'default-sa-automount-default-on', meaning: 'pods of the default SA get a token unless they opt out' },
  'polaris automountServiceAccountToken': { mapping: 'token-mounted', meaning: 'a token is mounted' },
  'kyverno-policies restrict-automount-sa-token/validate-automountServiceAccountToken': { mapping: 'token-mounted', meaning: 'a token is mounted' },
  'kyverno-policies restrict-sa-automount-sa-token/validate-sa-automountServiceAccountToken': { mapping: 'sa-automount-default-on', meaning: 'pods of this SA get a token unless they opt out' },
  'kyverno-policies deny-secret-service-account-token-type/deny-secret-service-account-token-type': { mapping: 'legacy-token-secret', meaning: 'a legacy token Secret exists' },
  'gatekeeper-library K8sPSPAutomountServiceAccountTokenPod': { mapping: 'token-mounted', meaning: 'a token is mounted' },
  'kubescape-regolibrary automount-service-account': { mapping: 'token-mounted', meaning: 'a token is mounted' },
  'kubescape-regolibrary automount-default-service-account': { mapping: 'sa-automount-default-on', meaning: 'pods of this SA get a token unless they opt out' },
  'trivy-checks KSV036': { mapping: 'token-mounted', meaning: 'a token is mounted' },
};

export function loadExpectations(): Expectation[] {
  const all = JSON.parse(readFileSync(join(CORPUS, 'peer-fixtures', 'expectations.json'), 'utf8')) as Expectation[];
  return all.filter((e) => `${e.tool} ${e.check}` in CHECKS);
}

async function scanPaths(paths: string[]): Promise<{ result: ScanResult; inventory: Inventory }> {
  const builder = new InventoryBuilder();
  await readManifests(paths, builder);
  const inventory = builder.finish();
  return { result: await analyzeInventory(inventory), inventory };
}

export type Answer = 'pass' | 'fail' | 'unknown' | 'not-scanned';

export interface Comparison extends Expectation {
  ours: Answer;
  /** One line: what we decided, in our terms. */
  why: string;
}

/** Our answer for one expectation row. */
export function answer(e: Expectation, result: ScanResult, inventory: Inventory): { ours: Answer; why: string } {
  const [kind, ns0, name] = e.resource.split('/') as [string, string, string];
  const ns = ns0 === '' ? 'default' : ns0;
  const { mapping } = CHECKS[`${e.tool} ${e.check}`]!;
  if (mapping === 'default-sa-automount-default-on' && name !== 'default') return { ours: 'pass', why: 'not the default ServiceAccount (outside the check)' };
  if (mapping === 'sa-automount-default-on' || mapping === 'default-sa-automount-default-on') {
    const sa = inventory.serviceAccounts.get(`${ns}/${name}`);
    if (!sa) return { ours: 'not-scanned', why: 'ServiceAccount not read' };
    return sa.automountServiceAccountToken === false
      ? { ours: 'pass', why: 'ServiceAccount sets automountServiceAccountToken: false' }
      : { ours: 'fail', why: `ServiceAccount leaves automount ${sa.automountServiceAccountToken === true ? 'on' : 'unset (= on)'}` };
  }
  if (mapping === 'legacy-token-secret') {
    return inventory.tokenSecrets.has(`${ns}/${name}`)
      ? { ours: 'fail', why: 'a kubernetes.io/service-account-token Secret' }
      : { ours: 'pass', why: 'not a service-account token Secret' };
  }
  const w = result.workloads.find((r) => r.kind === kind && r.namespace === ns && r.name === name);
  if (!w) return { ours: 'not-scanned', why: 'no such workload in our scan' };
  if (mapping === 'token-mounted') {
    const m = w.token.mounted;
    return { ours: m === 'unknown' ? 'unknown' : m ? 'fail' : 'pass', why: w.token.reason };
  }
  const rule = mapping.slice('finding:'.length);
  const f = result.findings.find((x) => x.rule === rule && x.resource.kind === kind && x.resource.namespace === ns && x.resource.name === name);
  return f ? { ours: 'fail', why: f.message } : { ours: 'pass', why: `no ${rule} finding: ${w.token.reason}` };
}

/**
 * trivy-checks keeps its example manifests as strings under `kubernetes.good[]`/`bad[]` of a metadata file;
 * those strings are the fixture, so they are written out and scanned as manifests.
 */
function embeddedManifests(path: string): string | undefined {
  if (!path.endsWith('.yaml')) return undefined;
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  const k = (doc as { kubernetes?: { good?: unknown; bad?: unknown } } | null)?.kubernetes;
  if (!k) return undefined;
  const docs = [...(Array.isArray(k.good) ? k.good : []), ...(Array.isArray(k.bad) ? k.bad : [])].filter((x): x is string => typeof x === 'string');
  const dir = mkdtempSync(join(tmpdir(), 'ksa-peer-'));
  const file = join(dir, 'embedded.yaml');
  writeFileSync(file, docs.join('\n---\n'));
  return file;
}

/** Scans every fixture (a kubescape case directory as one input) and compares. */
export async function compareAll(): Promise<Comparison[]> {
  const rows = loadExpectations();
  const groups = new Map<string, Expectation[]>();
  for (const e of rows) {
    const key = e.case_dir ? join(CORPUS, e.case_dir, 'input') : join(CORPUS, e.file);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const out: Comparison[] = [];
  for (const [path, es] of groups) {
    const { result, inventory } = await scanPaths([embeddedManifests(path) ?? path]);
    for (const e of es) out.push({ ...e, ...answer(e, result, inventory) });
  }
  return out;
}

export function agreementByTool(rows: Comparison[]): Record<string, { agree: number; total: number }> {
  const out: Record<string, { agree: number; total: number }> = {};
  for (const r of rows) {
    const k = `${r.tool} ${r.check}`;
    out[k] ??= { agree: 0, total: 0 };
    out[k].total++;
    if (r.ours === r.expected) out[k].agree++;
  }
  return out;
}
