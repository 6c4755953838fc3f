// Builders for audit.k8s.io/v1 Event lines in the log backend's exact field order (not a test file).
export interface EventSpec {
  auditID?: string;
  stage?: 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';
  verb?: string;
  username?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  impersonatedUser?: { username: string; groups?: string[]; extra?: Record<string, string[]>; uid?: string };
  objectRef?: { resource: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  requestURI?: string;
  code?: number;
  decision?: 'allow' | 'forbid';
  annotations?: Record<string, string>;
  ts: string;
  userAgent?: string;
}

let counter = 0;

export function sa(ns: string, name: string): string {
  return `system:serviceaccount:${ns}:${name}`;
}

export function podExtra(pod: string, uid: string, node = 'node-1'): Record<string, string[]> {
  return {
    'authentication.kubernetes.io/credential-id': [`JTI=${uid}-jti`],
    'authentication.kubernetes.io/node-name': [node],
    'authentication.kubernetes.io/pod-name': [pod],
    'authentication.kubernetes.io/pod-uid': [uid],
  };
}

/** One event as a JSON line (no newline). */
export function eventLine(e: EventSpec): string {
  const auditID = e.auditID ?? `00000000-0000-4000-a000-${String(++counter).padStart(12, '0')}`;
  const stage = e.stage ?? 'ResponseComplete';
  const ref = e.objectRef;
  const uri = e.requestURI ?? (ref ? `/api/v1/${ref.namespace ? `namespaces/${ref.namespace}/` : ''}${ref.resource}${ref.name ? '/' + ref.name : ''}` : '/version');
  const username = e.username ?? 'kubernetes-admin';
  const user: Record<string, unknown> = { username, groups: e.groups ?? (username.startsWith('system:serviceaccount:') ? ['system:serviceaccounts', 'system:authenticated'] : ['system:authenticated']) };
  if (e.extra) user.extra = e.extra;
  const ev: Record<string, unknown> = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID, stage, requestURI: uri, verb: e.verb ?? 'get', user };
  if (e.impersonatedUser) ev.impersonatedUser = e.impersonatedUser;
  ev.sourceIPs = ['127.0.0.1'];
  ev.userAgent = e.userAgent ?? 'test/v0';
  if (ref) ev.objectRef = { ...ref, apiVersion: 'v1' };
  if (stage !== 'RequestReceived') ev.responseStatus = { metadata: {}, code: e.code ?? (e.decision === 'forbid' ? 403 : 200) };
  ev.requestReceivedTimestamp = e.ts;
  ev.stageTimestamp = e.ts;
  if (stage !== 'RequestReceived') {
    const annotations: Record<string, string> = { ...(e.annotations ?? {}) };
    if (e.decision !== undefined || !e.annotations) annotations['authorization.k8s.io/decision'] = e.decision ?? 'allow';
    annotations['authorization.k8s.io/reason'] = '';
    ev.annotations = annotations;
  }
  return JSON.stringify(ev);
}

/** A request as the log backend writes it with a Metadata policy: RequestReceived then ResponseComplete. */
export function requestLines(e: EventSpec): string[] {
  const auditID = e.auditID ?? `00000000-0000-4000-b000-${String(++counter).padStart(12, '0')}`;
  return [eventLine({ ...e, auditID, stage: 'RequestReceived' }), eventLine({ ...e, auditID, stage: 'ResponseComplete' })];
}

/** `2026-11-20T10:00:00.000000Z` + offset minutes, canonical MicroTime. */
export function at(minutes: number, base = Date.UTC(2026, 10, 20, 10, 0, 0)): string {
  return new Date(base + minutes * 60_000).toISOString().slice(0, 23) + '000Z';
}
