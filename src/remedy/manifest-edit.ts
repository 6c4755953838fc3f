// Minimal, byte-preserving edits to YAML/JSON manifest files.
//
// We never re-stringify a document: the `yaml` parser gives every node its source range, and each edit
// splices a few characters into the original text (replace one scalar, insert one line, append one
// document). Everything else in the file — comments, quoting, key order, anchors, other documents,
// CRLF line endings — stays byte for byte, which is the bar kubeaudit's autofix set and missed (#92, #152,
// #180, #184 there).
import { parseAllDocuments, isMap, isScalar, isSeq, stringify as yamlStringify } from 'yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import type { KubeObject } from '../inventory/types.ts';

/** Which object of a file an edit targets (as the inventory located it). */
export interface ObjectRef {
  file: string;
  /** 0-based document index (a hint: verified against kind/name, searched when it does not match). */
  document?: number;
  /** `items/3` when the object is an item of a List. */
  itemPath?: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Set `key` to a scalar inside the mapping at `path` (from the object root) of one object. */
export interface SetFieldEdit {
  op: 'set';
  target: ObjectRef;
  path: string[];
  key: string;
  value: boolean | string;
}

/** Append a whole new object as a new YAML document at the end of a file (creating the file if needed). */
export interface AppendObjectEdit {
  op: 'append';
  file: string;
  object: KubeObject;
  /** A comment line written above the new document (without `#`). */
  comment?: string;
}

/** Remove the items of the sequence at `path` whose scalar fields equal one of `match` (e.g. binding subjects). */
export interface RemoveItemsEdit {
  op: 'remove-items';
  target: ObjectRef;
  path: string[];
  match: Record<string, string | undefined>[];
}

export type ManifestEdit = SetFieldEdit | AppendObjectEdit | RemoveItemsEdit;

export class ManifestEditError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

interface Splice {
  at: number;
  remove: number;
  insert: string;
  /** Edits at the same offset keep their request order. */
  seq: number;
}

const lineOf = (text: string, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
};

export const isJsonText = (text: string): boolean => /^\s*[[{]/.test(text.replace(/^\uFEFF/, ''));

/** Parses every document; throws a one-line error naming the file and line when any cannot be parsed. */
export function parseManifestText(text: string, file: string): Document.Parsed[] {
  // Planning one file calls this several times with the same text (one parse of a 2 MB bundle is ~1.5 s CPU).
  if (parseCache && parseCache.text === text && parseCache.file === file) return parseCache.docs;
  const docs = parseAllDocuments(text, { keepSourceTokens: true, uniqueKeys: false, strict: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    const err = d.errors[0];
    if (err) throw new ManifestEditError(file, err.linePos?.[0]?.line ?? lineOf(text, err.pos[0]), `cannot parse: ${err.message.split('\n')[0]}`);
  }
  parseCache = { text, file, docs: list as Document.Parsed[] };
  return list as Document.Parsed[];
}

/** The last parse (the documents are only read, never modified, so sharing them is safe). */
let parseCache: { text: string; file: string; docs: Document.Parsed[] } | undefined;

const scalarString = (n: unknown): string | undefined => (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') ? String(n.value) : undefined);

function mapGet(map: YAMLMap, key: string): Pair | undefined {
  for (const item of map.items) if (scalarString(item.key) === key) return item as Pair;
  return undefined;
}

function objectIdentity(node: unknown): { kind?: string; name?: string; namespace?: string } {
  if (!isMap(node)) return {};
  const meta = mapGet(node, 'metadata')?.value;
  return {
    kind: scalarString(mapGet(node, 'kind')?.value),
    name: isMap(meta) ? scalarString(mapGet(meta, 'name')?.value) : undefined,
    namespace: isMap(meta) ? scalarString(mapGet(meta, 'namespace')?.value) : undefined,
  };
}

function matches(node: unknown, ref: ObjectRef): boolean {
  const id = objectIdentity(node);
  // A manifest often leaves the namespace out (`kubectl apply -n`), so only a conflicting one disqualifies.
  return id.kind === ref.kind && id.name === ref.name && (id.namespace === undefined || id.namespace === ref.namespace || ref.namespace === '');
}

function itemAt(root: unknown, itemPath: string | undefined): unknown {
  if (!itemPath) return root;
  let node: unknown = root;
  for (const part of itemPath.split('/')) {
    if (isMap(node)) node = mapGet(node, part)?.value;
    else if (isSeq(node)) node = node.items[Number(part)];
    else return undefined;
  }
  return node;
}

/** Every object node of a document: the root, or the items of a List. */
function objectNodes(doc: Document.Parsed): unknown[] {
  const root = doc.contents;
  if (!isMap(root)) return [];
  const items = mapGet(root, 'items')?.value;
  const kind = scalarString(mapGet(root, 'kind')?.value);
  if (kind && kind.endsWith('List') && isSeq(items)) return [root, ...items.items];
  return [root];
}

function locate(docs: Document.Parsed[], ref: ObjectRef): YAMLMap {
  if (ref.document !== undefined && docs[ref.document]) {
    const node = itemAt(docs[ref.document]!.contents, ref.itemPath);
    if (isMap(node) && matches(node, ref)) return node;
  }
  // The reader's document numbering may differ (empty documents, directives): search by identity.
  const found: YAMLMap[] = [];
  for (const d of docs) for (const n of objectNodes(d)) if (isMap(n) && matches(n, ref)) found.push(n);
  if (found.length === 1) return found[0]!;
  if (found.length > 1 && ref.document !== undefined) {
    const inDoc = objectNodes(docs[ref.document]!).filter((n): n is YAMLMap => isMap(n) && matches(n, ref));
    if (inDoc.length === 1) return inDoc[0]!;
  }
  throw new ManifestEditError(ref.file, 0, found.length ? `${ref.kind} ${ref.namespace}/${ref.name} appears ${found.length} times; cannot tell which to edit` : `${ref.kind} ${ref.namespace}/${ref.name} not found in the file any more`);
}

const lineStart = (text: string, offset: number): number => text.lastIndexOf('\n', offset - 1) + 1;

/** Text of a scalar value in the file's syntax. */
function scalarText(value: boolean | string, json: boolean): string {
  if (typeof value === 'boolean') return String(value);
  if (json) return JSON.stringify(value);
  // Plain when YAML reads it back as the same string (`true`, `123`, `null` would not be).
  const plain = yamlStringify(value, { version: '1.1' }).trimEnd();
  const plain12 = yamlStringify(value).trimEnd();
  return plain === value && plain12 === value ? value : JSON.stringify(value);
}

function keyText(key: string, json: boolean): string {
  return json ? JSON.stringify(key) : key;
}

function setFieldSplices(text: string, docs: Document.Parsed[], edit: SetFieldEdit, json: boolean, eol: string): Splice[] {
  const obj = locate(docs, edit.target);
  let map: YAMLMap = obj;
  for (const part of edit.path) {
    const next = mapGet(map, part)?.value;
    if (!isMap(next)) throw new ManifestEditError(edit.target.file, lineOf(text, map.range?.[0] ?? 0), `${edit.target.kind} ${edit.target.name}: no mapping at ${[...edit.path].join('.')}`);
    map = next;
  }
  const newValue = scalarText(edit.value, json);
  const existing = mapGet(map, edit.key);
  if (existing) {
    const v = existing.value as Node | null;
    if (v && isScalar(v) && v.range) {
      if (v.value === edit.value && text.slice(v.range[0], v.range[1]) === newValue) return [];
      // `key:` with nothing after it parses as an empty null scalar.
      if (v.range[0] === v.range[1]) return [{ at: v.range[0], remove: 0, insert: text[v.range[0] - 1] === ':' ? ` ${newValue}` : newValue, seq: 0 }];
      // Keep an anchor or tag written before the value? A bare scalar is what manifests use; replace the scalar text.
      return [{ at: v.range[0], remove: v.range[1] - v.range[0], insert: newValue, seq: 0 }];
    }
    if (v === null || v === undefined) {
      // `key:` with no value: put the value after the colon.
      const keyNode = existing.key as Node;
      const colon = text.indexOf(':', keyNode.range![1]);
      return [{ at: colon + 1, remove: 0, insert: ` ${newValue}`, seq: 0 }];
    }
    throw new ManifestEditError(edit.target.file, lineOf(text, v.range?.[0] ?? 0), `${edit.key} is not a scalar; not editing it`);
  }
  const pairText = `${keyText(edit.key, json)}: ${newValue}`;
  if (map.flow) return flowInsert(text, map, pairText, eol);
  const items = map.items;
  if (items.length === 0) throw new ManifestEditError(edit.target.file, lineOf(text, map.range?.[0] ?? 0), `empty block mapping at ${edit.path.join('.')}`);
  const firstKey = items[0]!.key as Node;
  const indent = firstKey.range![0] - lineStart(text, firstKey.range![0]);
  const prefix = text.slice(lineStart(text, firstKey.range![0]), firstKey.range![0]);
  // Inside a sequence item (`- name: x`) the first key follows `- `; later keys are indented with spaces.
  const indentText = /^[ ]*$/.test(prefix) ? prefix : ' '.repeat(indent);
  const last = items[items.length - 1]!;
  const lastNode = (last.value ?? last.key) as Node;
  let at = lastNode.range![1];
  if (text[at - 1] !== '\n') {
    const nl = text.indexOf('\n', at);
    if (nl === -1) return [{ at: text.length, remove: 0, insert: `${eol}${indentText}${pairText}${eol}`, seq: 0 }];
    at = nl + 1;
  }
  return [{ at, remove: 0, insert: `${indentText}${pairText}${eol}`, seq: 0 }];
}

/** Adds a pair to a flow mapping (`{a: 1}` or JSON), one line per pair when the mapping is multi-line. */
function flowInsert(text: string, map: YAMLMap, pairText: string, eol: string): Splice[] {
  const end = map.range![1];
  const close = text.lastIndexOf('}', end - 1);
  const items = map.items;
  if (items.length === 0) return [{ at: close, remove: 0, insert: pairText, seq: 0 }];
  const last = items[items.length - 1]!;
  const lastEnd = ((last.value ?? last.key) as Node).range![1];
  const firstKey = items[0]!.key as Node;
  const open = text.lastIndexOf('{', firstKey.range![0]);
  const multiLine = text.slice(open, firstKey.range![0]).includes('\n');
  if (multiLine) {
    const indent = text.slice(lineStart(text, firstKey.range![0]), firstKey.range![0]);
    return [{ at: lastEnd, remove: 0, insert: `,${eol}${indent}${pairText}`, seq: 0 }];
  }
  return [{ at: lastEnd, remove: 0, insert: `, ${pairText}`, seq: 0 }];
}

function removeItemsSplices(text: string, docs: Document.Parsed[], edit: RemoveItemsEdit): Splice[] {
  const obj = locate(docs, edit.target);
  let node: unknown = obj;
  let keyNode: Node | undefined;
  for (const part of edit.path) {
    if (!isMap(node)) throw new ManifestEditError(edit.target.file, 0, `${edit.target.kind} ${edit.target.name}: no mapping at ${edit.path.join('.')}`);
    const pair = mapGet(node, part);
    keyNode = pair?.key as Node | undefined;
    node = pair?.value;
  }
  if (!isSeq(node) || !node.range) throw new ManifestEditError(edit.target.file, lineOf(text, obj.range?.[0] ?? 0), `${edit.target.kind} ${edit.target.name}: ${edit.path.join('.')} is not a list`);
  const seq = node;
  const items = seq.items as Node[];
  const hit = (item: Node): boolean =>
    isMap(item) && edit.match.some((m) => Object.entries(m).every(([k, v]) => scalarString(mapGet(item, k)?.value) === v));
  const doomed = items.map((it, i) => (hit(it) ? i : -1)).filter((i) => i >= 0);
  if (doomed.length === 0) return [];
  const splices: Splice[] = [];
  if (seq.flow) {
    for (const i of doomed) {
      const it = items[i]!;
      const next = items[i + 1];
      const prev = items[i - 1];
      if (next && !doomed.includes(i + 1)) splices.push({ at: it.range![0], remove: next.range![0] - it.range![0], insert: '', seq: 0 });
      else if (prev) splices.push({ at: prev.range![1], remove: it.range![1] - prev.range![1], insert: '', seq: 0 });
      else splices.push({ at: it.range![0], remove: it.range![1] - it.range![0], insert: '', seq: 0 });
    }
    return splices;
  }
  if (doomed.length === items.length) {
    // Every item goes: `subjects:` becomes `subjects: []` (a binding with no subjects grants nothing).
    const start = lineStart(text, items[0]!.range![0]);
    const colon = text.indexOf(':', keyNode!.range![1]);
    return [
      { at: colon + 1, remove: 0, insert: ' []', seq: 0 },
      { at: start, remove: seq.range![1] - start, insert: '', seq: 1 },
    ];
  }
  for (const i of doomed) {
    const it = items[i]!;
    const start = lineStart(text, it.range![0]);
    const end = items[i + 1] ? lineStart(text, items[i + 1]!.range![0]) : seq.range![1];
    splices.push({ at: start, remove: end - start, insert: '', seq: 0 });
  }
  return splices;
}

function appendSplice(text: string, edit: AppendObjectEdit, json: boolean, eol: string, seq: number): Splice {
  if (json) throw new ManifestEditError(edit.file, 0, 'cannot append a document to a JSON file');
  // YAML 1.1 output quotes yes/no/on/off, which Kubernetes (go-yaml, 1.1 booleans) would otherwise read as booleans.
  let body = yamlStringify(edit.object, { lineWidth: 0, version: '1.1' });
  if (eol !== '\n') body = body.replace(/\n/g, eol);
  const comment = edit.comment ? edit.comment.split('\n').map((l) => `# ${l}`).join(eol) + eol : '';
  const sep = text.length === 0 ? '' : (text.endsWith('\n') ? '' : eol) + `---${eol}`;
  return { at: text.length, remove: 0, insert: `${sep}${comment}${body}`, seq };
}

/**
 * Applies the edits for one file to its text and returns the new text (the same string when nothing
 * changes). Throws ManifestEditError when the file cannot be parsed or an edit cannot be placed.
 */
export function editManifestText(text: string, file: string, edits: ManifestEdit[]): string {
  const json = isJsonText(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const docs = text.length ? parseManifestText(text, file) : [];
  const splices: Splice[] = [];
  edits.forEach((e, i) => {
    if (e.op === 'set') for (const s of setFieldSplices(text, docs, e, json, eol)) splices.push({ ...s, seq: i });
    else if (e.op === 'remove-items') for (const s of removeItemsSplices(text, docs, e)) splices.push({ ...s, seq: i });
    // Appended documents go after every in-place insertion at the end of the file.
    else splices.push(appendSplice(text, e, json, eol, 1_000_000 + i));
  });
  // Apply from the end so earlier offsets stay valid; same offset: later request first, so earlier ends up first.
  splices.sort((a, b) => b.at - a.at || b.seq - a.seq);
  let out = text;
  let lastAt = Infinity;
  for (const s of splices) {
    if (s.at + s.remove > lastAt) throw new ManifestEditError(file, lineOf(text, s.at), 'overlapping edits');
    out = out.slice(0, s.at) + s.insert + out.slice(s.at + s.remove);
    lastAt = s.at;
  }
  return out;
}

/** Whether the object in the file spells out `metadata.namespace` (new objects then follow the same style). */
export function objectDeclaresNamespace(text: string, ref: ObjectRef): boolean {
  const docs = parseManifestText(text, ref.file);
  const node = locate(docs, ref);
  const meta = mapGet(node, 'metadata')?.value;
  return isMap(meta) && scalarString(mapGet(meta, 'namespace')?.value) !== undefined;
}
