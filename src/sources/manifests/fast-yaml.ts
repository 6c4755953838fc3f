// A fast reader for the YAML that Kubernetes manifests are nearly always written in: block mappings
// and sequences indented with spaces, plain and one-line quoted scalars, literal/folded block scalars,
// empty or one-level flow collections, comments. Anything else (anchors, aliases, tags, merge keys,
// duplicate keys, multi-line plain or quoted scalars, complex keys, tabs, CR line endings, directives,
// several documents) makes it give up, and the document goes through the full `yaml` parser plus the
// go-yaml converter instead. Where it does not give up, it must produce exactly what that slow path
// produces (checked by tests on the corpus, generated manifests and the kubectl differential cases).
//
// Why: the `yaml` package parses ~3 MB/s; bundles and 10,000-manifest directories need 10× that.
import { resolvePlainScalar } from './go-yaml-scalars.ts';
import { escapePointerSegment } from './emit.ts';

export interface FastYamlResult {
  value: unknown;
  spellings: Map<string, string> | undefined;
  /** 0-based line of the first line of the document's content (for the object's location). */
  firstLine: number;
}

/** Thrown to abandon the fast path; never escapes this module. */
class GiveUp {
  readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
}

const BOOLISH = /^(?:y|yes|n|no|true|false|on|off)$/i;
// Characters that cannot start a plain scalar we handle (YAML indicators), see YAML 1.2 §5.3.
const INDICATOR_START = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

class FastParser {
  private readonly lines: string[];
  private i = 0;
  /** Last line looked at (for the debug message). */
  get line(): number {
    return this.i;
  }
  private readonly path: string[] = [];
  spellings: Map<string, string> | undefined;
  /** When set, the 0-based line of every map key and sequence item, by escaped JSON pointer. */
  readonly positions: Map<string, number> | undefined;

  constructor(lines: string[], positions?: Map<string, number>) {
    this.lines = lines;
    this.positions = positions;
  }

  private mark(line: number): void {
    this.positions?.set(this.path.map(escapePointerSegment).join('/'), line);
  }

  /** Index of the next line that is neither blank nor a comment, from `from`; lines.length if none. */
  private nextSignificant(from: number): number {
    const lines = this.lines;
    for (let k = from; k < lines.length; k++) {
      const l = lines[k]!;
      let j = 0;
      while (j < l.length && l.charCodeAt(j) === 32) j++;
      if (j < l.length && l.charCodeAt(j) !== 35) return k;
    }
    return lines.length;
  }

  private indentOf(k: number): number {
    const l = this.lines[k]!;
    let j = 0;
    while (j < l.length && l.charCodeAt(j) === 32) j++;
    return j;
  }

