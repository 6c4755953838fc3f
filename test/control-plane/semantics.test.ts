// Confirms, on the real v1.36 API server, the behaviours kubernetes-semantics.md marked [unverified] that
// kube-sa-audit depends on. docs/development.md records the answers; these tests keep them true.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { eventually, kubectlOk, sharedControlPlane, uniqueNamespace, type ControlPlane } from "../helpers/control-plane.ts";

const ok = kubectlOk;

async function namespaceWithDefaultSa(cp: ControlPlane): Promise<string> {
  const ns = uniqueNamespace();
  await ok(cp, ["create", "namespace", ns]);
  await eventually("default SA", async () => ((await cp.kubectl(["get", "sa", "default", "-n", ns])).code === 0 ? true : undefined));
  return ns;
}

// Claims only; the signature part is never looked at and the token is never printed.
function jwtClaims(token: string): any {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

test("`automountServiceAccountToken: no` applied with kubectl is the boolean false (YAML 1.1)", async () => {
  const cp = await sharedControlPlane();
  const ns = await namespaceWithDefaultSa(cp);
  const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: yaml11
  namespace: ${ns}
spec:
  automountServiceAccountToken: no
  containers:
    - name: app
      image: registry.example/app:1
`;
  await ok(cp, ["apply", "-f", "-"], yaml);
  const pod = JSON.parse(await ok(cp, ["get", "pod", "yaml11", "-n", ns, "-o", "json"]));
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.ok(!(pod.spec.volumes ?? []).some((v: any) => v.name.startsWith("kube-api-access-")), "no token volume");
  // The same through server-side apply, which sends the YAML converted by kubectl as well.
  await ok(cp, ["apply", "--server-side", "-f", "-"], yaml.replace("yaml11", "yaml11-ssa"));
  const ssa = JSON.parse(await ok(cp, ["get", "pod", "yaml11-ssa", "-n", ns, "-o", "json"]));
  assert.equal(ssa.spec.automountServiceAccountToken, false);
});

test("a legacy Secret token authenticates with no user.extra at all (no credential-id), and gets last-used tracking", async () => {
  const cp = await sharedControlPlane();
  const ns = await namespaceWithDefaultSa(cp);
  await ok(cp, ["create", "serviceaccount", "legacy", "-n", ns]);
  await ok(cp, ["apply", "-f", "-"], JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: { name: "legacy-token", namespace: ns, annotations: { "kubernetes.io/service-account.name": "legacy" } },
  }));
  const encoded = await eventually("the token controller to fill the Secret", async () => {
    const t = (await ok(cp, ["get", "secret", "legacy-token", "-n", ns, "-o", "jsonpath={.data.token}"])).trim();
    return t.length > 0 ? t : undefined;
  });
  const token = Buffer.from(encoded, "base64").toString("utf8");
  assert.equal(jwtClaims(token).iss, "kubernetes/serviceaccount", "legacy tokens carry the legacy issuer");
  const base = await cp.kubeconfigFor({ serviceAccount: { namespace: ns, name: "legacy" } });
  const who = JSON.parse(await ok(cp, ["auth", "whoami", "-o", "json", `--kubeconfig=${base}`, `--token=${token}`]));
  const extra = who.status.userInfo.extra ?? {};
  assert.equal(who.status.userInfo.username, `system:serviceaccount:${ns}:legacy`);
  assert.deepEqual(Object.keys(extra), [], "legacy tokens have no JTI, so no credential-id, and no pod/node binding");
  // A TokenRequest token, by contrast, carries credential-id JTI=<jti>.
  const bound = JSON.parse(await ok(cp, ["auth", "whoami", "-o", "json", `--kubeconfig=${base}`])).status.userInfo.extra;
  assert.match(bound["authentication.kubernetes.io/credential-id"][0], /^JTI=[0-9a-f-]{36}$/);
  const labels = await eventually("legacy-token-last-used label", async () => {
    const s = JSON.parse(await ok(cp, ["get", "secret", "legacy-token", "-n", ns, "-o", "json"]));
    return s.metadata.labels?.["kubernetes.io/legacy-token-last-used"] ? s.metadata.labels : undefined;
  });
  assert.match(labels["kubernetes.io/legacy-token-last-used"], /^\d{4}-\d{2}-\d{2}$/);
});

test("SubjectAccessReview takes groups verbatim: without the SA groups, group bindings are missed", async () => {
  const cp = await sharedControlPlane();
  const ns = await namespaceWithDefaultSa(cp);
  await ok(cp, ["create", "serviceaccount", "reader", "-n", ns]);
  await ok(cp, ["create", "rolebinding", "group-view", "-n", ns, "--clusterrole=view", `--group=system:serviceaccounts:${ns}`]);
  const sar = async (groups: string[] | undefined) => {
    const spec: any = { user: `system:serviceaccount:${ns}:reader`, resourceAttributes: { namespace: ns, verb: "list", resource: "pods" } };
    if (groups) spec.groups = groups;
    const out = await ok(cp, ["create", "-o", "json", "-f", "-"], JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec }));
    return JSON.parse(out).status;
  };
  assert.equal((await sar(undefined)).allowed, false, "no groups sent → the group binding does not apply");
  const withGroups = await sar(["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"]);
  assert.equal(withGroups.allowed, true);
  // The reason names the grant as RoleBinding "<name>/<namespace>" of ClusterRole "<role>" to Group "<group>".
  assert.equal(withGroups.reason, `RBAC: allowed by RoleBinding "group-view/${ns}" of ClusterRole "view" to Group "system:serviceaccounts:${ns}"`);
  // Impersonation adds the SA groups itself.
  const canI = await cp.kubectl(["auth", "can-i", "list", "pods", "-n", ns, `--as=system:serviceaccount:${ns}:reader`]);
  assert.equal(canI.stdout.trim(), "yes");
});

test("--api-audiences defaults to the issuer; a token for another audience is rejected", async () => {
  const cp = await sharedControlPlane();
  const ns = await namespaceWithDefaultSa(cp);
  const token = await cp.tokenFor(ns, "default");
  const claims = jwtClaims(token);
  assert.deepEqual(claims.aud, ["https://kubernetes.default.svc.cluster.local"]);
  assert.equal(claims.iss, "https://kubernetes.default.svc.cluster.local");
  const other = await cp.tokenFor(ns, "default", { audiences: ["vault"] });
  assert.deepEqual(jwtClaims(other).aud, ["vault"]);
  const base = await cp.kubeconfigFor({ serviceAccount: { namespace: ns, name: "default" } });
  const rejected = await cp.kubectl(["auth", "whoami", `--kubeconfig=${base}`, `--token=${other}`]);
  assert.notEqual(rejected.code, 0);
  assert.match(rejected.stderr, /Unauthorized|must be logged in/i);
});

test("workload controllers produce Pending pods with the injected token volume (DaemonSets need nodes)", async () => {
  const cp = await sharedControlPlane();
  const ns = await namespaceWithDefaultSa(cp);
  const labels = { app: "web" };
  const template = { metadata: { labels }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } };
  await ok(cp, ["apply", "-f", "-"], JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: ns }, spec: { replicas: 2, selector: { matchLabels: labels }, template } },
      { apiVersion: "batch/v1", kind: "Job", metadata: { name: "once", namespace: ns }, spec: { template: { spec: { restartPolicy: "Never", containers: template.spec.containers } } } },
      { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "ds", namespace: ns }, spec: { selector: { matchLabels: { app: "ds" } }, template: { ...template, metadata: { labels: { app: "ds" } } } } },
    ],
  }));
  const pods = await eventually("2 Deployment pods and 1 Job pod", async () => {
    const items = JSON.parse(await ok(cp, ["get", "pods", "-n", ns, "-o", "json"])).items as any[];
    return items.filter((p) => p.metadata.labels?.app === "web").length === 2 && items.some((p) => p.metadata.labels?.["job-name"] === "once") ? items : undefined;
  });
  for (const p of pods) {
    assert.equal(p.status.phase, "Pending");
    assert.ok(p.spec.volumes.some((v: any) => v.name.startsWith("kube-api-access-")), `${p.metadata.name} has the token volume`);
  }
  assert.ok(!pods.some((p) => p.metadata.labels?.app === "ds"), "no nodes → the DaemonSet controller creates no pods");
  const rs = JSON.parse(await ok(cp, ["get", "replicasets", "-n", ns, "-o", "json"])).items;
  assert.equal(rs.length, 1, "the Deployment went through a ReplicaSet");
});

test("managedFields of an applied Secret name data keys but never carry values", async () => {
  const cp = await sharedControlPlane();
  const ns = uniqueNamespace();
  await ok(cp, ["create", "namespace", ns]);
  const marker = "c2VjcmV0LXZhbHVlLW1hcmtlcg=="; // base64 of a marker string
  await ok(cp, ["apply", "--server-side", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: ns }, data: { password: marker } }));
  const meta = JSON.parse(await ok(cp, ["get", "secret", "s", "-n", ns, "-o", "json", "--show-managed-fields"])).metadata;
  const mf = JSON.stringify(meta.managedFields);
  assert.ok(mf.includes('"f:password"'), "key name present");
  assert.ok(!mf.includes(marker), "value absent");
});

test("ValidatingAdmissionPolicy is served as admissionregistration.k8s.io/v1 and enforced by default", async () => {
  const cp = await sharedControlPlane();
  const ns = await namespaceWithDefaultSa(cp);
  const name = `ksa-deny-${ns}`;
  await ok(cp, ["apply", "-f", "-"], JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] }] },
          validations: [{ expression: "!object.metadata.name.startsWith('forbidden')", message: "name 'forbidden' is not allowed" }],
        },
      },
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name },
        spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } } },
      },
    ],
  }));
  try {
    // Policies reach the admission plugin through an informer: retry until the denial shows. Each try uses a
    // new name, so a try admitted before the policy arrived cannot turn the next one into "already exists".
    let attempt = 0;
    const denied = await eventually("the policy to be enforced", async () => {
      const r = await cp.kubectl(["create", "configmap", `forbidden-${attempt++}`, "-n", ns]);
      return r.code !== 0 ? r.stderr : undefined;
    });
    assert.match(denied, /name 'forbidden' is not allowed/);
    await ok(cp, ["create", "configmap", "allowed", "-n", ns]);
  } finally {
    await cp.kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name, "--ignore-not-found"]);
  }
});
