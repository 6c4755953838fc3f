// Real-world bundles on the real control plane: the workload controllers make pods, the ServiceAccount
// admission plugin decides which containers get the kube-api-access volume, and the offline resolver
// (manifests → inventory → resolveWorkloadToken) must predict exactly that, container by container.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { sharedControlPlane, type ControlPlane } from "../helpers/control-plane.ts";
import { InventoryBuilder } from "../../src/inventory/build.ts";
import { readManifests } from "../../src/sources/manifests/index.ts";
import { resolveWorkloadToken } from "../../src/admission/index.ts";
import type { Inventory, Workload } from "../../src/inventory/types.ts";

const CORPUS = process.env.KSA_CORPUS_DIR ?? path.resolve(import.meta.dirname, "../../../shared/corpus/real-world");
const ACCESS_PREFIX = "kube-api-access-";

// Kinds that matter to token admission; everything else (Services, CRDs, webhooks, cluster-scoped RBAC)
// is left out so that the shared control plane stays usable by the other test files.
const WORKLOAD_KINDS = new Set(["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController"]);
const APPLIED_KINDS = new Set([...WORKLOAD_KINDS, "ServiceAccount", "Secret"]);

interface Bundle {
  name: string;
  paths: string[];
}

const BUNDLES: Bundle[] = [
  { name: "microservices-demo", paths: ["microservices-demo/release/kubernetes-manifests.yaml"] },
  { name: "istio-bookinfo", paths: ["istio-bookinfo/bookinfo.yaml"] },
  { name: "kube-prometheus", paths: ["kube-prometheus/manifests"] },
  { name: "argo-cd", paths: ["argo-cd/install.yaml"] },
];

async function ok(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function manifestFiles(p: string): string[] {
  const abs = path.join(CORPUS, p);
  if (!fs.statSync(abs).isDirectory()) return [abs];
  return fs.readdirSync(abs, { recursive: true, encoding: "utf8" }).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(abs, f));
}

/** The raw objects as kubectl would send them (go-yaml reads YAML 1.1, hence version "1.1"). */
function rawObjects(files: string[]): any[] {
  const out: any[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(f, "utf8"), { version: "1.1" })) {
      const o = doc.toJS();
      if (!o || typeof o !== "object") continue;
      if (o.kind === "List" && Array.isArray(o.items)) out.push(...o.items);
      else out.push(o);
    }
  }
  return out;
}

interface ServerPod {
  name: string;
  owner: string; // `Kind/name` of the workload in the input it came from
  mountedInto: string[]; // containers (init + regular) that mount the kube-api-access volume
  hasVolume: boolean;
}

/** Which containers the ServiceAccount admission plugin gave the injected volume. */
function injected(pod: any): { hasVolume: boolean; mountedInto: string[] } {
  const vol = (pod.spec.volumes ?? []).find((v: any) => v.name.startsWith(ACCESS_PREFIX));
  if (!vol) return { hasVolume: false, mountedInto: [] };
  const all = [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])];
  return { hasVolume: true, mountedInto: all.filter((c: any) => (c.volumeMounts ?? []).some((m: any) => m.name === vol.name)).map((c: any) => c.name).sort() };
}

function predictedAutomount(w: Workload, inv: Inventory): { containers: string[]; verdict: ReturnType<typeof resolveWorkloadToken> } {
  const verdict = resolveWorkloadToken(w, inv);
  const containers = [...new Set(verdict.sources.filter((s) => s.kind === "automount").flatMap((s) => s.containers))].sort();
  return { containers, verdict };
}

// The pod template of an object the controllers cannot make pods for here (no nodes, no schedule).
function templateOf(o: any): any {
  return o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template;
}

const runId = Math.random().toString(36).slice(2, 7);

