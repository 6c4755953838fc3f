// Byte-level splitter for streams of JSON documents (`kubectl get -o json` output, API LIST bodies,
// concatenated objects). It never holds the input as one string: each top-level document is cut out
// of the chunks as it completes, and the `items` array of a top-level object (a List, as
// apimachinery's UnstructuredJSONScheme treats any object with `items`) is cut into its elements, so
// a 1+ GB dump costs one item at a time. Only the bytes of one item (or of a non-List document) are
// ever buffered.
//
// The scanner tracks string/escape state and nesting depth; strings are skipped with
// Buffer#indexOf. It does not validate JSON: the pieces it cuts are handed to JSON.parse, which does.
import type { LineIndex } from './line-index.ts';

export interface JsonSplitEvents {
  /**
   * A top-level document completed. For a List its `items` content is left out (the array reads `[]`)
   * and `hadItems` is true; the items were delivered one by one before.
   */
  document(bytes: Buffer, line: number, index: number, hadItems: boolean, list: ListTypeMeta): void;
  /**
   * One element of a top-level `items` array. `kind` is the element's top-level `"kind"` string when
   * the scanner saw it (used to skip unwanted kinds without parsing). `pieces` are the element's bytes,
   * in order; call `joinPieces` to get one Buffer.
   */
  item(pieces: Buffer[], size: number, line: number, docIndex: number, itemIndex: number, kind: string | undefined, list: ListTypeMeta, layout?: ItemLayout): boolean | void;
  /** A structural problem: the stream cannot be split further. */
  error(message: string, line: number): void;
}

/**
 * Set when the item was cut by the indentation fast path: it is pretty-printed, its top-level keys sit
 * on lines indented by `keyIndent` spaces, and its closing brace by `indent`. A handler that gets a
 * parse error for such an item returns false: the splitter then rescans it byte by byte.
 */
export interface ItemLayout {
  indent: number;
  keyIndent: number;
  /** Subtrees were cut out (top-level `status`, `metadata.managedFields`, a Secret's `data`/`stringData`): they read `{}`/`[]`. */
  elided: boolean;
}

/** The top-level document's `kind`/`apiVersion` as far as the scanner has seen them (kubectl prints them after `items`). */
export interface ListTypeMeta {
  kind?: string;
  apiVersion?: string;
}

export interface JsonSplitOptions {
  /** Largest single document or item kept in memory, in bytes. */
  maxObjectBytes: number;
  /** Cut unused subtrees out of fast-path items before parsing (default true). */
  elide?: boolean;
  /**
   * The caller reuses each chunk's memory once `push` returns (one read buffer for a whole file: fresh
   * buffers cost a page fault per 4 KiB, which on virtual machines is a large part of reading a big dump),
   * so bytes kept across pushes are copied.
   */
  reusedChunks?: boolean;
  /**
   * Line starts and indentations found by vector code (line-index.ts), for chunks read into its buffer: the
   * indentation fast path then reads two numbers per line instead of scanning its bytes. Same results.
   */
  lineIndex?: LineIndex;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

export function joinPieces(pieces: Buffer[], size: number): Buffer {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
}

/** Depth levels: 1 = inside the top-level object, 2 = inside its `items` array, 3 = inside an item. */
export class JsonSplitter {
  private readonly ev: JsonSplitEvents;
  private readonly maxObjectBytes: number;
  private failed = false;

  private line = 1;
  private depth = 0;
  private inString = false;
  /** Backslashes immediately before the end of the previous chunk, inside the current string. */
  private carryBackslashes = 0;

  // Current top-level document.
  private docIndex = -1;
  private docLine = 0;
  private docPieces: Buffer[] = [];
  private docSize = 0;
  private docCollecting = false;
  private docTooBig = false;
  private docHadItems = false;
  private list: ListTypeMeta = {};

