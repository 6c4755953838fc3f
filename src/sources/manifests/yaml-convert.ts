// Converts one composed YAML document (from the `yaml` package, parsed with the failsafe schema so every
// scalar keeps its text) into the JSON value Kubernetes would see, following sigs.k8s.io/yaml on top of
// go-yaml v2:
// - scalars: go-yaml v2 resolve.go (see go-yaml-scalars.ts);
// - duplicate keys: go-yaml v2 non-strict decoding (what kubectl's YAMLToJSONDecoder uses) sets map
//   entries in order, so the last one wins; we do the same and report a warning;
// - merge keys `<<`: go-yaml v2 decode.go `merge` writes the merged keys into the map at the position
//   of `<<`, so keys after it override merged ones and merged ones override keys before it; in a
//   sequence of maps the earlier maps win;
// - aliases: go-yaml v2 `allowedAliasRatio` ("document contains excessive aliasing") bounds expansion,
//   and an alias inside its own anchor is an error;
// - map keys become JSON strings as sigs.k8s.io/yaml convertToJSONableObject does (ints in decimal,
//   bools as true/false); null and collection keys are errors.
import { isAlias, isMap, isPair, isScalar, isSeq, Scalar } from 'yaml';
import type { Alias, Document, Node as YamlNode, Pair, YAMLMap, YAMLSeq } from 'yaml';
import { resolvePlainScalar, resolveTaggedScalar } from './go-yaml-scalars.ts';
import type { ResolvedScalar } from './go-yaml-scalars.ts';

export class YamlConvertError extends Error {
  /** Source offset (in the parsed text) of the node at fault. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

export interface ConvertWarning {
  offset: number;
  /** `{line}` in the message is replaced by the line of `otherOffset`. */
  message: string;
  otherOffset?: number;
}

export interface ConvertResult {
  value: unknown;
  /** Boolean-looking scalars not written `true`/`false`, keyed by escaped JSON pointer (no leading `/`). */
  spellings: Map<string, string> | undefined;
  warnings: ConvertWarning[];
}

// go-yaml v2 decode.go alias ratio limits.
const ALIAS_RATIO_RANGE_LOW = 400000;
const ALIAS_RATIO_RANGE_HIGH = 4000000;
const ALIAS_RATIO_RANGE = ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW;

function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= ALIAS_RATIO_RANGE_LOW) return 0.99;
  if (decodeCount >= ALIAS_RATIO_RANGE_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - ALIAS_RATIO_RANGE_LOW) / ALIAS_RATIO_RANGE);
}

const BOOLISH = /^(?:y|yes|n|no|true|false|on|off)$/i;

export { escapePointerSegment } from './emit.ts';
import { escapePointerSegment } from './emit.ts';

class Converter {
  private decodeCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly expanding = new Set<YamlNode>();
  private readonly path: string[] = [];
  spellings: Map<string, string> | undefined;
  readonly warnings: ConvertWarning[] = [];
  private readonly doc: Document;

  constructor(doc: Document) {
    this.doc = doc;
  }