for (const [index, bundle] of BUNDLES.entries()) {
  test(`admission on the real server matches the offline resolver: ${bundle.name}`, async (t) => {
    const cp = await sharedControlPlane();
    const files = bundle.paths.flatMap(manifestFiles);

    // Offline: the product's own reading of the same files.
    const builder = new InventoryBuilder();
    await readManifests(files, builder);
    const inv = builder.finish();
    const errors = inv.problems.filter((p) => p.level === "error");
    assert.deepEqual(errors, [], "the bundle reads without errors");

    // On the server: every namespace of the bundle, renamed so runs and bundles never collide.
    const nsMap = new Map<string, string>();
    const mapNs = (ns: string | undefined) => {
      const key = ns || "default";
      if (!nsMap.has(key)) nsMap.set(key, `sm-${runId}-b${index}-${key}`.slice(0, 63));
      return nsMap.get(key)!;
    };
    const objects = rawObjects(files).filter((o) => APPLIED_KINDS.has(o.kind));
    for (const o of objects) o.metadata.namespace = mapNs(o.metadata.namespace);
    for (const ns of new Set(nsMap.values())) {
      await ok(cp, ["create", "namespace", ns]);
      await eventually(`default SA in ${ns}`, async () => ((await cp.kubectl(["get", "sa", "default", "-n", ns])).code === 0 ? true : undefined));
    }
    // SAs and Secrets first, so that the controllers' first pod creations already see them.
    const first = objects.filter((o) => !WORKLOAD_KINDS.has(o.kind));
    if (first.length) await ok(cp, ["apply", "--server-side", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: first }));
    const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
    assert.ok(workloads.length >= 3, "the bundle has workloads");
    await ok(cp, ["apply", "--server-side", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: workloads }));
    // DaemonSets (no nodes) and CronJobs (no schedule tick) make no pods here: admit their template as a Pod.
    for (const o of workloads.filter((w) => w.kind === "DaemonSet" || w.kind === "CronJob")) {
      const t = templateOf(o);
      await ok(cp, ["create", "-f", "-"], JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `probe-${o.kind.toLowerCase()}-${o.metadata.name}`.slice(0, 63), namespace: o.metadata.namespace, annotations: { "ksa.test/template-of": `${o.kind}/${o.metadata.name}` } },
        spec: t.spec,
      }));
    }

    const wantsPods = (o: any) => !["DaemonSet", "CronJob"].includes(o.kind) && (o.spec?.replicas ?? 1) !== 0 && (o.kind !== "Job" || (o.spec?.parallelism ?? 1) !== 0);
    const serverPods = await eventually("the controllers to create pods for every workload", async () => {
      const pods: ServerPod[] = [];
      for (const ns of new Set(nsMap.values())) {
        const items = JSON.parse(await ok(cp, ["get", "pods,replicasets", "-n", ns, "-o", "json"])).items as any[];
        const rsOwner = new Map(items.filter((i) => i.kind === "ReplicaSet").map((rs) => [rs.metadata.name, rs.metadata.ownerReferences?.[0]]));
        for (const p of items.filter((i) => i.kind === "Pod")) {
          let owner = p.metadata.annotations?.["ksa.test/template-of"] as string | undefined;
          const ref = p.metadata.ownerReferences?.[0];
          if (!owner && ref) {
            const up = ref.kind === "ReplicaSet" ? rsOwner.get(ref.name) : undefined;
            owner = up ? `${up.kind}/${up.name}` : `${ref.kind}/${ref.name}`;
          }
          pods.push({ name: `${ns}/${p.metadata.name}`, owner: `${ns}|${owner ?? `Pod/${p.metadata.name}`}`, ...injected(p) });
        }
      }
      const missing = workloads.filter((o) => wantsPods(o) && !pods.some((p) => p.owner === `${o.metadata.namespace}|${o.kind}/${o.metadata.name}`));
      return missing.length === 0 ? pods : undefined;
    });

    // The controllers really produced pods (not only the probes this test created).
    const controllerMade = serverPods.filter((p) => !p.name.includes("/probe-"));
    assert.ok(controllerMade.length >= workloads.filter(wantsPods).length, "at least one pod per workload that wants pods");

    const mismatches: string[] = [];
    let compared = 0;
    for (const w of inv.workloads) {
      if (!WORKLOAD_KINDS.has(w.kind)) continue;
      const key = `${mapNs(w.namespace)}|${w.kind}/${w.name}`;
      const pods = serverPods.filter((p) => p.owner === key);
      if (pods.length === 0) {
        mismatches.push(`${w.kind} ${w.namespace}/${w.name} (${w.location.file}:${w.location.line}): no pod on the server to compare with`);
        continue;
      }
      const { containers, verdict } = predictedAutomount(w, inv);
      for (const p of pods) {
        compared++;
        if (p.mountedInto.join(",") !== containers.join(",") || verdict.automount.effective === "unknown") {
          mismatches.push(
            `${w.kind} ${w.namespace}/${w.name} (${w.location.file}:${w.location.line}): server pod ${p.name} has the kube-api-access volume mounted into [${p.mountedInto.join(", ")}]` +
              `${p.hasVolume ? "" : " (no volume)"}; the resolver predicts [${containers.join(", ")}] (automount ${verdict.automount.effective}, ${verdict.reason})`,
          );
        }
      }
    }
    const withToken = serverPods.filter((p) => p.mountedInto.length > 0).length;
    t.diagnostic(`${bundle.name}: ${workloads.length} workloads, ${controllerMade.length} controller-made pods, ${compared} pods compared, ${withToken} with the token mounted, ${compared - withToken} without`);
    assert.ok(compared >= workloads.length, `compared ${compared} pods for ${workloads.length} workloads`);
    assert.deepEqual(mismatches, [], `admission vs resolver mismatches in ${bundle.name}:\n${mismatches.join("\n")}`);
  });
}