  // `items` array state.
  private inItems = false;
  private itemOpen = false;
  private itemIndex = -1;
  private itemLine = 0;
  private itemPieces: Buffer[] = [];
  private itemSize = 0;
  private itemTooBig = false;
  private itemKind: string | undefined;
  private itemIsScalar = false;

  // Key tracking at depth 1 (document) and 3 (item): the last completed string, and whether a colon
  // made it a key whose value comes next.
  private captureFrom = -1;
  private capturePieces: Buffer[] | undefined;
  private lastString: string | undefined;
  private lastKey: string | undefined;
  private expectValue = false;

  constructor(events: JsonSplitEvents, opts: JsonSplitOptions) {
    this.ev = events;
    this.maxObjectBytes = opts.maxObjectBytes;
    this.elide = opts.elide ?? true;
    this.reusedChunks = opts.reusedChunks ?? false;
    this.lineIndex = opts.lineIndex;
  }

  private readonly lineIndex: LineIndex | undefined;
  /** Lines of the current chunk in `lineIndex.records` (-1: none, scan bytes), and the next one to read. */
  private lineCount = -1;
  private lineCursor = 0;

  private readonly reusedChunks: boolean;

  private readonly elide: boolean;

  get hasFailed(): boolean {
    return this.failed;
  }

  /** Items of the current (or last) List cut so far. */
  get itemCount(): number {
    return this.itemIndex + 1;
  }

  /** Top-level documents begun so far. */
  get documentsStarted(): number {
    return this.docIndex + 1;
  }

  /** Whether every document seen so far is complete (nothing open, not inside a string). */
  get atDocumentBoundary(): boolean {
    return this.depth === 0 && !this.inString;
  }

  /** Current 1-based line (of the next byte to scan). */
  get lineNumber(): number {
    return this.line;
  }

  private fail(message: string): void {
    if (!this.failed) this.ev.error(message, this.line);
    this.failed = true;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.lineCount = this.lineIndex ? this.lineIndex.index(chunk) : -1;
    this.lineCursor = 0;
    const n = chunk.length;
    let i = 0;
    // Where the current document/item bytes start inside this chunk.
    let docFrom = this.docCollecting ? 0 : -1;
    let itemFrom = this.itemOpen ? 0 : -1;

    if (this.inString) {
      i = this.finishString(chunk, 0);
      if (i < 0) {
        this.saveTail(chunk, docFrom, itemFrom);
        return;
      }
    }

    while (i < n) {
      const c = chunk[i]!;
      if (c === SPACE || c === NEWLINE || c === CR || c === TAB) {
        if (c === NEWLINE) this.line++;
        i++;
        continue;
      }
      const depth = this.depth;
      if (c === QUOTE) {
        if (depth === 2 && this.inItems && !this.itemOpen) {
          this.openItem(true);
          itemFrom = i;
        }
        const capture = depth === 1 || (depth === 3 && this.inItems);
        this.captureFrom = capture ? i + 1 : -1;
        this.capturePieces = undefined;
        const end = this.finishString(chunk, i + 1);
        if (end < 0) {
          this.saveTail(chunk, docFrom, itemFrom);
          return;
        }
        i = end;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (c === LBRACE && depth === 2 && this.inItems && !this.itemOpen && this.fastPath) {
          const next = this.fastItem(chunk, i);
          if (next > 0) {
            i = next;
            continue;
          }
        }
        if (depth === 0) {
          this.openDocument();
          docFrom = i;
        } else if (depth === 1 && c === LBRACKET && this.expectValue && this.lastKey === 'items') {
          // Entering the List's items: the document keeps `[`, the items go out one by one.
          this.pushDoc(chunk, docFrom, i + 1);
          docFrom = -1;
          this.docCollecting = false;
          this.inItems = true;
          this.docHadItems = true;
          this.itemIndex = -1;
        } else if (depth === 2 && this.inItems && !this.itemOpen) {
          this.openItem(false);
          itemFrom = i;
        }
        this.expectValue = false;
        this.depth = depth + 1;
        i++;
        continue;
      }
      if (c === RBRACE || c === RBRACKET) {
        if (depth === 0) {
          this.fail(`unexpected '${String.fromCharCode(c)}' outside any JSON value`);
          return;
        }
        this.depth = depth - 1;
        this.expectValue = false;
        if (depth === 2 && this.inItems) {
          // End of the items array (possibly right after a scalar item).
          if (this.itemOpen) {
            this.closeItem(chunk, itemFrom, trimEnd(chunk, itemFrom < 0 ? 0 : itemFrom, i));
            itemFrom = -1;
          }
          this.inItems = false;
          this.docCollecting = true;
          docFrom = i;
        } else if (depth === 3 && this.inItems && this.itemOpen && !this.itemIsScalar) {
          this.closeItem(chunk, itemFrom, i + 1);
          itemFrom = -1;
        } else if (depth === 1) {
          this.closeDocument(chunk, docFrom, i + 1);
          docFrom = -1;
        }
        i++;
        continue;
      }
      if (c === COLON) {
        if (depth === 1 || depth === 3) {
          this.lastKey = this.lastString;
          this.expectValue = true;
        }
        i++;
        continue;
      }
      if (c === COMMA) {
        this.expectValue = false;
        if (depth === 2 && this.inItems && this.itemOpen) {
          this.closeItem(chunk, itemFrom, trimEnd(chunk, itemFrom < 0 ? 0 : itemFrom, i));
          itemFrom = -1;
        }
        i++;
        continue;
      }
      // Literal or number.
      if (depth === 0) {
        this.fail(`unexpected '${printable(c)}' at top level: expected a JSON object`);
        return;
      }
      if (depth === 2 && this.inItems && !this.itemOpen) {
        this.openItem(true);
        itemFrom = i;
      }
      this.expectValue = false;
      i++;
    }
    this.saveTail(chunk, docFrom, itemFrom);
  }

