// Audit-log source: service-account requests from kube-apiserver audit logs (see read.ts).
export { readAuditLogs, expandAuditLogPaths, toServiceAccountCall, parseServiceAccountUsername, canonicalMicroTime, emptyAuditLogStats, SERVICE_ACCOUNT_PREFIX } from './read.ts';
export type { ReadAuditLogOptions } from './read.ts';
export type { AuditLogStats, ServiceAccountCall, ServiceAccountRef, CallObjectRef, ImpersonationTarget } from './types.ts';
