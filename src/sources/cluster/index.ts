// STUB (contract; the live-cluster source replaces the body).
import type { InventorySink } from '../../inventory/sink.ts';
import type { CoverageGap } from '../../inventory/types.ts';
import type { CliIO } from '../../cli/io.ts';

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  /** undefined = all namespaces. */
  namespace?: string;
  selector?: string;
  quiet?: boolean;
}

export interface ClusterReadResult {
  serverVersion: string;
  context: string;
  gaps: CoverageGap[];
}

/** Lists the cluster read-only and pushes every object into the sink. Never reads Secret values. */
export async function readCluster(opts: ClusterOptions, sink: InventorySink, io: CliIO): Promise<ClusterReadResult> {
  void opts; void sink; void io;
  throw new Error('live cluster scan not implemented yet');
}
