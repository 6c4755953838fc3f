// CIS 5.1.5/5.1.6: the `default` ServiceAccount is shared by every pod of the namespace that names no other,
// so a token of it mounted into a pod is a credential nobody chose to hand out.
import type { Rule } from '../../analysis/types.ts';
import { workloadRule } from '../workload-rule.ts';
import { nameOf, resourceOf } from './util.ts';

export const defaultServiceAccountToken: Rule = workloadRule({
  id: 'token-default-service-account',
  severity: 'medium',
  title: 'API token of the default ServiceAccount mounted',
  explanation:
    'The pod runs as the namespace\'s `default` ServiceAccount and receives a token the API server accepts. Every pod that names no ' +
    'ServiceAccount shares this identity, so any permission granted to `default` (often "temporarily") reaches all of them. ' +
    'Admission mounts the token unless the pod or the ServiceAccount sets automountServiceAccountToken: false (semantics §1.4; CIS 5.1.5, 5.1.6).',
  remediation:
    'If the pod does not call the Kubernetes API, set `automountServiceAccountToken: false` in the pod template. If it does, give it a ' +
    'dedicated ServiceAccount with only the permissions it needs (`kube-sa-audit fix` plans both).',
  checkWorkload: (_ctx, r, w) => {
    if (r.serviceAccount !== 'default') return undefined;
    const own = r.token.sources.filter((s) => (s.kind === 'automount' || s.kind === 'projected') && s.apiAudience === true && s.containers.length > 0);
    if (!own.length) return undefined;
    const containers = [...new Set(own.flatMap((s) => s.containers))];
    return {
      rule: 'token-default-service-account',
      severity: ('medium' as const),
      resource: resourceOf(r),
      message: `${nameOf(r)} mounts an API token of ServiceAccount ${r.namespace}/default into ${containers.join(', ')} (${w.alreadyAdmitted ? 'as admitted: it has the injected volume' : r.token.automount.decidedBy === 'pod' ? 'the pod template turns automount on' : r.token.automount.decidedBy === 'serviceaccount' ? 'the default ServiceAccount turns automount on' : 'automount is on by default'})`,
      location: r.token.automount.decidedBy === 'pod' ? (r.token.automount.podLocation ?? r.location) : r.location,
      details: { containers, sources: own.map((s) => s.kind) },
    };
  },
});
