// Output formats of `scan`; one file per format.
import type { ScanResult } from '../analysis/types.ts';
import { renderTable } from './table.ts';
import { renderJson, writeJson } from './json.ts';
import type { Writable } from 'node:stream';
import { renderYaml } from './yaml.ts';
import { renderJqAudit } from './jq-audit.ts';

/** Formats `-o/--format` accepts. (SARIF, JUnit and PolicyReport slot in here.) */
export const FORMATS = ['table', 'json', 'yaml', 'jq-audit'] as const;
export type Format = (typeof FORMATS)[number];

export const isFormat = (s: string): s is Format => (FORMATS as readonly string[]).includes(s);

export function render(format: Format, result: ScanResult, opts: { color?: boolean } = {}): string {
  switch (format) {
    case 'json':
      return renderJson(result);
    case 'yaml':
      return renderYaml(result);
    case 'jq-audit':
      return renderJqAudit(result);
    default:
      return renderTable(result, opts);
  }
}

/**
 * Writes a report to a stream. JSON is streamed element by element (flat memory for 150,000-pod reports);
 * the other formats are small enough to render whole.
 */
export async function writeReport(format: Format, result: ScanResult, out: Writable, opts: { color?: boolean } = {}): Promise<void> {
  if (format === 'json') return writeJson(result, out);
  out.write(render(format, result, opts));
}

export { renderTable, renderJson, renderYaml, renderJqAudit, writeJson };
