// Dumps the built-in RBAC policy of the pinned Kubernetes release from a REAL control plane (after the
// ClusterRole aggregation controller ran) into data/rbac/<version>.json, so offline analysis of manifests
// knows `admin`, `edit`, `view`, `cluster-admin` and `system:*` exactly as that release defines them.
//   node scripts/dump-builtin-rbac.ts            # starts a control plane, or uses KSA_TEST_CONTROL_PLANE
//   node scripts/dump-builtin-rbac.ts --check    # exit 1 if the committed file differs from the server
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { attachControlPlane, readState, startControlPlane, type ControlPlane } from "../test/control-plane/harness.ts";

export const GENERATED_BY = "scripts/dump-builtin-rbac.ts";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LABEL = "kubernetes.io/bootstrapping=rbac-defaults";

export interface BuiltinRbacDump {
  kubernetesVersion: string;
  generatedBy: string;
  clusterRoles: unknown[];
  clusterRoleBindings: unknown[];
  roles: unknown[];
  roleBindings: unknown[];
}

export function builtinRbacFile(version: string): string {
  return path.join(ROOT, "data", "rbac", `${version}.json`);
}

// Server-assigned bookkeeping differs per cluster and carries no policy; everything else is kept as served.
function clean(obj: any): unknown {
  const { uid, resourceVersion, creationTimestamp, managedFields, generation, selfLink, ...metadata } = obj.metadata ?? {};
  void uid, resourceVersion, creationTimestamp, managedFields, generation, selfLink;
  return { ...obj, metadata };
}

async function list(cp: ControlPlane, kinds: string, allNamespaces: boolean): Promise<any[]> {
  const r = await cp.kubectl(["get", kinds, ...(allNamespaces ? ["-A"] : []), "-l", LABEL, "-o", "json"]);
  if (r.code !== 0) throw new Error(`kubectl get ${kinds} failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout).items as any[];
}

function byKey(a: any, b: any): number {
  const ka = `${a.metadata.namespace ?? ""}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ""}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export async function dumpBuiltinRbac(cp: ControlPlane): Promise<BuiltinRbacDump> {
  const cluster = await list(cp, "clusterroles,clusterrolebindings", false);
  const namespaced = await list(cp, "roles,rolebindings", true);
  const pick = (items: any[], kind: string) => items.filter((o) => o.kind === kind).sort(byKey).map(clean);
  return {
    kubernetesVersion: cp.version,
    generatedBy: GENERATED_BY,
    clusterRoles: pick(cluster, "ClusterRole"),
    clusterRoleBindings: pick(cluster, "ClusterRoleBinding"),
    roles: pick(namespaced, "Role"),
    roleBindings: pick(namespaced, "RoleBinding"),
  };
}

export function serializeDump(d: BuiltinRbacDump): string {
  return JSON.stringify(d, null, 2) + "\n";
}

async function main(): Promise<number> {
  const check = process.argv.includes("--check");
  const stateFile = process.env.KSA_TEST_CONTROL_PLANE;
  const cp = stateFile ? attachControlPlane(readState(stateFile)) : await startControlPlane({ name: "dump-rbac" });
  try {
    const text = serializeDump(await dumpBuiltinRbac(cp));
    const file = builtinRbacFile(cp.version);
    if (check) {
      const same = fs.existsSync(file) && fs.readFileSync(file, "utf8") === text;
      process.stdout.write(same ? `${path.relative(ROOT, file)} matches the server\n` : `${path.relative(ROOT, file)} differs from the server: re-run node scripts/dump-builtin-rbac.ts\n`);
      return same ? 0 : 1;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
    process.stdout.write(`wrote ${path.relative(ROOT, file)}\n`);
    return 0;
  } finally {
    await cp.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main();
  } catch (e) {
    process.stderr.write(`dump-builtin-rbac: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
