// Streaming reader for kube-apiserver audit logs (`--audit-log-path`, format json: one `audit.k8s.io/v1` Event
// per line). Logs run to GBs a day, so the reader never holds more than one chunk and one partial line:
// every line is first tested with native byte searches (Buffer#indexOf), and only lines that mention a
// service-account username are decoded and JSON-parsed. The time window is still taken over every line,
// by slicing requestReceivedTimestamp out of the bytes.
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { InputProblem } from '../../inventory/types.ts';
import type { AuditLogStats, CallObjectRef, ImpersonationTarget, ServiceAccountCall } from './types.ts';

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

const NEEDLE = Buffer.from('"' + SERVICE_ACCOUNT_PREFIX);
const TS_KEY = Buffer.from('"requestReceivedTimestamp":"');
const STAGE_RECEIVED = Buffer.from('"stage":"RequestReceived"');
const APISERVER_USER = Buffer.from('"username":"system:apiserver"');
const ISSUED_CREDENTIAL = Buffer.from('"authentication.kubernetes.io/issued-credential-id":"');
const MAX_ISSUED_CREDENTIALS = 100_000;
const NL = 0x0a;
const QUOTE = 0x22;
const CANONICAL_TS_LENGTH = 27; // metav1.MicroTime: 2006-01-02T15:04:05.000000Z, always UTC
const MAX_LINE_BYTES = 64 * 1024 * 1024; // --audit-log-truncate-max-event-size defaults to 100 KiB
const CHUNK_BYTES = 1024 * 1024;

export const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
export const POD_UID_KEY = 'authentication.kubernetes.io/pod-uid';
export const NODE_NAME_KEY = 'authentication.kubernetes.io/node-name';
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';
export const DECISION_ANNOTATION = 'authorization.k8s.io/decision';
export const LEGACY_TOKEN_ANNOTATION = 'authentication.k8s.io/legacy-token';
export const ISSUED_CREDENTIAL_ANNOTATION = 'authentication.kubernetes.io/issued-credential-id';

export interface ReadAuditLogOptions {
  /** Files, directories (every non-hidden regular file below, sorted), gzip detected by magic bytes, `-` = stdin. */
  paths: string[];
  stdin?: Readable;
  /** Called once per counted service-account request. */
  onCall(call: ServiceAccountCall): void;
  /**
   * Optional cheap filter on `namespace:name` read from the bytes: events of other service accounts are not
   * parsed at all (the scan passes the service accounts its workloads use).
   */
  wantServiceAccount?(namespaceColonName: string): boolean;
  /** How many malformed lines are kept with file:line (all are counted). Default 20. */
  maxProblems?: number;
  /** Longest line kept in memory (default 64 MiB); longer lines are counted as malformed and skipped. */
  maxLineBytes?: number;
}

/** A timestamp range kept as bytes, compared natively (canonical MicroTime strings sort as times). */
class TimeRange {
  private min = Buffer.alloc(40);
  private max = Buffer.alloc(40);
  private minLen = 0;
  private maxLen = 0;

  add(buf: Buffer, s: number, e: number): void {
    if (this.minLen === 0) {
      buf.copy(this.min, 0, s, e); this.minLen = e - s;
      buf.copy(this.max, 0, s, e); this.maxLen = e - s;
      return;
    }
    if (buf.compare(this.min, 0, this.minLen, s, e) < 0) { buf.copy(this.min, 0, s, e); this.minLen = e - s; }
    if (buf.compare(this.max, 0, this.maxLen, s, e) > 0) { buf.copy(this.max, 0, s, e); this.maxLen = e - s; }
  }

  get from(): string | undefined { return this.minLen ? this.min.toString('latin1', 0, this.minLen) : undefined; }
  get to(): string | undefined { return this.maxLen ? this.max.toString('latin1', 0, this.maxLen) : undefined; }
}

/** Any RFC 3339 time as the canonical 27-character UTC MicroTime, so that byte order is time order. */
export function canonicalMicroTime(value: string): string | undefined {
  if (value.length === CANONICAL_TS_LENGTH && value.endsWith('Z')) return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = /\.(\d+)/.exec(value)?.[1] ?? '';
  return iso.slice(0, 19) + '.' + (frac + '000000').slice(0, 6) + 'Z';
}

