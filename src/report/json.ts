// `-o json`: the ScanResult as is (stable field names; see README "JSON output"). Nothing else goes to stdout.
import type { ScanResult } from '../analysis/types.ts';

export function renderJson(result: ScanResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}