  private count(node: YamlNode | null | undefined): void {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (
      this.aliasCount > 100 &&
      this.decodeCount > 1000 &&
      this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)
    ) {
      throw new YamlConvertError(
        `document contains excessive aliasing (alias expansion refused after ${this.aliasCount} aliased nodes, as go-yaml/kubectl do)`,
        node?.range?.[0] ?? 0,
      );
    }
  }

  value(node: unknown): unknown {
    if (node === null || node === undefined) {
      this.count(null);
      return null;
    }
    const n = node as YamlNode;
    this.count(n);
    if (isScalar(n)) return this.scalar(n);
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      this.mapInto(n, out);
      return out;
    }
    if (isSeq(n)) return this.seq(n);
    // go-yaml counts the alias node, then (one level deeper) its target and everything under it.
    if (isAlias(n)) return this.alias(n, (target) => this.value(target));
    throw new YamlConvertError('unsupported YAML node', 0);
  }

  private alias<T>(a: Alias, fn: (target: YamlNode) => T): T {
    const target = a.resolve(this.doc) as YamlNode | undefined;
    if (!target) throw new YamlConvertError(`unknown anchor '${a.source}' referenced`, a.range?.[0] ?? 0);
    if (this.expanding.has(target)) {
      throw new YamlConvertError(`anchor '${a.source}' value contains itself`, a.range?.[0] ?? 0);
    }
    this.expanding.add(target);
    this.aliasDepth++;
    try {
      return fn(target);
    } finally {
      this.aliasDepth--;
      this.expanding.delete(target);
    }
  }

  private seq(s: YAMLSeq): unknown[] {
    const out: unknown[] = new Array(s.items.length);
    for (let i = 0; i < s.items.length; i++) {
      this.path.push(String(i));
      const item = s.items[i];
      if (isPair(item)) {
        // `!!omap`/`!!pairs` entries: go-yaml reads each as a one-entry mapping.
        this.count(null);
        const one: Record<string, unknown> = {};
        const offset = (item.key as YamlNode | null)?.range?.[0] ?? s.range?.[0] ?? 0;
        const key = this.keyString(item.key, offset);
        this.path.push(key);
        setKey(one, key, this.value(item.value));
        this.path.pop();
        out[i] = one;
      } else {
        out[i] = this.value(item);
      }
      this.path.pop();
    }
    return out;
  }

  private resolveScalar(s: Scalar): ResolvedScalar {
    const text = typeof s.source === 'string' ? s.source : String(s.value ?? '');
    const plain = s.type === Scalar.PLAIN || s.type === undefined;
    const tag = s.tag;
    if (tag && tag !== '!') return resolveTaggedScalar(tag, text, plain);
    if (!plain || tag === '!') return { kind: 'string', value: text };
    return resolvePlainScalar(text);
  }

  private scalar(s: Scalar): unknown {
    const r = this.resolveScalar(s);
    if (r.kind === 'error') throw new YamlConvertError(r.message, s.range?.[0] ?? 0);
    if (r.kind === 'bool') {
      const text = String(s.source);
      if (text !== 'true' && text !== 'false') this.spell(text);
      return r.value;
    }
    if (r.kind === 'string') {
      if (BOOLISH.test(r.value) && s.type !== Scalar.PLAIN) {
        const q = s.type === Scalar.QUOTE_DOUBLE ? '"' : s.type === Scalar.QUOTE_SINGLE ? "'" : '';
        this.spell(q + r.value + q);
      }
      return r.value;
    }
    if (r.kind === 'null') return null;
    if (!Number.isFinite(r.value)) {
      throw new YamlConvertError(`${String(s.source)} is not representable in JSON (sigs.k8s.io/yaml rejects NaN and infinities)`, s.range?.[0] ?? 0);
    }
    return r.value;
  }

  private spell(text: string): void {
    if (this.path.length === 0) return;
    this.spellings ??= new Map();
    this.spellings.set(this.path.map(escapePointerSegment).join('/'), text);
  }

  private keyString(k: unknown, offset: number): string {
    if (k === null || k === undefined) {
      // go-yaml v2 resolves an empty or `~`/`null` key to nil; sigs.k8s.io/yaml cannot convert it.
      throw new YamlConvertError('unsupported map key: null', offset);
    }
    const kn = k as YamlNode;
    this.count(kn);
    if (isScalar(kn)) {
      const r = this.resolveScalar(kn);
      switch (r.kind) {
        case 'string':
          return r.value;
        case 'bool':
          return r.value ? 'true' : 'false';
        case 'int':
          if (!Number.isSafeInteger(r.value) && Math.abs(r.value) >= 2 ** 63) {
            throw new YamlConvertError(`unsupported map key of type uint64/big.Int: ${String(kn.source)}`, offset);
          }
          return String(r.value);
        case 'float':
          return formatFloat32Key(r.value);
        case 'null':
          throw new YamlConvertError('unsupported map key: null', offset);
        case 'error':
          throw new YamlConvertError(r.message, offset);
      }
    }
    if (isAlias(kn)) {
      return this.alias(kn, (t) => this.keyString(t, offset));
    }
    throw new YamlConvertError('unsupported map key: a mapping or sequence cannot be a JSON object key', offset);
  }

  /** go-yaml v2 `mapping`: pairs in order; `<<` merges at its position. */
  private mapInto(m: YAMLMap, out: Record<string, unknown>): void {
    let seen: Map<string, number> | undefined;
    for (const item of m.items) {
      const pair = item as Pair;
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const offset = keyNode?.range?.[0] ?? m.range?.[0] ?? 0;
      if (isScalar(keyNode) && keyNode.source === '<<' && keyNode.type === Scalar.PLAIN && (!keyNode.tag || keyNode.tag === 'tag:yaml.org,2002:merge')) {
        this.merge(pair.value as YamlNode | null, out, offset);
        continue;
      }
      const key = this.keyString(keyNode, offset);
      this.path.push(key);
      const v = this.value(pair.value);
      this.path.pop();
      setKey(out, key, v);
      seen ??= new Map();
      const prev = seen.get(key);
      if (prev !== undefined && this.aliasDepth === 0) {
        this.warnings.push({
          offset,
          otherOffset: prev,
          message: `duplicate key "${key}" (also at line {line}); the last value is used, as kubectl does`,
        });
      }
      seen.set(key, offset);
    }
  }

  private merge(n: YamlNode | null, out: Record<string, unknown>, offset: number): void {
    const wantMap = () => new YamlConvertError('map merge requires map or sequence of maps as the value', offset);
    if (n === null || n === undefined) throw wantMap();
    // decode.go `merge` is called directly (not through unmarshal): a map or alias value is counted by
    // the unmarshal it triggers; a sequence itself is not, only its elements.
    if (isMap(n)) {
      this.count(n);
      this.mapInto(n, out);
      return;
    }
    if (isAlias(n)) {
      this.count(n);
      this.alias(n, (t) => {
        if (!isMap(t)) throw wantMap();
        this.count(t);
        this.mapInto(t, out);
      });
      return;
    }
    if (isSeq(n)) {
      // Step backwards: earlier maps take precedence.
      for (let i = n.items.length - 1; i >= 0; i--) {
        const el = n.items[i] as YamlNode;
        if (isAlias(el)) {
          this.count(el);
          this.alias(el, (t) => {
            if (!isMap(t)) throw wantMap();
            this.count(t);
            this.mapInto(t, out);
          });
        } else if (isMap(el)) {
          this.count(el);
          this.mapInto(el, out);
        } else {
          throw wantMap();
        }
      }
      return;
    }
    throw wantMap();
  }
}