/** Per-input reading state: line numbers, the partial last line, the file's own window. */
class LineScanner {
  private carry: Buffer | undefined;
  private lineNo = 0;
  private readonly range = new TimeRange();
  private events = 0;
  private lastHour = Buffer.alloc(13);
  private lastHourSet = false;
  private tooLong = false;
  private readonly maxLine: number;
  private readonly file: string;
  private readonly stats: AuditLogStats;
  private readonly opts: ReadAuditLogOptions;
  private readonly pending: Map<string, ServiceAccountCall>;

  constructor(file: string, stats: AuditLogStats, opts: ReadAuditLogOptions, pending: Map<string, ServiceAccountCall>) {
    this.file = file;
    this.stats = stats;
    this.opts = opts;
    this.pending = pending;
    this.maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        if (this.tooLong) return; // still inside a line already given up on
        if (this.carry.length + chunk.length > this.maxLine) {
          // Keep counting lines, drop the bytes: one malformed line instead of unbounded memory.
          this.carry = Buffer.alloc(0);
          this.tooLong = true;
        } else {
          this.carry = Buffer.concat([this.carry, chunk]);
        }
        return;
      }
      const line = this.tooLong ? Buffer.alloc(0) : Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = undefined;
      if (this.tooLong) { this.tooLong = false; this.lineNo++; this.stats.lines++; this.malformed(`line longer than ${this.maxLine} bytes`); }
      else this.lines(line, 0, line.length, true);
      start = nl + 1;
    }
    const tail = this.lines(chunk, start, chunk.length, false);
    if (tail < chunk.length) this.carry = Buffer.from(chunk.subarray(tail));
  }

  end(): void {
    if (this.carry && this.carry.length > 0) this.lines(this.carry, 0, this.carry.length, true);
    else if (this.tooLong) { this.lineNo++; this.stats.lines++; this.malformed(`line longer than ${this.maxLine} bytes`); }
    this.carry = undefined;
    this.stats.perFile.push({ file: this.file, from: this.range.from, to: this.range.to, events: this.events });
  }

  /**
   * Processes the complete lines of buf[start, end). When `final`, buf[start, end) is one line without its
   * newline. Returns where the incomplete tail begins.
   */
  private lines(buf: Buffer, start: number, end: number, final: boolean): number {
    let s = start;
    let nextSa = -2;
    let nextApi = -2;
    let nextIssued = -2;
    while (s < end) {
      let e: number;
      if (final) e = end;
      else {
        e = buf.indexOf(NL, s);
        if (e < 0 || e >= end) return s;
      }
      this.lineNo++;
      this.stats.lines++;
      let le = e;
      if (le > s && buf[le - 1] === 0x0d) le--;
      if (le > s) {
        // requestReceivedTimestamp sits near the end of the line (before stageTimestamp and annotations), so
        // searching backwards from the line's end reads the fewest bytes.
        const ts = buf.subarray(s, le).lastIndexOf(TS_KEY);
        if (ts >= 0) this.timestamp(buf, s + ts + TS_KEY.length, le);
        else if (!this.looseTimestamp(buf, s, le)) { s = e + 1; continue; }
        if (nextSa !== -1 && nextSa < s) nextSa = buf.indexOf(NEEDLE, s);
        if (nextSa >= 0 && nextSa < le) this.serviceAccountLine(buf, s, le, nextSa);
        if (nextApi !== -1 && nextApi < s) nextApi = buf.indexOf(APISERVER_USER, s);
        if (nextApi >= 0 && nextApi < le) this.apiServerLine(buf, s, le);
        if (nextIssued !== -1 && nextIssued < s) nextIssued = buf.indexOf(ISSUED_CREDENTIAL, s);
        if (nextIssued >= 0 && nextIssued < le) this.tokenRequestLine(buf, s, le);
      }
      if (final) return end;
      s = e + 1;
    }
    return s;
  }

  private timestamp(buf: Buffer, ts: number, le: number): void {
    const q = buf.indexOf(QUOTE, ts);
    if (q < 0 || q > le) return;
    this.events++;
    this.stats.events++;
    if (q - ts === CANONICAL_TS_LENGTH && buf[q - 1] === 0x5a) this.canonicalTimestamp(buf, ts, q);
    else {
      const c = canonicalMicroTime(buf.toString('latin1', ts, q));
      if (c) { const b = Buffer.from(c, 'latin1'); this.canonicalTimestamp(b, 0, b.length); }
    }
  }

  private canonicalTimestamp(buf: Buffer, s: number, e: number): void {
    this.range.add(buf, s, e);
    if (!this.lastHourSet || buf.compare(this.lastHour, 0, 13, s, s + 13) !== 0) {
      buf.copy(this.lastHour, 0, s, s + 13);
      this.lastHourSet = true;
      const ms = Date.parse(buf.toString('latin1', s, e));
      if (!Number.isNaN(ms)) this.stats.hours.add(Math.floor(ms / 3_600_000));
    }
  }

  /** Slow path for lines without the compact key: re-formatted JSON, or not an audit event at all. */
  private looseTimestamp(buf: Buffer, s: number, le: number): boolean {
    const text = buf.toString('utf8', s, le);
    let ev: unknown;
    try { ev = JSON.parse(text); } catch (err) {
      this.malformed(`not valid JSON (${shortJsonError(err)})`);
      return false;
    }
    const ts = isRecord(ev) ? ev.requestReceivedTimestamp : undefined;
    if (typeof ts !== 'string') {
      this.malformed('not an audit.k8s.io/v1 Event (no requestReceivedTimestamp)');
      return false;
    }
    const c = canonicalMicroTime(ts);
    if (!c) { this.malformed(`requestReceivedTimestamp ${JSON.stringify(ts)} is not a time`); return false; }
    this.events++;
    this.stats.events++;
    const b = Buffer.from(c, 'latin1');
    this.canonicalTimestamp(b, 0, b.length);
    return true;
  }

  private serviceAccountLine(buf: Buffer, s: number, le: number, firstNeedle: number): void {
    const want = this.opts.wantServiceAccount;
    if (want) {
      let wanted = false;
      for (let n = firstNeedle; n >= 0 && n < le; n = buf.indexOf(NEEDLE, n + 1)) {
        const from = n + NEEDLE.length;
        const q = buf.indexOf(QUOTE, from);
        if (q < 0 || q > le) break;
        if (want(buf.toString('utf8', from, q))) { wanted = true; break; }
      }
      if (!wanted) return;
    }
    // The stage comes fourth in the log backend's field order; look only at the head of the line.
    if (buf.subarray(s, Math.min(le, s + 256)).indexOf(STAGE_RECEIVED) >= 0) {
      // RequestReceived carries no decision yet; the same request is counted at ResponseComplete.
      this.stats.serviceAccountEvents++;
      return;
    }
    let ev: unknown;
    try { ev = JSON.parse(buf.toString('utf8', s, le)); } catch (err) {
      this.malformed(`not valid JSON (${shortJsonError(err)})`);
      return;
    }
    if (!isRecord(ev)) { this.malformed('not a JSON object'); return; }
    const call = toServiceAccountCall(ev, this.file, this.lineNo);
    if (!call) return;
    this.stats.serviceAccountEvents++;
    if (call.stage === 'ResponseComplete' || call.stage === 'Panic') {
      if (this.pending.size) this.pending.delete(call.auditID);
      this.stats.serviceAccountCalls++;
      this.opts.onCall(call);
    } else if (call.stage === 'ResponseStarted') {
      // Long-running requests (watch) log ResponseStarted first; counted at the end if the log stops before
      // their ResponseComplete.
      this.pending.set(call.auditID, call);
    }
  }

  private apiServerLine(buf: Buffer, s: number, le: number): void {
    let ev: unknown;
    try { ev = JSON.parse(buf.toString('utf8', s, le)); } catch { return; }
    if (!isRecord(ev) || !isRecord(ev.objectRef)) return;
    const ref = ev.objectRef;
    if (ref.resource === 'leases' && ref.namespace === 'kube-system' && typeof ref.name === 'string'
      && ref.name.startsWith('apiserver-') && (ev.verb === 'update' || ev.verb === 'patch' || ev.verb === 'create')) {
      this.stats.apiServerLeases.add(ref.name);
    }
  }

  private tokenRequestLine(buf: Buffer, s: number, le: number): void {
    if (this.stats.issuedCredentials.size >= MAX_ISSUED_CREDENTIALS) return;
    let ev: unknown;
    try { ev = JSON.parse(buf.toString('utf8', s, le)); } catch { return; }
    if (!isRecord(ev) || !isRecord(ev.objectRef) || !isRecord(ev.annotations) || !isRecord(ev.user)) return;
    const ref = ev.objectRef;
    const cred = ev.annotations[ISSUED_CREDENTIAL_ANNOTATION];
    const issuer = ev.user.username;
    if (ref.resource !== 'serviceaccounts' || ref.subresource !== 'token' || typeof ref.namespace !== 'string' || typeof ref.name !== 'string') return;
    if (typeof cred !== 'string' || typeof issuer !== 'string' || issuer.startsWith('system:node:')) return;
    if (this.opts.wantServiceAccount && !this.opts.wantServiceAccount(`${ref.namespace}:${ref.name}`)) return;
    const at = typeof ev.requestReceivedTimestamp === 'string' ? canonicalMicroTime(ev.requestReceivedTimestamp) ?? '' : '';
    this.stats.issuedCredentials.set(cred, { issuer, namespace: ref.namespace, serviceAccount: ref.name, at });
  }

  private malformed(message: string): void {
    this.stats.malformed++;
    if (this.stats.problems.length < (this.opts.maxProblems ?? 20)) {
      this.stats.problems.push({ file: this.file, line: this.lineNo, message, level: 'warning' });
    }
  }
}

