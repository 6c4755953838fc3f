// The full YAML path: the `yaml` package's parser plus the go-yaml converter, for documents the fast
// reader gives up on, and for their lazy field positions. Loaded on first need (the `yaml` package
// costs ~0.1 s to load, which most manifest directories never need).
import { isScalar, Composer, LineCounter, Parser } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { convertDocument, nodeAtPath, offsetOfPath, YamlConvertError } from './yaml-convert.ts';

/** One document of a segment, decoded; lines are 0-based within the segment text. */
export type FullDocument =
  | {
      ok: true;
      value: unknown;
      spellings: Map<string, string> | undefined;
      line: number;
      /** `{line}` in a message stands for `otherLine`. */
      warnings: { line: number; message: string; otherLine?: number }[];
    }
  | { ok: false; line: number; message: string };

function composerOptions() {
  // failsafe: every scalar stays a string with its source text, so go-yaml's own resolution applies.
  return { schema: 'failsafe' as const, uniqueKeys: false, strict: false, prettyErrors: false };
}

function parseDocuments(text: string): { docs: Document[]; lc: LineCounter } {
  const lc = new LineCounter();
  const parser = new Parser(lc.addNewLine);
  const composer = new Composer(composerOptions());
  const docs = [...composer.compose(parser.parse(text), true)] as Document[];
  return { docs, lc };
}

// The last re-parsed segment, for lineOf/sourceText calls that come in bursts for one object.
let lazyCache: { text: string; docs: Document[]; lc: LineCounter } | undefined;

function lazyDocs(text: string): { docs: Document[]; lc: LineCounter } {
  if (lazyCache?.text !== text) {
    const { docs, lc } = parseDocuments(text);
    lazyCache = { text, docs, lc };
  }
  return lazyCache;
}

function cleanYamlMessage(m: string): string {
  return m.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}

/** Decodes every document of a segment (throws only on a parser crash). */
export function decodeSegment(text: string): FullDocument[] {
  const { docs, lc } = parseDocuments(text);
  const lineAt = (offset: number) => lc.linePos(offset).line - 1;
  return docs.map((doc): FullDocument => {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      return { ok: false, line: lineAt(err.pos[0]), message: `YAML syntax error: ${cleanYamlMessage(err.message)}` };
    }
    try {
      const r = convertDocument(doc);
      const contents = doc.contents as YamlNode | null;
      return {
        ok: true,
        value: r.value,
        spellings: r.spellings,
        line: contents?.range ? lineAt(contents.range[0]) : -1,
        warnings: r.warnings.map((w) => ({
          line: lineAt(w.offset),
          message: w.message,
          ...(w.otherOffset === undefined ? {} : { otherLine: lineAt(w.otherOffset) }),
        })),
      };
    } catch (e) {
      if (e instanceof YamlConvertError) return { ok: false, line: lineAt(e.offset), message: e.message };
      return { ok: false, line: -1, message: `YAML could not be converted: ${(e as Error).message}` };
    }
  });
}

/** 0-based line (within the segment) of the field at `path` of document `ordinal`. */
export function lineOfPath(text: string, ordinal: number, path: readonly (string | number)[]): number | undefined {
  const { docs, lc } = lazyDocs(text);
  const d = docs[ordinal];
  if (!d) return undefined;
  const off = offsetOfPath(d, path);
  return off === undefined ? undefined : lc.linePos(off).line - 1;
}

/** The source text of the scalar at `path` exactly as written (quotes included). */
export function scalarSourceAt(text: string, ordinal: number, path: readonly (string | number)[]): string | undefined {
  const { docs } = lazyDocs(text);
  const d = docs[ordinal];
  const n = d ? nodeAtPath(d, path) : undefined;
  if (!isScalar(n) || !n.range) return undefined;
  return text.slice(n.range[0], n.range[1]).trimEnd();
}