  /**
   * Pretty-printed Lists (kubectl, jq, JSON.stringify with indent) close an item with a line holding
   * only the item's own indentation and `}`; JSON strings cannot contain a raw newline, so that line
   * cannot occur inside the item. One tight loop over the newlines finds the end, counts lines, reads
   * the top-level `"kind"` and notes subtrees the analysis never reads (see ELIDE), without tracking
   * strings or depth. Returns the index after the item, or 0 to scan it byte by byte (no indentation,
   * item not entirely in this chunk, or the handler could not parse what the layout promised).
   */
  private fastItem(chunk: Buffer, i: number): number {
    let k = i - 1;
    while (k >= 0 && chunk[k] === SPACE) k--;
    if (k < 0 || chunk[k] !== NEWLINE) return 0;
    const indent = i - 1 - k;
    const n = chunk.length;
    let newlines = 0;
    let keyIndent = -1;
    let kind: string | undefined;
    let end = -1;
    // Elision bookkeeping: the open subtree (by its opening line's indentation) and the cuts made.
    let cutFrom = -1;
    let cutIndent = -1;
    // Reused across items: allocating here made V8 deoptimise this loop again and again
    // ("insufficient type feedback for array literal") when items alternated with and without cuts.
    const cuts = this.cuts;
    let nCuts = 0;
    let inMetadata = false;
    // Whether `apiVersion` (printed before `kind` and `spec`: kubectl sorts keys) names a built-in group.
    let builtinGroup = false;
    // Each line: the newline before it (j), its indentation (sp) and first byte (at s). From the line index when
    // the chunk has one (two numbers per line), else by scanning bytes.
    const lineCount = this.lineCount;
    const records = lineCount >= 0 ? this.lineIndex!.records : undefined;
    let r = this.lineCursor;
    if (records) while (r < lineCount && records[2 * r]! <= i) r++;
    for (let j = records ? (r < lineCount ? records[2 * r]! : -1) : chunk.indexOf(NEWLINE, i + 1); j >= 0 && j < n; ) {
      if (records && cutFrom >= 0) {
        // Inside a cut subtree only the line that closes it matters: lines indented deeper are skipped on their
        // indentation alone (a third of a kubectl dump's lines lie in status, managedFields and unread blocks).
        while (r < lineCount && records[2 * r + 1]! > cutIndent) {
          newlines++;
          r++;
        }
        if (r >= lineCount) break;
        j = records[2 * r]!;
      }
      newlines++;
      let s: number;
      if (records) {
        s = j + 1 + records[2 * r + 1]!;
        r++;
      } else {
        s = j + 1;
        while (s < n && chunk[s] === SPACE) s++;
      }
      if (s >= n) break;
      const sp = s - j - 1;
      const c = chunk[s];
      if (sp === indent && c === RBRACE) {
        end = s + 1;
        break;
      }
      if (keyIndent < 0) {
        if (sp <= indent) break;
        keyIndent = sp;
      }
      if (!this.elide) {
        if (kind === undefined && sp === keyIndent && c === QUOTE && startsWith(chunk, s, KIND_KEY)) kind = readKindValue(chunk, s + KIND_KEY.length);
      } else if (cutFrom >= 0) {
        if (sp === cutIndent && (c === RBRACE || c === RBRACKET)) {
          cuts[nCuts++] = cutFrom;
          cuts[nCuts++] = j;
          cutFrom = -1;
        }
      } else if (c === QUOTE) {
        if (sp === keyIndent) {
          inMetadata = false;
          if (kind === undefined && startsWith(chunk, s, KIND_KEY)) kind = readKindValue(chunk, s + KIND_KEY.length);
          else if (startsWith(chunk, s, API_VERSION_KEY)) builtinGroup = isBuiltinWorkloadGroup(chunk, s + API_VERSION_KEY.length);
          else if (startsWith(chunk, s, STATUS_KEY)) {
            cutFrom = s + STATUS_KEY.length;
            cutIndent = sp;
          } else if (startsWith(chunk, s, METADATA_KEY)) inMetadata = true;
          else if (kind === 'Secret' && (startsWith(chunk, s, DATA_KEY) || startsWith(chunk, s, STRING_DATA_KEY))) {
            cutFrom = chunk.indexOf(LBRACE, s) + 1;
            cutIndent = sp;
          }
        } else if (inMetadata && sp === 2 * keyIndent - indent) {
          if (startsWith(chunk, s, MANAGED_FIELDS_KEY)) {
            cutFrom = s + MANAGED_FIELDS_KEY.length;
            cutIndent = sp;
          } else if (builtinGroup && kind === 'Pod' && startsWith(chunk, s, LABELS_KEY) && chunk[s + LABELS_KEY.length] === NEWLINE) {
            // A Pod's own labels are read by no analysis (the builder keeps only its mirror-pod annotation).
            cutFrom = s + LABELS_KEY.length;
            cutIndent = sp;
          }
        } else if (builtinGroup && kind !== undefined && sp > keyIndent && !inMetadata && BUILTIN_WORKLOAD_KINDS.has(kind)) {
          const after = unreadBlockAt(chunk, s);
          if (after > 0) {
            cutFrom = after;
            cutIndent = sp;
          }
        }
      }
      if (records) {
        if (r >= lineCount) break;
        j = records[2 * r]!;
        continue;
      }
      // Lines are short: a byte loop beats Buffer#indexOf's call cost here. From `s` itself: on a blank or
      // whitespace-only line, `s` is already the next newline.
      j = s;
      while (j < n && chunk[j] !== NEWLINE) j++;
      if (j >= n) break;
    }
    if (end < 0 || keyIndent <= indent) return 0;
    if (records) this.lineCursor = r;
    const itemLine = this.line;
    this.itemIndex++;
    const pieces: Buffer[] = [];
    let size = 0;
    let from = i;
    for (let c = 0; c < nCuts; c += 2) {
      pieces.push(chunk.subarray(from, cuts[c]));
      size += cuts[c]! - from;
      from = cuts[c + 1]!;
    }
    pieces.push(chunk.subarray(from, end));
    size += end - from;
    const ok = this.ev.item(pieces, size, itemLine, this.docIndex, this.itemIndex, kind, this.list, { indent, keyIndent, elided: nCuts > 0 });
    if (ok === false) {
      // Not what the layout promised: scan this item (and the rest of this document) byte by byte.
      this.itemIndex--;
      this.fastPath = false;
      return 0;
    }
    this.line += newlines;
    return end;
  }

