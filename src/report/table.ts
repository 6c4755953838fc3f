// `-o table` (default): one block per namespace with a row per workload, then the findings, then a summary.
// Colour only when asked (stdout is a TTY and NO_COLOR is unset; decided by the caller).
import type { Finding, ScanResult, Severity, Tri, WorkloadReport } from '../analysis/types.ts';
import { describeGap } from '../inventory/gaps.ts';

export interface TableOptions {
  color?: boolean;
}

const SGR: Record<string, string> = { red: '31', yellow: '33', green: '32', cyan: '36', magenta: '35', dim: '2', bold: '1' };
const SEVERITY_COLOUR: Record<Severity, string> = { critical: 'magenta', high: 'red', medium: 'yellow', low: 'cyan', info: 'dim' };

function painter(on: boolean) {
  return (colour: string, s: string): string => (on && SGR[colour] ? `\u001b[${SGR[colour]}m${s}\u001b[0m` : s);
}

function triWord(t: Tri): string {
  return t === 'unknown' ? 'unknown' : t ? 'yes' : 'no';
}

function tokenCell(r: WorkloadReport): string {
  const t = r.token;
  if (t.mounted === false) return 'no';
  if (t.mounted === 'unknown') return 'unknown';
  return t.apiAccess === true ? 'yes (API)' : t.apiAccess === 'unknown' ? 'yes (API?)' : 'yes (non-API)';
}

function viaCell(r: WorkloadReport): string {
  const kinds = [...new Set(r.token.sources.map((s) => s.kind))];
  return kinds.length ? kinds.join(',') : '-';
}

/** Pads cells to column widths; the last column is not padded. Width ignores colour codes. */
function layout(rows: string[][], plain: string[][]): string[] {
  const widths: number[] = [];
  for (const row of plain) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row, ri) => row.map((c, i) => (i === row.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - (plain[ri]?.[i] ?? c).length))).join('  ').trimEnd());
}

export function renderTable(result: ScanResult, opts: TableOptions = {}): string {
  const paint = painter(opts.color === true);
  const lines: string[] = [];
  const byNs = new Map<string, WorkloadReport[]>();
  for (const r of result.workloads) byNs.set(r.namespace, [...(byNs.get(r.namespace) ?? []), r]);
  const findingsByNs = new Map<string, Finding[]>();
  for (const f of result.findings) {
    const ns = f.resource.namespace ?? '';
    findingsByNs.set(ns, [...(findingsByNs.get(ns) ?? []), f]);
  }
  const namespaces = [...new Set([...byNs.keys(), ...findingsByNs.keys()])].sort();
  for (const ns of namespaces) {
    lines.push(paint('bold', ns ? `NAMESPACE ${ns}` : 'CLUSTER-SCOPED'));
    const workloads = (byNs.get(ns) ?? []).sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    if (workloads.length) {
      const header = ['WORKLOAD', 'PODS', 'SERVICEACCOUNT', 'TOKEN', 'VIA', 'CONTAINERS', 'NEEDED'];
      const plain = [header, ...workloads.map((r) => [`${r.kind}/${r.name}`, String(r.pods), r.serviceAccount + (r.serviceAccountStatus === 'missing' ? ' (missing)' : ''), tokenCell(r), viaCell(r), r.token.containers.join(',') || '-', triWord(r.token.needed === 'yes' ? true : r.token.needed === 'no' ? false : 'unknown')])];
      const coloured = plain.map((row, i) => {
        if (i === 0) return row.map((c) => paint('dim', c));
        const r = workloads[i - 1]!;
        const tokenColour = r.token.apiAccess === true ? 'red' : r.token.mounted === 'unknown' || r.token.apiAccess === 'unknown' ? 'yellow' : 'green';
        return row.map((c, j) => (j === 3 ? paint(tokenColour, c) : c));
      });
      for (const l of layout(coloured, plain)) lines.push('  ' + l);
    }
    const fs = findingsByNs.get(ns) ?? [];
    if (fs.length) {
      lines.push('  ' + paint('dim', 'FINDINGS'));
      for (const f of fs) {
        const where = f.location && f.message.includes(f.location.file) ? '' : f.location && f.location.line > 0 ? ` (${f.location.file}:${f.location.line})` : f.location && !f.location.file.startsWith('cluster:') ? ` (${f.location.file})` : '';
        lines.push(`  ${paint(SEVERITY_COLOUR[f.severity], f.severity.toUpperCase().padEnd(8))} ${f.rule}: ${f.message}${where}`);
      }
    }
    lines.push('');
  }
  const s = result.summary;
  const counts = Object.entries(s.findingsBySeverity)
    .filter(([, n]) => n > 0)
    .reverse()
    .map(([sev, n]) => `${n} ${sev}`)
    .join(', ');
  lines.push(
    `${s.workloads} workload${s.workloads === 1 ? '' : 's'} (${s.pods} pod${s.pods === 1 ? '' : 's'} in the input): ${s.withToken} mount a token, ${s.withApiToken} an API token` +
      (s.tokenNotNeeded ? `, ${s.tokenNotNeeded} without needing it` : '') +
      `; findings: ${counts || 'none'}`,
  );
  if (result.gaps.length) {
    // Say what could not be seen and which verdicts that weakens: an incomplete scan must never read as clean.
    lines.push(paint('yellow', `incomplete: could not read ${result.gaps.map(describeGap).join(', ')}`));
    for (const g of result.gaps) {
      lines.push(paint('yellow', `  ${describeGap(g)}: ${g.reason}`));
      if (g.weakens.length) lines.push(paint('yellow', `    unknown because of it: ${g.weakens.join('; ')}`));
    }
  }
  return lines.join('\n') + '\n';
}
