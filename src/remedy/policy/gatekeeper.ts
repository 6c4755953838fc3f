// Gatekeeper ConstraintTemplates (templates.gatekeeper.sh/v1, Rego) and their Constraints. Gatekeeper's
// webhook sees pods after the ServiceAccount admission plugin mutated them, as the VAP does. `import rego.v1`
// keeps the v1 keywords valid on OPA 0.59+ and OPA 1.x alike. Not run against Gatekeeper in our tests (no
// Gatekeeper in the test control plane); the VAP and the Kyverno CEL rules are.
import type { KubeObject } from '../../inventory/types.ts';
import type { PolicyOptions } from './common.ts';
import { ALL_SA_GROUPS_EXACT, ALL_SA_GROUP_PREFIX, BOOTSTRAP_LABEL, TEMPLATE_KINDS, exclusionExpressions } from './common.ts';

const REGO_TOKEN = `package k8ssaauditdefaultsatoken

import rego.v1

pod_spec(obj) := obj.spec if obj.kind == "Pod"
pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"
pod_spec(obj) := obj.spec.template.spec if not obj.kind in {"Pod", "CronJob"}

sa_name(spec) := spec.serviceAccountName if object.get(spec, "serviceAccountName", "") != ""
sa_name(spec) := object.get(spec, "serviceAccount", "") if object.get(spec, "serviceAccountName", "") == ""

uses_default(spec) if sa_name(spec) in {"", "default"}

token_volume(spec) if {
  some v in object.get(spec, "volumes", [])
  startswith(v.name, "kube-api-access-")
}
token_volume(spec) if {
  some v in object.get(spec, "volumes", [])
  some s in object.get(object.get(v, "projected", {}), "sources", [])
  object.get(object.get(s, "serviceAccountToken", {"audience": "x"}), "audience", "") == ""
}

violation contains {"msg": msg} if {
  obj := input.review.object
  obj.kind == "Pod"
  spec := pod_spec(obj)
  uses_default(spec)
  token_volume(spec)
  msg := sprintf("pod %v runs as the default service account and would mount its token; set automountServiceAccountToken: false or use its own service account", [object.get(obj.metadata, "name", "")])
}

violation contains {"msg": msg} if {
  obj := input.review.object
  obj.kind != "Pod"
  spec := pod_spec(obj)
  uses_default(spec)
  not object.get(spec, "automountServiceAccountToken", true) == false
  msg := sprintf("%v %v: its pods run as the default service account and would mount its token; set automountServiceAccountToken: false in the pod template or use its own service account", [obj.kind, obj.metadata.name])
}

violation contains {"msg": msg} if {
  obj := input.review.object
  obj.kind != "Pod"
  spec := pod_spec(obj)
  uses_default(spec)
  token_volume(spec)
  msg := sprintf("%v %v: its pod template projects a token of the default service account", [obj.kind, obj.metadata.name])
}
`;

const REGO_BINDINGS = `package k8ssaauditsabindings

import rego.v1

all_sa_groups := {${ALL_SA_GROUPS_EXACT.map((g) => `"${g}"`).join(', ')}}

bad(s) if { s.kind == "ServiceAccount"; s.name == "default" }
bad(s) if { s.kind == "User"; startswith(s.name, "system:serviceaccount:"); endswith(s.name, ":default") }
bad(s) if { s.kind == "Group"; s.name in all_sa_groups }
bad(s) if { s.kind == "Group"; startswith(s.name, "${ALL_SA_GROUP_PREFIX}") }

violation contains {"msg": msg} if {
  obj := input.review.object
  not object.get(object.get(obj.metadata, "labels", {}), "${BOOTSTRAP_LABEL.key}", "") == "${BOOTSTRAP_LABEL.value}"
  some s in object.get(obj, "subjects", [])
  bad(s)
  msg := sprintf("%v %v grants %v %v to %v %v, which every pod of a namespace (or the cluster) can use; bind a dedicated service account instead", [obj.kind, obj.metadata.name, obj.roleRef.kind, obj.roleRef.name, s.kind, s.name])
}
`;

export function gatekeeperPolicies(opts: PolicyOptions): KubeObject[] {
  const enforcementAction = opts.mode === 'deny' ? 'deny' : opts.mode === 'warn' ? 'warn' : 'dryrun';
  const objExpr = exclusionExpressions(opts, false);
  const nsExpr = exclusionExpressions(opts, false);
  const match = (kinds: { apiGroups: string[]; kinds: string[] }[]) => ({
    kinds,
    ...(opts.excludeNamespaces.length ? { excludedNamespaces: [...opts.excludeNamespaces] } : {}),
    ...(objExpr.length ? { labelSelector: { matchExpressions: objExpr } } : {}),
    ...(nsExpr.length ? { namespaceSelector: { matchExpressions: nsExpr } } : {}),
  });
  const template = (name: string, kind: string, rego: string): KubeObject => ({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kube-sa-audit' } },
    spec: { crd: { spec: { names: { kind } } }, targets: [{ target: 'admission.k8s.gatekeeper.sh', rego }] },
  });
  const byGroup = new Map<string, string[]>();
  for (const k of TEMPLATE_KINDS) byGroup.set(k.group, [...(byGroup.get(k.group) ?? []), k.kind]);
  return [
    template('k8ssaauditdefaultsatoken', 'K8sSaAuditDefaultSaToken', REGO_TOKEN),
    {
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: 'K8sSaAuditDefaultSaToken',
      metadata: { name: `${opts.namePrefix}-default-sa-token` },
      spec: { enforcementAction, match: match([{ apiGroups: [''], kinds: ['Pod'] }, ...[...byGroup].map(([g, kinds]) => ({ apiGroups: [g], kinds: g === '' ? kinds : kinds }))]) },
    },
    template('k8ssaauditsabindings', 'K8sSaAuditSaBindings', REGO_BINDINGS),
    {
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: 'K8sSaAuditSaBindings',
      metadata: { name: `${opts.namePrefix}-sa-bindings` },
      spec: { enforcementAction, match: match([{ apiGroups: ['rbac.authorization.k8s.io'], kinds: ['RoleBinding', 'ClusterRoleBinding'] }]) },
    },
  ];
}