  private fastPath = true;
  private readonly cuts: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

  end(): void {
    if (this.failed) return;
    if (this.inString || this.depth > 0) {
      this.fail(`unexpected end of input: the JSON document starting at line ${this.docLine} is not complete`);
    }
  }

  /**
   * Scans for the closing quote of a string that began before `from`. Returns the index after the
   * quote, or -1 when the chunk ends inside the string (state saved for the next chunk).
   */
  private finishString(chunk: Buffer, from: number): number {
    let pos = from;
    for (;;) {
      const q = chunk.indexOf(QUOTE, pos);
      if (q < 0) {
        // Count trailing backslashes for the next chunk's first quote.
        let b = 0;
        let k = chunk.length - 1;
        while (k >= from && chunk[k] === BACKSLASH) {
          b++;
          k--;
        }
        this.carryBackslashes = k < from && from === 0 ? this.carryBackslashes + b : b;
        if (this.captureFrom >= 0 || this.capturePieces) {
          this.capturePieces ??= [];
          const tail = chunk.subarray(Math.max(0, this.captureFrom), chunk.length);
          this.capturePieces.push(this.reusedChunks ? Buffer.from(tail) : tail);
          this.captureFrom = 0;
        }
        this.inString = true;
        return -1;
      }
      let b = 0;
      let k = q - 1;
      while (k >= from && chunk[k] === BACKSLASH) {
        b++;
        k--;
      }
      if (k < from && from === 0) b += this.carryBackslashes;
      if ((b & 1) === 0) {
        this.inString = false;
        this.carryBackslashes = 0;
        if (this.captureFrom >= 0) this.captured(chunk, q);
        return q + 1;
      }
      pos = q + 1;
    }
  }

