// `-o yaml`: the same document as `-o json`, in YAML. Shared objects are written out in full (no anchors),
// so every consumer reads it the same way.
import { createRequire } from 'node:module';
import type { ScanResult } from '../analysis/types.ts';

export function renderYaml(result: ScanResult): string {
  // Loaded when YAML is asked for: every scan imports this module, and `yaml` takes 30–35 ms to load.
  const { stringify } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  // Round-trip through JSON drops undefined fields and non-enumerable helpers exactly as -o json does.
  return stringify(JSON.parse(JSON.stringify(result)), { aliasDuplicateObjects: false, lineWidth: 0 });
}
