// `-o yaml`: the same document as `-o json`, in YAML. Shared objects are written out in full (no anchors),
// so every consumer reads it the same way.
import { stringify } from 'yaml';
import type { ScanResult } from '../analysis/types.ts';

export function renderYaml(result: ScanResult): string {
  // Round-trip through JSON drops undefined fields and non-enumerable helpers exactly as -o json does.
  return stringify(JSON.parse(JSON.stringify(result)), { aliasDuplicateObjects: false, lineWidth: 0 });
}
