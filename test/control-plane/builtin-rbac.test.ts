// data/rbac/<version>.json must be exactly what the real server serves, so it can never be edited by hand
// or drift from the pinned release.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { sharedControlPlane } from "../helpers/control-plane.ts";
import { builtinRbacFile, dumpBuiltinRbac, serializeDump } from "../../scripts/dump-builtin-rbac.ts";

test("the committed built-in RBAC dump equals a fresh dump from the running server", async () => {
  const cp = await sharedControlPlane();
  const fresh = await dumpBuiltinRbac(cp);
  const file = builtinRbacFile(cp.version);
  assert.ok(fs.existsSync(file), `${file} is missing: run node scripts/dump-builtin-rbac.ts`);
  const committed = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.deepEqual(committed, fresh, "re-run node scripts/dump-builtin-rbac.ts and commit data/rbac/");
  assert.equal(fs.readFileSync(file, "utf8"), serializeDump(fresh), "file is the script's own serialisation");
  // Aggregated roles are dumped with their rules, not the `rules: null` of a cluster without the controller.
  for (const name of ["admin", "edit", "view"]) {
    const role = fresh.clusterRoles.find((r: any) => r.metadata.name === name) as any;
    assert.ok(role?.aggregationRule && role.rules.length > 0, `${name} is aggregated`);
  }
  assert.ok(fresh.clusterRoleBindings.some((b: any) => b.metadata.name === "cluster-admin"));
});