  private captured(chunk: Buffer, q: number): void {
    const start = this.captureFrom;
    this.captureFrom = -1;
    let s: string;
    if (this.capturePieces) {
      this.capturePieces.push(chunk.subarray(start, q));
      s = Buffer.concat(this.capturePieces).toString('utf8');
      this.capturePieces = undefined;
    } else {
      if (q - start > 256) {
        this.lastString = undefined;
        this.onValueString(undefined);
        return;
      }
      s = chunk.toString('latin1', start, q);
      // Non-ASCII or escapes: decode properly (keys we look for are plain ASCII).
      if (s.includes('\\') || /[^\x00-\x7f]/.test(s)) {
        try {
          s = JSON.parse('"' + chunk.toString('utf8', start, q) + '"') as string;
        } catch {
          s = '';
        }
      }
    }
    this.onValueString(s);
  }

  private onValueString(s: string | undefined): void {
    if (this.expectValue) {
      if (this.lastKey === 'kind') {
        if (this.depth === 3) this.itemKind = s;
        else if (this.depth === 1 && s !== undefined) this.list.kind = s;
      } else if (this.lastKey === 'apiVersion' && this.depth === 1 && s !== undefined) {
        this.list.apiVersion = s;
      }
      this.expectValue = false;
    } else {
      this.lastString = s;
    }
  }

  private openDocument(): void {
    this.fastPath = true;
    this.docIndex++;
    this.docLine = this.line;
    this.docPieces = [];
    this.docSize = 0;
    this.docCollecting = true;
    this.docTooBig = false;
    this.docHadItems = false;
    this.list = {};
    this.lastKey = undefined;
    this.lastString = undefined;
    this.expectValue = false;
  }

