// Test loader: manifests → inventory → full analysis, with an optional install namespace for objects that
// carry none (as `kubectl apply -n NS -f bundle.yaml` would place them). Parses with `yaml` directly and skips
// CRD documents so large bundles stay fast.
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildInventory, sourced } from '../../../src/inventory/build.ts';
import { analyzeInventory } from '../../../src/analysis/scan.ts';
import type { KubeObject } from '../../../src/inventory/types.ts';
import type { ScanResult } from '../../../src/analysis/types.ts';

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PriorityClass', 'StorageClass', 'APIService', 'PodSecurityPolicy', 'IngressClass', 'CSIDriver']);

export function filesUnder(p: string): string[] {
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  return fs.readdirSync(p).sort().flatMap((f) => filesUnder(path.join(p, f))).filter((f) => /\.(ya?ml|json)$/.test(f));
}

export function objectsOf(paths: string[], installNamespace?: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const f of paths.flatMap(filesUnder)) {
    for (const doc of parseAllDocuments(fs.readFileSync(f, 'utf8'))) {
      const o = doc.toJS() as KubeObject | null;
      if (!o || typeof o !== 'object' || !o.kind || o.kind === 'CustomResourceDefinition') continue;
      const items = o.kind === 'List' && Array.isArray((o as { items?: unknown }).items) ? ((o as { items: KubeObject[] }).items) : [o];
      for (const item of items) {
        if (installNamespace && !CLUSTER_SCOPED.has(item.kind ?? '') && item.metadata && !item.metadata.namespace) item.metadata.namespace = installNamespace;
        out.push(item);
      }
    }
  }
  return out;
}

export async function analyzeObjects(objects: KubeObject[]): Promise<ScanResult> {
  return analyzeInventory(buildInventory(objects.map((o, i) => sourced(o, { file: 'test.yaml', line: i + 1 }))));
}
