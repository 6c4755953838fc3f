// Kubernetes decodes YAML with YAML 1.1 booleans (sigs.k8s.io/yaml on go-yaml): `no`, `off`, `n` mean false,
// `yes`, `on`, `y` mean true. YAML 1.2 tools (many scanners, yq, editors) read them as strings, so the same
// manifest means different things to the API server and to the tools that check it (ecosystem.md §6.2).
import type { Finding, Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { at, nameOf, resourceOf } from './util.ts';

const CANONICAL = new Set(['true', 'false']);

export function isNonCanonicalBoolean(spelling: string | undefined): spelling is string {
  return spelling !== undefined && !CANONICAL.has(spelling.trim());
}

export const automountNonCanonicalBoolean: Rule = workloadRule({
  id: 'token-automount-non-canonical-boolean',
  severity: 'low',
  title: 'Non-canonical boolean for automountServiceAccountToken',
  explanation:
    'automountServiceAccountToken is written as something other than `true`/`false` (e.g. `no`, `off`, `True`). The API server reads ' +
    'YAML 1.1 booleans, so `no` turns the token off, but YAML 1.2 tools read the string "no" and may treat the field as unset or as ' +
    'an error, so scanners and reviewers can disagree with the cluster about whether a token is mounted.',
  remediation: 'Write `true` or `false`.',
  checkWorkload: (_ctx, r, w) => {
    if (!isNonCanonicalBoolean(w.automountSpelling)) return undefined;
    const loc = w.automountLine !== undefined ? { ...w.location, line: w.automountLine } : w.location;
    return {
      rule: 'token-automount-non-canonical-boolean',
      severity: ('low' as const),
      resource: resourceOf(r),
      message: `${nameOf(r)} spells automountServiceAccountToken as \`${w.automountSpelling}\` (${at(loc)}); Kubernetes reads it as ${w.template.spec.automountServiceAccountToken}: write ${w.template.spec.automountServiceAccountToken}`,
      location: loc,
      details: { spelling: w.automountSpelling, value: w.template.spec.automountServiceAccountToken },
    };
  },
  checkRest(ctx) {
    const out: Finding[] = [];
    for (const sa of ctx.inventory.serviceAccounts.values()) {
      if (!isNonCanonicalBoolean(sa.automountSpelling)) continue;
      out.push({
        rule: 'token-automount-non-canonical-boolean',
        severity: ('low' as const),
        resource: { kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name },
        message: `ServiceAccount ${sa.namespace}/${sa.name} spells automountServiceAccountToken as \`${sa.automountSpelling}\` (${at(sa.location)}); Kubernetes reads it as ${sa.automountServiceAccountToken}: write ${sa.automountServiceAccountToken}`,
        location: sa.location,
        details: { spelling: sa.automountSpelling, value: sa.automountServiceAccountToken },
      });
    }
    return out;
  },
});