  document(): { value: unknown; firstLine: number } {
    let k = this.nextSignificant(0);
    if (k < this.lines.length && /^---(?:\s|$)/.test(this.lines[k]!)) {
      if (!/^---\s*(?:#.*)?$/.test(this.lines[k]!)) throw new GiveUp('content on the --- line');
      k = this.nextSignificant(k + 1);
    }
    if (k >= this.lines.length) return { value: null, firstLine: 0 };
    if (this.indentOf(k) !== 0) throw new GiveUp('indented root');
    this.i = k;
    const value = this.block(0, -1);
    const rest = this.nextSignificant(this.i);
    if (rest < this.lines.length) throw new GiveUp('content after the root node');
    return { value, firstLine: k };
  }

  /** A block node whose first line is the next significant line, indented by exactly `indent`. */
  private block(indent: number, parentIndent: number): unknown {
    const k = this.nextSignificant(this.i);
    if (k >= this.lines.length) throw new GiveUp('missing block');
    const line = this.lines[k]!;
    if (line.indexOf('\t') >= 0 || line.endsWith('\r')) throw new GiveUp('tab or CR');
    const rest = line.slice(indent);
    if (rest === '-' || rest.startsWith('- ')) return this.sequence(indent);
    if (indent <= parentIndent) throw new GiveUp('bad indentation');
    if (parentIndent >= 0 && !isMappingEntry(rest)) {
      // `key:` with its plain scalar on the following, more-indented line(s).
      const first = stripComment(rest);
      if (first !== rest || first === '' || INDICATOR_START.has(first[0]!)) throw new GiveUp(`scalar on the next line: ${rest.slice(0, 60)}`);
      this.i = k + 1;
      const more = this.plainContinuation(first, k, parentIndent);
      return this.plain(more ?? first);
    }
    return this.mapping(indent);
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const k = this.nextSignificant(this.i);
      if (k >= this.lines.length || this.indentOf(k) !== indent) break;
      const line = this.lines[k]!;
      if (line.indexOf('\t') >= 0 || line.endsWith('\r')) throw new GiveUp('tab or CR');
      if (!(line.length === indent + 1 ? line[indent] === '-' : line.startsWith('- ', indent))) break;
      this.path.push(String(out.length));
      this.mark(k);
      let c = indent + 1;
      while (c < line.length && line.charCodeAt(c) === 32) c++;
      const content = line.slice(c);
      if (content === '' || content.startsWith('#')) {
        if (content.startsWith('#') && c === indent + 1) throw new GiveUp('comment glued to -');
        // Value on the following lines, more indented than the dash.
        this.i = k + 1;
        const n = this.nextSignificant(this.i);
        if (n < this.lines.length && this.indentOf(n) > indent) out.push(this.block(this.indentOf(n), indent));
        else out.push(null);
      } else if (content === '-' || content.startsWith('- ') || isMappingEntry(content)) {
        // Compact nested collection: read it as if its first line started at column c.
        this.lines[k] = ' '.repeat(c) + content;
        this.i = k;
        out.push(this.block(c, indent));
      } else {
        this.i = k + 1;
        out.push(this.inline(content, k, indent));
      }
      this.path.pop();
    }
    return out;
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (;;) {
      const k = this.nextSignificant(this.i);
      if (k >= this.lines.length) break;
      const ind = this.indentOf(k);
      if (ind < indent) break;
      if (ind > indent) throw new GiveUp('unexpected indentation');
      const line = this.lines[k]!;
      if (line.indexOf('\t') >= 0 || line.endsWith('\r')) throw new GiveUp('tab or CR');
      if (line.startsWith('- ', indent) || line.length === indent + 1 && line[indent] === '-') break;
      const { key, valueText } = splitEntry(line, indent);
      if (key === '<<') throw new GiveUp('merge key');
      if (seen.has(key)) throw new GiveUp('duplicate key');
      seen.add(key);
      this.path.push(key);
      this.mark(k);
      let value: unknown;
      if (valueText === '') {
        this.i = k + 1;
        const n = this.nextSignificant(this.i);
        if (n < this.lines.length) {
          const ni = this.indentOf(n);
          const nl = this.lines[n]!;
          if (ni > indent) value = this.block(ni, indent);
          else if (ni === indent && (nl.startsWith('- ', ni) || nl.length === ni + 1 && nl[ni] === '-')) value = this.sequence(indent);
          else value = null;
        } else value = null;
      } else {
        this.i = k + 1;
        value = this.inline(valueText, k, indent);
      }
      this.path.pop();
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  /** A value written on the entry's own line (`text` has no leading space). */
  private inline(text: string, lineIdx: number, ownerIndent: number): unknown {
    const c = text[0]!;
    if (c === '|' || c === '>') return this.blockScalar(text, ownerIndent);
    let value: unknown;
    if ((c === '"' || c === "'") && closingQuote(text, 0) < 0) {
      const str = this.multiLineQuoted(text, lineIdx, ownerIndent);
      if (BOOLISH.test(str)) this.spell(c + str + c);
      value = str;
    } else if (c === '"' || c === "'") {
      const { str, end } = quoted(text, 0);
      if (!isTrailingSpaceOrComment(text, end)) throw new GiveUp('text after a quoted scalar');
      if (BOOLISH.test(str)) this.spell(c + str + c);
      value = str;
    } else if (c === '[' || c === '{') {
      value = this.flow(stripComment(text));
    } else {
      const first = stripComment(text);
      const more = first === text ? this.plainContinuation(first, lineIdx, ownerIndent) : undefined;
      value = this.plain(more === undefined ? first : more);
    }
    // A more-indented line after a one-line value would continue a multi-line scalar.
    const n = this.nextSignificant(this.i);
    if (n < this.lines.length && this.indentOf(n) > ownerIndent) throw new GiveUp(`multi-line scalar at line ${lineIdx + 1}`);
    return value;
  }

  /**
   * A quoted scalar over several lines (YAML 1.2 §7.3.1-2): trailing and leading white space around
   * each line break is dropped, a break becomes a space, each blank line a newline, and in double
   * quotes a `\` at the end of a line joins the lines with nothing in between. The folded text is
   * then unescaped as a one-line scalar.
   */
  private multiLineQuoted(text: string, lineIdx: number, ownerIndent: number): string {
    const q = text[0]!;
    const lines = this.lines;
    let folded = text.trimEnd();
    let blanks = 0;
    let k = lineIdx + 1;
    for (; k < lines.length; k++) {
      const raw = lines[k]!;
      const t = raw.trim();
      if (t === '') {
        blanks++;
        continue;
      }
      if (this.indentOf(k) <= ownerIndent) throw new GiveUp('quoted scalar continuation not indented');
      if (q === '"' && /\\[ \t]$/.test(raw)) throw new GiveUp('escaped trailing space');
      const escapedBreak = q === '"' && blanks === 0 && endsWithOddBackslashes(folded);
      if (escapedBreak) folded = folded.slice(0, -1);
      else folded += blanks > 0 ? '\n'.repeat(blanks) : ' ';
      blanks = 0;
      const close = closeIn(t, q, 0);
      if (close >= 0) {
        if (!isTrailingSpaceOrComment(t, close + 1)) throw new GiveUp('text after a quoted scalar');
        folded += t.slice(0, close + 1);
        this.i = k + 1;
        const { str, end } = quoted(folded, 0);
        if (end !== folded.length) throw new GiveUp('quoted scalar folding');
        return str;
      }
      folded += t;
    }
    throw new GiveUp('unterminated quoted scalar');
  }

  /**
   * A plain scalar continued on more-indented lines (controller-gen descriptions): lines are trimmed
   * and folded, a line break becoming a space and each blank line a newline (YAML 1.2 §7.3.3, 6.5).
   * Returns undefined when the scalar is on one line; gives up on anything unusual inside it.
   */
  private plainContinuation(first: string, lineIdx: number, ownerIndent: number): string | undefined {
    const lines = this.lines;
    let k = lineIdx + 1;
    let lastContent = lineIdx;
    let commentSeen = false;
    for (; k < lines.length; k++) {
      const l = lines[k]!;
      const t = l.trim();
      if (t === '') continue;
      if (this.indentOf(k) <= ownerIndent) break;
      // A comment line ends a plain scalar; more content after it would be an error.
      if (t.startsWith('#')) {
        commentSeen = true;
        continue;
      }
      if (commentSeen) throw new GiveUp('content after a comment inside a plain scalar');
      lastContent = k;
    }
    if (lastContent === lineIdx) return undefined;
    if (first === '' || first.startsWith('-')) throw new GiveUp('multi-line scalar after an empty or dash start');
    let out = first;
    let blanks = 0;
    for (let j = lineIdx + 1; j <= lastContent; j++) {
      const t = lines[j]!.trim();
      if (t === '') {
        blanks++;
        continue;
      }
      // Inside a plain scalar only `: `, ` #` and a trailing `:` matter; other indicators are content.
      if (t.startsWith('#') || t.includes(' #') || t.includes(': ') || t.endsWith(':')) {
        throw new GiveUp('unusual line in a multi-line plain scalar');
      }
      out += blanks > 0 ? '\n'.repeat(blanks) : ' ';
      out += t;
      blanks = 0;
    }
    this.i = lastContent + 1;
    return out;
  }

  private plain(text: string): unknown {
    if (text === '') return null;
    checkPlain(text);
    const r = resolvePlainScalar(text);
    switch (r.kind) {
      case 'string':
        return r.value;
      case 'null':
        return null;
      case 'bool':
        if (text !== 'true' && text !== 'false') this.spell(text);
        return r.value;
      case 'int':
      case 'float':
        if (!Number.isFinite(r.value)) throw new GiveUp('non-finite number');
        return r.value;
      default:
        throw new GiveUp('unresolvable scalar');
    }
  }

  /** `[]`, `{}`, or one level of plain/quoted scalars: `[a, "b"]`, `{a: 1, b: x}`. */
  private flow(text: string): unknown {
    const open = text[0]!;
    const close = open === '[' ? ']' : '}';
    if (text[text.length - 1] !== close) throw new GiveUp('flow collection spans lines or has trailing text');
    const inner = text.slice(1, -1).trim();
    if (inner === '') return open === '[' ? [] : {};
    if (/[[\]{}&*!|>`@%#?]/.test(inner) || inner.endsWith(',')) throw new GiveUp('nested or unusual flow collection');
    const parts: string[] = [];
    let pos = 0;
    let cur = '';
    while (pos < inner.length) {
      const ch = inner[pos]!;
      if (ch === '"' || ch === "'") {
        const { end } = quoted(inner, pos);
        cur += inner.slice(pos, end);
        pos = end;
      } else if (ch === ',') {
        parts.push(cur.trim());
        cur = '';
        pos++;
      } else {
        cur += ch;
        pos++;
      }
    }
    parts.push(cur.trim());
    const scalar = (s: string): unknown => {
      if (s === '') throw new GiveUp('empty flow entry');
      if (s[0] === '"' || s[0] === "'") {
        const { str, end } = quoted(s, 0);
        if (end !== s.length) throw new GiveUp('text after quoted flow scalar');
        if (BOOLISH.test(str)) this.spell(s[0] + str + s[0]);
        return str;
      }
      if (s.includes(': ') || s.endsWith(':') || s.includes(':"') || s.includes(":'")) throw new GiveUp('flow mapping entry');
      return this.plain(s);
    };
    const flowLine = this.i - 1;
    if (open === '[') {
      return parts.map((p, idx) => {
        this.path.push(String(idx));
        this.mark(flowLine);
        const v = scalar(p);
        this.path.pop();
        return v;
      });
    }
    const out: Record<string, unknown> = {};
    for (const p of parts) {
      let key: string;
      let rest: string;
      if (p[0] === '"' || p[0] === "'") {
        const q = quoted(p, 0);
        key = q.str;
        const after = p.slice(q.end);
        if (!/^\s*:(\s|$)/.test(after)) throw new GiveUp('flow mapping key');
        rest = after.replace(/^\s*:/, '').trim();
      } else {
        const m = /^([^:]*?)\s*:(?:\s+(.*))?$/.exec(p);
        if (!m) throw new GiveUp('flow mapping entry');
        key = m[1]!;
        rest = (m[2] ?? '').trim();
        checkPlain(key);
        if (resolvePlainScalar(key).kind !== 'string') throw new GiveUp('non-string key');
      }
      if (Object.hasOwn(out, key) || key === '__proto__' || key === '<<') throw new GiveUp('duplicate, merge or proto key');
      this.path.push(key);
      this.mark(flowLine);
      out[key] = rest === '' ? null : scalar(rest);
      this.path.pop();
    }
    return out;
  }

  /** Literal `|` and folded `>` scalars with clip/strip/keep chomping (no indentation indicator). */
  private blockScalar(header: string, ownerIndent: number): string {
    const m = /^([|>])([-+]?)(\s+#.*)?\s*$/.exec(header);
    if (!m) throw new GiveUp('block scalar header');
    const folded = m[1] === '>';
    const chomp = m[2];
    const lines = this.lines;
    let k = this.i;
    // Content indentation: the first non-blank line's.
    let first = k;
    while (first < lines.length && lines[first]!.trim() === '') first++;
    let contentIndent = first < lines.length ? this.indentOf(first) : 0;
    if (first < lines.length && contentIndent <= ownerIndent) {
      // No content: the scalar is empty; its blank lines belong to it only for keep chomping.
      first = lines.length;
    }
    if (first >= lines.length) {
      // Empty block scalar.
      for (let b = k; b < lines.length && lines[b]!.trim() === ''; b++) {
        if (lines[b]!.length > ownerIndent + 1) throw new GiveUp('blank lines with spaces in an empty block scalar');
      }
      this.i = k;
      if (chomp === '+') throw new GiveUp('keep chomping of an empty block scalar');
      return '';
    }
    // Leading blank lines must not be more indented than the content (YAML would take their indentation).
    for (let b = k; b < first; b++) if (lines[b]!.length > contentIndent) throw new GiveUp('leading blank line indentation');
    const body: string[] = [];
    let end = k;
    for (; end < lines.length; end++) {
      const l = lines[end]!;
      if (l.endsWith('\r')) throw new GiveUp('CR');
      if (l.trim() === '') {
        // Spaces beyond the content indentation would be content; leave such lines to the full parser.
        if (l.length > contentIndent) throw new GiveUp('whitespace-only line inside a block scalar');
        body.push('');
        continue;
      }
      const ind = this.indentOf(end);
      if (ind < contentIndent) break;
      body.push(l.slice(contentIndent));
    }
    // Trailing blank lines are chomped; the scalar ends at the last content line.
    let last = body.length - 1;
    while (last >= 0 && body[last]!.trim() === '' && body[last] === '') last--;
    if (body.slice(last + 1).some((b) => b !== '')) throw new GiveUp('trailing whitespace lines');
    const trailing = body.length - 1 - last;
    const content = body.slice(0, last + 1);
    // Lines after the scalar that are blank belong to it (for keep chomping); the next node starts at `end`.
    this.i = end;
    let text: string;
    if (!folded) {
      text = content.join('\n');
    } else {
      if (content.some((c) => c.startsWith(' ') || c.startsWith('\t'))) throw new GiveUp('more-indented lines in a folded scalar');
      text = '';
      let pendingBreaks = 0;
      for (let c = 0; c < content.length; c++) {
        const line = content[c]!;
        if (line === '') {
          pendingBreaks++;
          continue;
        }
        if (c > 0) text += pendingBreaks > 0 ? '\n'.repeat(pendingBreaks) : ' ';
        pendingBreaks = 0;
        text += line;
      }
      if (pendingBreaks) throw new GiveUp('folded trailing breaks');
    }
    if (chomp === '-') return text;
    if (chomp === '+') return text + '\n'.repeat(1 + trailing);
    return text + '\n';
  }

  private spell(text: string): void {
    if (this.path.length === 0) return;
    this.spellings ??= new Map();
    this.spellings.set(this.path.map(escapePointerSegment).join('/'), text);
  }
}

/** Index of the first quote `q` in `text` from `from` that closes a `q`-quoted scalar, -1 if none. */
function closeIn(text: string, q: string, from: number): number {
  if (q === "'") {
    let i = from;
    for (;;) {
      const j = text.indexOf("'", i);
      if (j < 0) return -1;
      if (text[j + 1] === "'") {
        i = j + 2;
        continue;
      }
      return j;
    }
  }
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '"') return i;
  }
  return -1;
}

/** Index of the quote closing the scalar that opens at `open`, -1 when it does not close on this line. */
function closingQuote(text: string, open: number): number {
  return closeIn(text, text[open]!, open + 1);
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return (n & 1) === 1;
}

/** `key: value` where key is plain or quoted. */
function isMappingEntry(content: string): boolean {
  if (content[0] === '"' || content[0] === "'") {
    try {
      const { end } = quoted(content, 0);
      return /^\s*:(\s|$)/.test(content.slice(end));
    } catch {
      return false;
    }
  }
  return /^[^#]*?:(\s|$)/.test(content) && !content.startsWith('[') && !content.startsWith('{');
}

function splitEntry(line: string, indent: number): { key: string; valueText: string } {
  let key: string;
  let after: number;
  const c = line[indent]!;
  if (c === '"' || c === "'") {
    const q = quoted(line, indent);
    key = q.str;
    let p = q.end;
    while (line[p] === ' ') p++;
    if (line[p] !== ':' || (p + 1 < line.length && line[p + 1] !== ' ')) throw new GiveUp('quoted key');
    after = p + 1;
  } else {
    if (INDICATOR_START.has(c)) throw new GiveUp('key starts with an indicator');
    let p = line.indexOf(':', indent);
    while (p >= 0 && p + 1 < line.length && line[p + 1] !== ' ') p = line.indexOf(':', p + 1);
    if (p < 0) throw new GiveUp(`not a mapping entry: ${line.slice(0, 80)}`);
    key = line.slice(indent, p).trimEnd();
    if (key.includes(' #')) throw new GiveUp('comment in key');
    checkPlain(key);
    if (resolvePlainScalar(key).kind !== 'string') throw new GiveUp('non-string key');
    after = p + 1;
  }
  let v = after;
  while (v < line.length && line[v] === ' ') v++;
  let valueText = line.slice(v);
  if (valueText.startsWith('#')) {
    if (v === after) throw new GiveUp('comment glued to the colon');
    valueText = '';
  }
  return { key, valueText };
}

/** Plain scalar text (already without comment) that YAML reads the way we do. */
function checkPlain(text: string): void {
  if (text === '') return;
  const c = text[0]!;
  if (INDICATOR_START.has(c)) {
    // `-1`, `-x`, `:x`, `?x` are plain scalars when not followed by a space; keep it simple: only `-`.
    if (!(c === '-' && text.length > 1 && text[1] !== ' ')) throw new GiveUp('indicator at scalar start');
  }
  if (text.includes(': ') || text.endsWith(':') || text.includes(' #')) throw new GiveUp('colon or comment in a plain scalar');
  if (text !== text.trim()) throw new GiveUp('untrimmed plain scalar');
}

function stripComment(text: string): string {
  const h = text.indexOf(' #');
  return (h >= 0 ? text.slice(0, h) : text).trimEnd();
}

function isTrailingSpaceOrComment(text: string, from: number): boolean {
  const rest = text.slice(from);
  return /^\s*$/.test(rest) || /^\s+#/.test(rest);
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\',
  N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

/** A one-line quoted scalar starting at `from`; gives up when it does not close on this line. */
function quoted(text: string, from: number): { str: string; end: number } {
  const q = text[from]!;
  let out = '';
  let i = from + 1;
  if (q === "'") {
    for (;;) {
      const j = text.indexOf("'", i);
      if (j < 0) throw new GiveUp('multi-line single-quoted scalar');
      out += text.slice(i, j);
      if (text[j + 1] === "'") {
        out += "'";
        i = j + 2;
        continue;
      }
      return { str: out, end: j + 1 };
    }
  }
  for (;;) {
    if (i >= text.length) throw new GiveUp('multi-line double-quoted scalar');
    const ch = text[i]!;
    if (ch === '"') return { str: out, end: i + 1 };
    if (ch === '\\') {
      const e = text[i + 1];
      if (e === undefined) throw new GiveUp('escaped line break');
      if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new GiveUp('bad escape');
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new GiveUp('surrogate escape');
        out += String.fromCodePoint(cp);
        i += 2 + len;
        continue;
      }
      const r = ESCAPES[e];
      if (r === undefined) throw new GiveUp('unknown escape');
      out += r;
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
}

/**
 * Parses one YAML document's text, or returns undefined when it needs the full parser. With
 * `positions`, also records the 0-based line of every key and item (for lazy `lineOf`).
 */
export function tryFastYaml(text: string, positions?: Map<string, number>): FastYamlResult | undefined {
  // Cheap whole-text screens for constructs the fast path never handles.
  if (text.indexOf('\r') >= 0 || text.indexOf('\t') >= 0) return undefined;
  if (/^(?:\.\.\.|%)/m.test(text)) return undefined;
  // Without a final newline a block scalar's chomping differs; leave that to the full parser.
  if (!text.endsWith('\n') && /[|>][-+]?\s*(?:#.*)?$/m.test(text)) return undefined;
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const p = new FastParser(lines, positions);
  try {
    const { value, firstLine } = p.document();
    positions?.set('', firstLine);
    return { value, spellings: p.spellings, firstLine };
  } catch (e) {
    if (e instanceof GiveUp) {
      if (process.env.KSA_FAST_YAML_DEBUG) process.stderr.write(`fast-yaml: ${e.why} (line ${p.line + 1})\n`);
      return undefined;
    }
    throw e;
  }
}