function shortJsonError(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 80 ? m.slice(0, 77) + '...' : m;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function firstString(extra: unknown, key: string): string | undefined {
  if (!isRecord(extra)) return undefined;
  const v = extra[key];
  if (Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '') return v[0];
  return undefined;
}

/** `system:serviceaccount:<ns>:<name>` → {namespace, name}, exactly as serviceaccount.SplitUsername accepts it. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

function stringRecordOfArrays(v: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!isRecord(v)) return out;
  for (const [k, vals] of Object.entries(v)) if (Array.isArray(vals)) out[k] = vals.filter((x): x is string => typeof x === 'string');
  return out;
}

/** One parsed event → a service-account call, or undefined when neither user nor impersonatedUser is an SA. */
export function toServiceAccountCall(ev: Record<string, unknown>, file: string, line: number): ServiceAccountCall | undefined {
  const user = isRecord(ev.user) ? ev.user : undefined;
  const imp = isRecord(ev.impersonatedUser) ? ev.impersonatedUser : undefined;
  const username = typeof user?.username === 'string' ? user.username : '';
  const impName = typeof imp?.username === 'string' ? imp.username : '';
  let identity: ServiceAccountCall['identity'];
  let sa = parseServiceAccountUsername(username);
  if (sa) identity = 'token';
  else {
    sa = parseServiceAccountUsername(impName);
    if (!sa) return undefined;
    identity = 'impersonated';
  }
  const ts = typeof ev.requestReceivedTimestamp === 'string' ? canonicalMicroTime(ev.requestReceivedTimestamp) : undefined;
  if (!ts) return undefined;
  const annotations = isRecord(ev.annotations) ? ev.annotations : {};
  const d = annotations[DECISION_ANNOTATION];
  const call: ServiceAccountCall = {
    auditID: typeof ev.auditID === 'string' ? ev.auditID : `${file}:${line}`,
    stage: typeof ev.stage === 'string' ? ev.stage : 'ResponseComplete',
    verb: typeof ev.verb === 'string' ? ev.verb : '',
    serviceAccount: sa,
    identity,
    legacyToken: identity === 'token' && LEGACY_TOKEN_ANNOTATION in annotations,
    decision: d === 'allow' || d === 'forbid' ? d : undefined,
    requestReceivedTimestamp: ts,
    file,
    line,
  };
  if (identity === 'token') {
    const extra = user?.extra;
    const podName = firstString(extra, POD_NAME_KEY);
    const podUid = firstString(extra, POD_UID_KEY);
    if (podName) call.podName = podName;
    if (podUid) call.podUid = podUid;
    const nodeName = firstString(extra, NODE_NAME_KEY);
    if (nodeName) call.nodeName = nodeName;
    const cred = firstString(extra, CREDENTIAL_ID_KEY);
    if (cred) call.credentialId = cred;
    if (imp && impName) {
      const target: ImpersonationTarget = {
        username: impName,
        groups: Array.isArray(imp.groups) ? imp.groups.filter((g): g is string => typeof g === 'string') : [],
        extra: stringRecordOfArrays(imp.extra),
      };
      if (typeof imp.uid === 'string' && imp.uid) target.uid = imp.uid;
      call.impersonating = target;
    }
  } else {
    call.impersonatedBy = username || '(unknown)';
  }
  const ref = isRecord(ev.objectRef) ? ev.objectRef : undefined;
  if (ref && typeof ref.resource === 'string' && ref.resource) {
    const o: CallObjectRef = { apiGroup: typeof ref.apiGroup === 'string' ? ref.apiGroup : '', resource: ref.resource };
    if (typeof ref.subresource === 'string' && ref.subresource) o.subresource = ref.subresource;
    if (typeof ref.namespace === 'string' && ref.namespace) o.namespace = ref.namespace;
    if (typeof ref.name === 'string' && ref.name) o.name = ref.name;
    call.objectRef = o;
  } else if (typeof ev.requestURI === 'string') {
    const q = ev.requestURI.indexOf('?');
    call.path = q >= 0 ? ev.requestURI.slice(0, q) : ev.requestURI;
  }
  const status = isRecord(ev.responseStatus) ? ev.responseStatus : undefined;
  if (typeof status?.code === 'number') call.code = status.code;
  if (typeof ev.userAgent === 'string') call.userAgent = ev.userAgent;
  return call;
}

/** Expands directories (recursively, sorted, hidden entries skipped); `-` stays as is. */
export async function expandAuditLogPaths(paths: string[], problems: InputProblem[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue;
      const p = join(dir, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) out.push(p);
    }
  };
  for (const p of paths) {
    if (p === '-') { out.push(p); continue; }
    try {
      const st = await stat(p);
      if (st.isDirectory()) await walk(p);
      else out.push(p);
    } catch (err) {
      problems.push({ file: p, line: 0, message: `cannot read audit log: ${errorCode(err)}`, level: 'error' });
    }
  }
  return out;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return code ?? (err instanceof Error ? err.message : String(err));
}

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** stdin, gunzipped when its first bytes are the gzip magic. */
async function stdinChunks(stdin: Readable): Promise<AsyncIterable<Buffer>> {
  const it = stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await it.next();
  if (first.done) return (async function* () { /* empty */ })();
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    return Readable.from(all()).pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  }
  return all();
}

