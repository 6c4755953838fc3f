// The contract between sources and the inventory: a source pushes what it reads into a sink.
// Push (not async iteration) keeps the per-object cost low for 150,000-pod dumps.
import type { InventoryPart } from './part.ts';
import type { PodTemplatePath } from './pod-templates.ts';
import type { InputProblem, Inventory, SourcedObject } from './types.ts';

export interface InventorySink {
  /** A Kubernetes object (has apiVersion and kind). Items of a List arrive one by one. */
  object(o: SourcedObject): void;
  /** A problem with one input; the other inputs go on. */
  problem(p: InputProblem): void;
  /** A document that is not a Kubernetes object (no apiVersion/kind), counted by reason. */
  skipped(reason: string): void;
  /** One more document read (for the input statistics). */
  document(): void;
  /**
   * Optional fast path for streaming readers: whether objects of this kind are used at all.
   * A reader may skip materialising an unwanted item entirely (it still calls `skipped`).
   */
  wantsKind?(kind: string): boolean;
}

/** What a reader thread needs to build parts the way the main sink would (plain data: it crosses threads). */
export interface PartBuilderOptions {
  origin: Inventory['origin'];
  podTemplates: PodTemplatePath[];
  keepPodRecords: boolean;
}

/**
 * A sink that also takes parts read by other threads (sources/manifests/parallel.ts). Parts come in input
 * order; the result is the same as if their objects had been pushed one by one.
 */
export interface PartSink extends InventorySink {
  partBuilderOptions(): PartBuilderOptions;
  addPart(part: InventoryPart): void;
}

export const isPartSink = (s: InventorySink): s is PartSink =>
  typeof (s as Partial<PartSink>).addPart === 'function' && typeof (s as Partial<PartSink>).partBuilderOptions === 'function';
