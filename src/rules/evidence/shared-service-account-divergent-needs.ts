// One service account, several workloads, different needs: whatever the SA is granted, every one of them holds
// it. The evidence shows which workloads need what; the split gives each set of needs its own service account
// and turns the token off for the workloads that need none.
import type { Finding, Rule } from '../../analysis/types.ts';
import { evidenceSectionOf } from '../../evidence/section.ts';

export const sharedServiceAccountDivergentNeeds: Rule = {
  id: 'evidence-shared-service-account-divergent-needs',
  severity: 'medium',
  title: 'Service account shared by workloads with different needs',
  explanation:
    'Several workloads run as the same service account, and the audit logs show they use the API differently (some not at all). ' +
    'RBAC grants go to the service account, so each of them holds the union of what all of them need.',
  remediation:
    'Give each set of needs its own service account with the generated least-privilege role (`scan --audit-log … -o json`, section ' +
    'leastPrivilege), and set `automountServiceAccountToken: false` on the workloads that need no token.',
  check(ctx) {
    const section = evidenceSectionOf(ctx);
    if (!section) return [];
    const out: Finding[] = [];
    for (const s of section.sharedServiceAccounts) {
      if (!s.divergent) continue;
      const parts = [
        ...s.split.map((x) => `${x.workloads.join(', ')} → new service account ${x.serviceAccount} (${x.allows.join('; ') || 'no role needed'})`),
        ...(s.noTokenNeeded.length ? [`${s.noTokenNeeded.join(', ')} → no token`] : []),
      ];
      const sa = ctx.inventory.serviceAccounts.get(`${s.namespace}/${s.name}`);
      out.push({
        rule: 'evidence-shared-service-account-divergent-needs',
        severity: 'medium',
        resource: { kind: 'ServiceAccount', namespace: s.namespace, name: s.name },
        message: `ServiceAccount ${s.namespace}/${s.name} is used by ${s.workloads.length} workloads whose audited needs differ; split: ${parts.join('; ')}`,
        ...(sa ? { location: sa.location } : {}),
        details: { workloads: s.workloads, split: s.split, noTokenNeeded: s.noTokenNeeded },
      });
    }
    return out;
  },
};
