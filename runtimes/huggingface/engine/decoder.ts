/** What the engine needs of a model's decoder, whatever its architecture. */
import type { KvBatch } from './kv-batch.js';
import type { Sequence } from './sequence.js';

export interface Decoder {
  /** Whether leading prompt blocks' K/V can be reused (decoder-only: causal attention). */
  readonly prefixCaching: boolean;
  /**
   * Whether a prefill run answers logits for every prompt position it feeds (a graph without
   * num_logits_to_keep), a vocabulary's worth of floats each, rather than the last position's.
   */
  readonly everyPositionLogits: boolean;
  /**
   * Whether a sequence's K/V can be given up mid-generation and computed again by a prefill of
   * its prompt and generated tokens (Sequence.prefillIds), so the engine can reserve K/V as
   * sequences grow and preempt when it runs out; otherwise it reserves each sequence's whole
   * max_tokens at admission.
   */
  readonly resumable: boolean;
  /**
   * Feeds up to `budget` more prompt tokens of `seq` (after its cached prefix in `seq.kv`);
   * returns the logits of the last prompt token once the whole prompt is in. A sequence that
   * scores its prompt gets every position's logits (Sequence.promptLogits); prefillBatch never
   * takes one.
   */
  prefill(seq: Sequence, budget: number): Promise<Float32Array | undefined>;
  /**
   * The rest of several sequences' prompts in one padded run, each after whatever K/V it already
   * holds in `seq.kv` (a cached prefix, earlier chunks; none for a fresh prompt); returns each
   * one's last-token logits. A run over B short prompts costs about what one does.
   */
  prefillBatch(seqs: readonly Sequence[]): Promise<Float32Array[]>;
  /** Columns [from, to) of a prefilled prompt's K/V, for the prefix cache. */
  promptKv(seq: Sequence, from: number, to: number): KvBatch;
  /** Starts a prefilled sequence from one cached prefix (prefix caching). */
  startFrom(seq: Sequence, blocks: readonly KvBatch[]): void;
  /** Sequences leave the running batch and prefilled ones join it, in one rebuild. */
  update(leaving: ReadonlySet<Sequence>, joining: readonly Sequence[]): void;
  /** Gives back memory the running batch kept while empty; the engine calls it once idle. */
  trim?(): void;
  /** One step for every running sequence: feeds its newest token, returns its next logits. */
  step(): Promise<Map<Sequence, Float32Array>>;
  /** Sequences in the running batch. */
  readonly running: number;
}