  private pushDoc(chunk: Buffer, from: number, to: number): void {
    if (from < 0 || to <= from || this.docTooBig) return;
    this.docSize += to - from;
    if (this.docSize > this.maxObjectBytes) {
      this.docTooBig = true;
      this.docPieces = [];
      return;
    }
    this.docPieces.push(chunk.subarray(from, to));
  }

  private closeDocument(chunk: Buffer, from: number, to: number): void {
    this.pushDoc(chunk, from, to);
    this.docCollecting = false;
    if (this.docTooBig) {
      this.ev.error(
        `JSON document starting at line ${this.docLine} is larger than ${mib(this.maxObjectBytes)} and is not a List; skipped`,
        this.docLine,
      );
    } else {
      this.ev.document(joinPieces(this.docPieces, this.docSize), this.docLine, this.docIndex, this.docHadItems, this.list);
    }
    this.docPieces = [];
    this.docSize = 0;
  }

  private openItem(scalar: boolean): void {
    this.itemOpen = true;
    this.itemIsScalar = scalar;
    this.itemIndex++;
    this.itemLine = this.line;
    this.itemPieces = [];
    this.itemSize = 0;
    this.itemTooBig = false;
    this.itemKind = undefined;
    this.lastKey = undefined;
    this.lastString = undefined;
  }

  private pushItem(chunk: Buffer, from: number, to: number): void {
    if (from < 0 || to <= from || this.itemTooBig) return;
    this.itemSize += to - from;
    if (this.itemSize > this.maxObjectBytes) {
      this.itemTooBig = true;
      this.itemPieces = [];
      return;
    }
    this.itemPieces.push(chunk.subarray(from, to));
  }

  private closeItem(chunk: Buffer, from: number, to: number): void {
    this.pushItem(chunk, from, to);
    this.itemOpen = false;
    if (this.itemTooBig) {
      this.ev.error(`item ${this.itemIndex} of the List is larger than ${mib(this.maxObjectBytes)}; skipped`, this.itemLine);
    } else {
      this.ev.item(this.itemPieces, this.itemSize, this.itemLine, this.docIndex, this.itemIndex, this.itemKind, this.list);
    }
    this.itemPieces = [];
    this.itemSize = 0;
    this.lastKey = undefined;
    this.lastString = undefined;
  }