export function emptyAuditLogStats(): AuditLogStats {
  return {
    files: [], lines: 0, events: 0, serviceAccountEvents: 0, serviceAccountCalls: 0, malformed: 0, problems: [],
    window: {}, hours: new Set(), apiServerLeases: new Set(), issuedCredentials: new Map(), perFile: [],
  };
}

/**
 * Reads every input and calls `onCall` for each service-account request (once per auditID: its ResponseComplete
 * or Panic event, or its ResponseStarted event when the log ends before the request did). Unreadable inputs and
 * malformed lines become problems; they never stop the other inputs.
 */
export async function readAuditLogs(opts: ReadAuditLogOptions): Promise<AuditLogStats> {
  const stats = emptyAuditLogStats();
  const inputs = await expandAuditLogPaths(opts.paths, stats.problems);
  const pending = new Map<string, ServiceAccountCall>();
  let stdinUsed = false;
  for (const input of inputs) {
    stats.files.push(input);
    const scanner = new LineScanner(input, stats, opts, pending);
    try {
      let chunks: AsyncIterable<Buffer>;
      if (input === '-') {
        if (stdinUsed || !opts.stdin) throw Object.assign(new Error('stdin given twice or not available'), { code: 'stdin' });
        stdinUsed = true;
        chunks = await stdinChunks(opts.stdin);
      } else if (await isGzipFile(input)) {
        chunks = createReadStream(input, { highWaterMark: CHUNK_BYTES }).pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
      } else {
        chunks = createReadStream(input, { highWaterMark: CHUNK_BYTES });
      }
      for await (const chunk of chunks) scanner.push(chunk);
      scanner.end();
    } catch (err) {
      scanner.end();
      const code = (err as { code?: string }).code;
      const message = code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(String((err as Error).message))
        ? `gzip data is corrupt or truncated; lines before it were read (${(err as Error).message})`
        : code === 'stdin' ? (err as Error).message : `cannot read audit log: ${errorCode(err)}`;
      stats.problems.push({ file: input, line: 0, message, level: 'error' });
    }
  }
  for (const call of pending.values()) {
    stats.serviceAccountCalls++;
    opts.onCall(call);
  }
  let from: string | undefined;
  let to: string | undefined;
  for (const f of stats.perFile) {
    if (f.from && (!from || f.from < from)) from = f.from;
    if (f.to && (!to || f.to > to)) to = f.to;
  }
  stats.window = { from, to };
  return stats;
}
