// From a decoded document to sink calls: List expansion, non-Kubernetes documents, locations.
import type { InventorySink } from '../../inventory/sink.ts';
import type { KubeObject, SourcedObject } from '../../inventory/types.ts';

export type PathFn<T> = (path: readonly (string | number)[]) => T | undefined;

export interface DocContext {
  file: string;
  /** 1-based line where the document's value starts. */
  line: number;
  document: number;
  lineOf?: PathFn<number>;
  sourceText?: PathFn<string>;
}

/** JSON-pointer escaping of one path segment (`~` → `~0`, `/` → `~1`). */
export function escapePointerSegment(s: string): string {
  return s.includes('~') || s.includes('/') ? s.replaceAll('~', '~0').replaceAll('/', '~1') : s;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const SKIP_EMPTY = 'empty document';
export const SKIP_NOT_OBJECT = 'document is not a mapping';
export const SKIP_NO_TYPE = 'not a Kubernetes object (no apiVersion/kind)';
export const SKIP_ITEM_NO_TYPE = 'List item without apiVersion/kind';
export const SKIP_EXTENSION = 'file extension not .yaml/.yml/.json';

/** Whether a decoded object carries the two fields every Kubernetes object has. */
export function hasTypeMeta(o: Record<string, unknown>): boolean {
  return typeof o.apiVersion === 'string' && o.apiVersion !== '' && typeof o.kind === 'string' && o.kind !== '';
}

/**
 * apimachinery UnstructuredJSONScheme.decodeToList: items without both kind and apiVersion take the
 * List's apiVersion and its kind minus the `List` suffix (typed lists from the API server, e.g. PodList).
 */
export function fillItemTypeFromList(item: Record<string, unknown>, listKind: unknown, listApiVersion: unknown): void {
  const noKind = typeof item.kind !== 'string' || item.kind === '';
  const noVersion = typeof item.apiVersion !== 'string' || item.apiVersion === '';
  if (!noKind || !noVersion) return;
  if (typeof listKind === 'string') {
    const k = listKind.endsWith('List') ? listKind.slice(0, -'List'.length) : listKind;
    if (k !== '') item.kind = k;
  }
  if (typeof listApiVersion === 'string' && listApiVersion !== '') item.apiVersion = listApiVersion;
}

/** Pushes one decoded document (object, List or anything else) into the sink. */
export function emitDocument(value: unknown, ctx: DocContext, sink: InventorySink): void {
  sink.document();
  if (value === null || value === undefined) {
    sink.skipped(SKIP_EMPTY);
    return;
  }
  if (!isPlainObject(value)) {
    sink.skipped(SKIP_NOT_OBJECT);
    return;
  }
  // apimachinery treats any object with an `items` field as a list (UnstructuredJSONScheme.decode).
  if (Object.hasOwn(value, 'items')) {
    const items = value.items;
    if (items === null) return;
    if (!Array.isArray(items)) {
      sink.problem({
        file: ctx.file,
        line: ctx.lineOf?.(['items']) ?? ctx.line,
        message: `${typeof value.kind === 'string' ? value.kind : 'List'}: items must be a list, got ${typeName(items)}`,
        level: 'error',
      });
      return;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const prefix = ['items', i] as const;
      if (!isPlainObject(item)) {
        sink.skipped(SKIP_ITEM_NO_TYPE);
        continue;
      }
      fillItemTypeFromList(item, value.kind, value.apiVersion);
      if (!hasTypeMeta(item)) {
        sink.skipped(SKIP_ITEM_NO_TYPE);
        continue;
      }
      const so: SourcedObject = {
        object: item as KubeObject,
        location: { file: ctx.file, line: ctx.lineOf?.(prefix) ?? ctx.line, document: ctx.document, itemPath: `items/${i}` },
      };
      if (ctx.lineOf) {
        const lo = ctx.lineOf;
        so.lineOf = (p) => lo([...prefix, ...p]);
      }
      if (ctx.sourceText) {
        const st = ctx.sourceText;
        so.sourceText = (p) => st([...prefix, ...p]);
      }
      sink.object(so);
    }
    return;
  }
  if (!hasTypeMeta(value)) {
    sink.skipped(SKIP_NO_TYPE);
    return;
  }
  const so: SourcedObject = {
    object: value as KubeObject,
    location: { file: ctx.file, line: ctx.line, document: ctx.document },
  };
  if (ctx.lineOf) so.lineOf = ctx.lineOf;
  if (ctx.sourceText) so.sourceText = ctx.sourceText;
  sink.object(so);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