  private saveTail(chunk: Buffer, docFrom: number, itemFrom: number): void {
    if (this.docCollecting && docFrom >= 0) this.pushDoc(chunk, docFrom, chunk.length);
    if (this.itemOpen && itemFrom >= 0) this.pushItem(chunk, itemFrom, chunk.length);
    if (this.reusedChunks) {
      // Pieces of earlier chunks were copied when their chunk ended: copy this chunk's, from the end.
      const own = (pieces: Buffer[]): void => {
        for (let k = pieces.length - 1; k >= 0 && pieces[k]!.buffer === chunk.buffer; k--) pieces[k] = Buffer.from(pieces[k]!);
      };
      own(this.docPieces);
      own(this.itemPieces);
    }
  }
}

// Top-level keys as Go's json.MarshalIndent writes them (`"key": value`).
const KIND_KEY = Buffer.from('"kind": "');
const STATUS_KEY = Buffer.from('"status": {');
const METADATA_KEY = Buffer.from('"metadata": {');
const MANAGED_FIELDS_KEY = Buffer.from('"managedFields": [');
const LABELS_KEY = Buffer.from('"labels": {');
const DATA_KEY = Buffer.from('"data": {');
const STRING_DATA_KEY = Buffer.from('"stringData": {');

/**
 * Pod-spec and container fields no analysis reads (scheduling, probes, resources, ports, commands), cut out of
 * the built-in workload kinds before parsing: a quarter of a kubectl-printed Pod once `status` is gone (T2:
 * 7.0 → 5.3 KB parsed per Pod). Only these kinds of the core, apps, batch and extensions groups (a custom
 * resource's template path, or a `--pod-templates` entry, may pass through keys of any name), only blocks
 * (`"key": {` or `"key": [` ending the line), never under `metadata`.
 */
const UNREAD_BLOCK_KEYS: readonly Buffer[] = [
  'affinity', 'args', 'command', 'dnsConfig', 'hostAliases', 'lifecycle', 'livenessProbe', 'nodeSelector', 'ports',
  'readinessGates', 'readinessProbe', 'resizePolicy', 'resources', 'securityContext', 'startupProbe', 'tolerations',
  'topologySpreadConstraints',
  // Inside volumes and env: a downwardAPI volume or projection is kept only as present (its items are never read),
  // ConfigMap volumes and projections are dropped when the spec is pruned (a ConfigMap holds no token), and env
  // values from fields, resources or ConfigMaps are dropped (only secretKeyRef can carry a token). The injected
  // kube-api-access volume's ConfigMap and downwardAPI projections are ~20 % of a kubectl-printed Pod once the
  // rest is cut.
  'configMap', 'downwardAPI', 'fieldRef', 'resourceFieldRef', 'configMapKeyRef',
].map((k) => Buffer.from(`"${k}": `));
const UNREAD_BY_FIRST_CHAR = new Map<number, Buffer[]>();
for (const k of UNREAD_BLOCK_KEYS) {
  const list = UNREAD_BY_FIRST_CHAR.get(k[1]!) ?? [];
  list.push(k);
  UNREAD_BY_FIRST_CHAR.set(k[1]!, list);
}
const BUILTIN_WORKLOAD_KINDS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']);
const API_VERSION_KEY = Buffer.from('"apiVersion": "');
const BUILTIN_WORKLOAD_VERSION = /^(v1|(apps|batch|extensions)\/[a-z0-9]+)$/;

/** Whether the apiVersion string starting at `start` is `v1` or a version of apps, batch or extensions. */
function isBuiltinWorkloadGroup(chunk: Buffer, start: number): boolean {
  const q = chunk.indexOf(QUOTE, start);
  return q > 0 && q - start <= 32 && BUILTIN_WORKLOAD_VERSION.test(chunk.toString('latin1', start, q));
}

/** For a line starting at `s` with `"<unread key>": {` or `[` and nothing after it: the index after the bracket; else -1. */
function unreadBlockAt(chunk: Buffer, s: number): number {
  const candidates = UNREAD_BY_FIRST_CHAR.get(chunk[s + 1]!);
  if (candidates === undefined) return -1;
  for (const key of candidates) {
    if (!startsWith(chunk, s, key)) continue;
    const b = s + key.length;
    const c = chunk[b];
    return (c === LBRACE || c === LBRACKET) && chunk[b + 1] === NEWLINE ? b + 1 : -1;
  }
  return -1;
}

function startsWith(chunk: Buffer, at: number, key: Buffer): boolean {
  if (at + key.length > chunk.length) return false;
  for (let i = 0; i < key.length; i++) if (chunk[at + i] !== key[i]) return false;
  return true;
}

function readKindValue(chunk: Buffer, start: number): string | undefined {
  const q = chunk.indexOf(QUOTE, start);
  if (q < 0 || q - start > 256) return undefined;
  const s = chunk.toString('latin1', start, q);
  return /^[A-Za-z0-9]+$/.test(s) ? s : undefined;
}

export function countNewlinesIn(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let i = buf.indexOf(NEWLINE, from);
  while (i >= 0 && i < to) {
    n++;
    i = buf.indexOf(NEWLINE, i + 1);
  }
  return n;
}

function trimEnd(chunk: Buffer, from: number, to: number): number {
  let e = to;
  while (e > from) {
    const c = chunk[e - 1];
    if (c === SPACE || c === NEWLINE || c === CR || c === TAB) e--;
    else break;
  }
  return e;
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
}

export function mib(n: number): string {
  return `${Math.round(n / (1024 * 1024))} MiB`;
}
