// `--format jq-audit`: exactly the lines of the well-known one-liner
//   kubectl get pods -A -o json | jq -r '.items[] | select(.spec.automountServiceAccountToken != false)
//     | "\(.metadata.namespace)/\(.metadata.name) → SA: \(.spec.serviceAccountName // "default")"'
// for people migrating from it. It prints one line per Pod object of the input, in input order, including
// pods that the other formats fold under their owner, and nothing for templates (the jq only sees pods).
// Faithful to jq: `//` falls back on null and false only; `\(x)` prints strings raw and anything else as JSON.
// Unlike jq fed a mixed List (`kubectl get pods,deployments -o json`), it prints Pods only.
import type { ScanResult } from '../analysis/types.ts';
import type { PodRecord } from '../inventory/types.ts';
import { inventoryOf } from '../analysis/scan.ts';

function jqInterpolate(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

export function jqAuditLine(p: PodRecord): string | undefined {
  if (p.automountFalse) return undefined;
  const sa = p.serviceAccountName === null || p.serviceAccountName === undefined || p.serviceAccountName === false ? 'default' : p.serviceAccountName;
  return `${jqInterpolate(p.namespace)}/${jqInterpolate(p.name)} → SA: ${jqInterpolate(sa)}`;
}

export function renderJqAudit(result: ScanResult): string {
  const records = inventoryOf(result)?.podRecords ?? [];
  let out = '';
  for (const p of records) {
    const line = jqAuditLine(p);
    if (line !== undefined) out += line + '\n';
  }
  return out;
}