function setKey(out: Record<string, unknown>, key: string, v: unknown): void {
  // A `__proto__` key must stay data, as in JSON.parse, not replace the prototype.
  if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  else out[key] = v;
}

/** strconv.FormatFloat(f, 'g', -1, 32) closely enough for map keys (rare in manifests). */
function formatFloat32Key(f: number): string {
  // sigs.k8s.io/yaml maps Go's +Inf/-Inf/NaN spellings back to YAML ones.
  if (Number.isNaN(f)) return '.nan';
  if (f === Infinity) return '.inf';
  if (f === -Infinity) return '-.inf';
  const f32 = Math.fround(f);
  let s = String(Number(f32.toPrecision(9)));
  // Shortest repr that round-trips through float32.
  for (let p = 1; p <= 9; p++) {
    const c = Number(f32.toPrecision(p));
    if (Math.fround(c) === f32) {
      s = String(c);
      break;
    }
  }
  // Go 'g' uses exponent form for exp < -4 || exp >= precision digits; JS differs only for large
  // magnitudes, where Go writes e+21 style as well.
  return s.replace(/e\+?(-?)(\d)$/, 'e+$1' + '0$2').replace('e+-', 'e-');
}

export function convertDocument(doc: Document): ConvertResult {
  const c = new Converter(doc);
  const value = c.value(doc.contents);
  return { value, spellings: c.spellings, warnings: c.warnings };
}

// ---- lineOf: find the node a JSON path points at, with the same merge/duplicate semantics ----

/**
 * Source offset of the node at `path` (the key's offset for map entries, the item's for sequence
 * entries), or undefined when the path does not exist.
 */
export function offsetOfPath(doc: Document, path: readonly (string | number)[]): number | undefined {
  return locate(doc, path)?.offset;
}

/** The node a path points at (aliases followed), or undefined. */
export function nodeAtPath(doc: Document, path: readonly (string | number)[]): unknown {
  const hit = locate(doc, path);
  return hit ? deref(doc, hit.node) : undefined;
}

function locate(doc: Document, path: readonly (string | number)[]): { node: unknown; offset: number | undefined } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as YamlNode | null)?.range?.[0];
  for (const seg of path) {
    node = deref(doc, node);
    if (isMap(node)) {
      const hit = findInMap(doc, node, String(seg), 0);
      if (!hit) return undefined;
      offset = (hit.key as YamlNode | null)?.range?.[0] ?? (hit.value as YamlNode | null)?.range?.[0];
      node = hit.value;
    } else if (isSeq(node)) {
      const i = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
      if (i < 0 || i >= node.items.length) return undefined;
      node = node.items[i];
      offset = (node as YamlNode | null)?.range?.[0];
    } else {
      return undefined;
    }
  }
  return { node, offset };
}

function deref(doc: Document, n: unknown): unknown {
  let cur = n;
  for (let i = 0; i < 100 && isAlias(cur); i++) cur = (cur as Alias).resolve(doc);
  return cur;
}

function scalarKeyString(n: unknown): string | undefined {
  if (!isScalar(n)) return undefined;
  const text = typeof n.source === 'string' ? n.source : String(n.value ?? '');
  const plain = n.type === Scalar.PLAIN || n.type === undefined;
  const r = n.tag && n.tag !== '!' ? resolveTaggedScalar(n.tag, text, plain) : plain && n.tag !== '!' ? resolvePlainScalar(text) : ({ kind: 'string', value: text } as ResolvedScalar);
  switch (r.kind) {
    case 'string': return r.value;
    case 'bool': return r.value ? 'true' : 'false';
    case 'int': return String(r.value);
    case 'float': return formatFloat32Key(r.value);
    default: return undefined;
  }
}

function findInMap(doc: Document, m: YAMLMap, key: string, depth: number): Pair | undefined {
  if (depth > 20) return undefined;
  let winner: Pair | undefined;
  for (const item of m.items) {
    const pair = item as Pair;
    const k = pair.key;
    if (isScalar(k) && k.source === '<<' && k.type === Scalar.PLAIN) {
      const v = deref(doc, pair.value);
      const sources = isSeq(v) ? [...v.items].reverse().map((x) => deref(doc, x)) : [v];
      for (const s of sources) {
        if (isMap(s)) {
          const hit = findInMap(doc, s, key, depth + 1);
          if (hit) winner = hit;
        }
      }
      continue;
    }
    const ks = isAlias(k) ? scalarKeyString(deref(doc, k)) : scalarKeyString(k);
    if (ks === key) winner = pair;
  }
  return winner;
}
