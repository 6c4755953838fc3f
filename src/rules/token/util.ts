// Small helpers shared by the token rules.
import type { FindingResource, WorkloadReport } from '../../analysis/types.ts';
import type { SourceLocation } from '../../inventory/types.ts';

export const resourceOf = (r: WorkloadReport): FindingResource => ({ kind: r.kind, namespace: r.namespace, name: r.name });

export const nameOf = (r: { kind: string; namespace?: string; name: string }): string => `${r.kind} ${r.namespace ? r.namespace + '/' : ''}${r.name}`;

export const at = (l: SourceLocation | undefined): string => (l && l.line > 0 ? `${l.file}:${l.line}` : l ? l.file : 'unknown location');
