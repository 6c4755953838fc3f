// The question behind the whole audit: a pod holds an API token, and the audit logs show its pods never used it
// over a window long enough to conclude (--min-window). Turning the token off cannot break a request that
// succeeds today. Only verdicts the evidence decided (`basis: no-calls-in-window`) are reported here; a token
// whose service account is granted nothing is the RBAC rules' finding.
import type { Finding, Rule } from '../../analysis/types.ts';
import { evidenceSectionOf } from '../../evidence/section.ts';

export const tokenUnusedInWindow: Rule = {
  id: 'evidence-token-never-used',
  severity: 'medium',
  title: 'API token mounted but never used in the audit logs',
  explanation:
    'The workload mounts a service-account token the API server accepts, and no request made with its pods\' Pod-bound tokens ' +
    '(user.extra authentication.kubernetes.io/pod-name) was allowed during the audit window. Every mounted token is a credential ' +
    'an attacker who gets code execution in the pod can use; an unused one is pure risk.',
  remediation:
    'Set `automountServiceAccountToken: false` in the pod template (or on the service account when no workload using it needs a ' +
    'token). `kube-sa-audit fix` plans this per service account.',
  check(ctx) {
    const section = evidenceSectionOf(ctx);
    if (!section) return [];
    const out: Finding[] = [];
    ctx.workloads.forEach((r, i) => {
      const e = section.workloads[i];
      if (!e || e.kind !== r.kind || e.name !== r.name || e.namespace !== r.namespace) return;
      if (e.basis !== 'no-calls-in-window' || r.token.needed !== 'no' || r.token.apiAccess === false) return;
      out.push({
        rule: 'evidence-token-never-used',
        severity: 'medium',
        resource: { kind: r.kind, namespace: r.namespace, name: r.name },
        message: `${r.kind} ${r.namespace}/${r.name} mounts an API token (service account ${r.serviceAccount}) but ${e.reason}: turn the token off`,
        location: r.location,
        details: { serviceAccount: r.serviceAccount, window: section.window.from ? { from: section.window.from, to: section.window.to, coveredDays: section.window.coveredDays } : undefined, deniedRequests: e.denied },
      });
    });
    return out;
  },
};
