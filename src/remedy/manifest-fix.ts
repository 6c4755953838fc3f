// Turns a fix plan into minimal edits of the user's manifest files, and writes them atomically.
//
// Where new objects go (a `default` ServiceAccount the input lacks, dedicated ServiceAccounts, binding
// copies): appended as a new YAML document to the file of the workload they serve, so whatever applies that
// file (kubectl apply -f, kustomize resources, Argo CD) applies them together. A JSON file cannot hold a
// second document, so they then go to `kube-sa-audit-added.yaml` in the same directory.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { KubeObject } from '../inventory/types.ts';
import type { FixPlan, WorkloadRef } from './plan.ts';
import { editManifestText, isJsonText, objectDeclaresNamespace, ManifestEditError } from './manifest-edit.ts';
import type { ManifestEdit, ObjectRef } from './manifest-edit.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { AtomicWriteHooks } from './atomic-write.ts';

export const ADDED_FILE = 'kube-sa-audit-added.yaml';

export interface FileChange {
  /** Path as the user gave it (`-` for stdin). */
  file: string;
  before: string;
  after: string;
  /** The file did not exist (new objects for a JSON input). */
  created: boolean;
}

export interface ManifestFixOptions {
  cwd?: string;
  /** Text of `-` (stdin), read once by the caller. */
  stdinText?: string;
}

const workloadRef = (w: WorkloadRef): ObjectRef => ({
  file: w.location.file,
  document: w.location.document,
  itemPath: w.location.itemPath,
  kind: w.kind,
  namespace: w.namespace,
  name: w.name,
});

/** Computes every file's new text; nothing is written. Throws ManifestEditError (file:line: why). */
export async function computeManifestChanges(plan: FixPlan, opts: ManifestFixOptions = {}): Promise<FileChange[]> {
  const cwd = opts.cwd ?? process.cwd();
  const texts = new Map<string, string | undefined>();
  const read = async (file: string): Promise<string | undefined> => {
    if (texts.has(file)) return texts.get(file);
    let t: string | undefined;
    if (file === '-') t = opts.stdinText ?? '';
    else {
      try {
        t = await readFile(resolve(cwd, file), 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOENT') throw new ManifestEditError(file, 0, `cannot read: ${(err as Error).message}`);
        t = undefined;
      }
    }
    texts.set(file, t);
    return t;
  };
  const edits = new Map<string, ManifestEdit[]>();
  const add = (file: string, e: ManifestEdit): void => {
    const list = edits.get(file);
    if (list) list.push(e);
    else edits.set(file, [e]);
  };

  /** Appends a new object next to a workload, in the same namespace style (explicit or implied by `-n`). */
  const appendNextTo = async (w: WorkloadRef, object: KubeObject, comment: string): Promise<void> => {
    const text = await read(w.location.file);
    if (text === undefined) throw new ManifestEditError(w.location.file, 0, 'file disappeared');
    const explicitNs = objectDeclaresNamespace(text, workloadRef(w));
    const obj = structuredClone(object);
    if (!explicitNs) {
      if (obj.kind !== 'ClusterRoleBinding') delete obj.metadata!.namespace;
      if (obj.kind === 'RoleBinding') for (const s of (obj.subjects as { namespace?: string }[]) ?? []) delete s.namespace;
    }
    let file = w.location.file;
    if (file !== '-' && isJsonText(text)) file = join(dirname(file), ADDED_FILE);
    if (file !== w.location.file) await read(file);
    add(file, { op: 'append', file, object: obj, comment });
  };

  for (const s of plan.steps) {
    switch (s.kind) {
      case 'sa-automount':
        if (s.create) {
          await appendNextTo(
            s.nextTo,
            { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: s.serviceAccount.name, namespace: s.serviceAccount.namespace }, automountServiceAccountToken: false },
            `Added by kube-sa-audit fix: ${s.reason}.\nApplying it keeps the existing ${s.serviceAccount.name} service account and turns automount off.`,
          );
        } else {
          const loc = s.serviceAccount.location!;
          await read(loc.file);
          add(loc.file, {
            op: 'set',
            target: { file: loc.file, document: loc.document, itemPath: loc.itemPath, kind: 'ServiceAccount', namespace: s.serviceAccount.namespace, name: s.serviceAccount.name },
            path: [],
            key: 'automountServiceAccountToken',
            value: false,
          });
        }
        break;
      case 'pod-automount':
        await read(s.workload.location.file);
        add(s.workload.location.file, { op: 'set', target: workloadRef(s.workload), path: [...s.workload.templatePath, 'spec'], key: 'automountServiceAccountToken', value: s.value });
        break;
      case 'set-service-account':
        await read(s.workload.location.file);
        add(s.workload.location.file, { op: 'set', target: workloadRef(s.workload), path: [...s.workload.templatePath, 'spec'], key: 'serviceAccountName', value: s.value });
        break;
      case 'create-sa':
        await appendNextTo(s.forWorkload, s.object, `Added by kube-sa-audit fix: ${s.reason}.`);
        break;
      case 'copy-binding':
        await appendNextTo(s.forWorkload, s.object, `Added by kube-sa-audit fix: ${s.reason}.`);
        break;
      case 'remove-binding-subject': {
        const loc = s.binding.location;
        await read(loc.file);
        add(loc.file, {
          op: 'remove-items',
          target: { file: loc.file, document: loc.document, itemPath: loc.itemPath, kind: s.binding.kind, namespace: s.binding.namespace, name: s.binding.name },
          path: ['subjects'],
          match: s.remove.map((x) => ({ kind: x.kind, name: x.name, namespace: x.namespace })),
        });
        break;
      }
    }
  }

  const changes: FileChange[] = [];
  for (const [file, list] of edits) {
    const before = texts.get(file);
    const after = editManifestText(before ?? '', file, list);
    if (after !== (before ?? '')) changes.push({ file, before: before ?? '', after, created: before === undefined });
  }
  return changes;
}

/** Unified diff of every change (`a/` and `b/` prefixes, like git). */
export function renderDiff(changes: FileChange[]): string {
  return changes
    .map((c) => {
      const label = (side: string): string => (c.file.startsWith('/') ? c.file : `${side}/${c.file}`);
      return createTwoFilesPatch(c.created ? '/dev/null' : label('a'), label('b'), c.before, c.after, undefined, undefined, { context: 3 });
    })
    .map((p) => p.replace(/^(Index: [^\n]*\n)?=+\n/, ''))
    .join('');
}

/**
 * Writes every change atomically. All texts were computed before the first write, so a file that cannot be
 * parsed stops the run before anything is written. Stdin (`-`) is never written.
 */
export async function writeManifestChanges(changes: FileChange[], opts: { cwd?: string; hooks?: AtomicWriteHooks } = {}): Promise<string[]> {
  const cwd = opts.cwd ?? process.cwd();
  const written: string[] = [];
  for (const c of changes) {
    if (c.file === '-') continue;
    await writeFileAtomic(resolve(cwd, c.file), c.after, opts.hooks);
    written.push(c.file);
  }
  return written;
}
