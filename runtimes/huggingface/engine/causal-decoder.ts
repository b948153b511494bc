/**
 * Decoder-only models (GPT-2 and the like, exported with past_key_values.* inputs, an
 * attention_mask covering past and new tokens, and position_ids). One left-padded batch holds
 * every running sequence; a step runs them all at once.
 */
import * as ort from 'onnxruntime-node';
import type { Decoder } from './decoder.js';
import { type KvBatch, type KvLayout, concatColumns, emptyKv, gatherRows, kvFeeds, kvFromOutputs, rowSpans } from './kv-batch.js';
import type { Sequence } from './sequence.js';

const toPresent = (name: string) => name.replace('past_key_values', 'present');

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, BigInt)), dims);
}

export class CausalDecoder implements Decoder {
  readonly prefixCaching = true;
  private rows: Sequence[] = [];
  /** Real tokens per row; the rest of the batch's columns on the left are padding. */
  private lengths: number[] = [];
  private kv: KvBatch;
  private readonly positions: boolean;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly layout: KvLayout,
  ) {
    this.kv = emptyKv(layout, 0);
    this.positions = session.inputNames.includes('position_ids');
  }

  get running(): number {
    return this.rows.length;
  }

  startFrom(seq: Sequence, blocks: readonly KvBatch[]): void {
    seq.kv = concatColumns(this.layout, blocks);
    seq.prefilled = seq.kv.length;
  }

  async prefill(seq: Sequence, budget: number): Promise<Float32Array | undefined> {
    const past = seq.kv ?? emptyKv(this.layout, 1);
    const from = past.length;
    const ids = seq.promptIds.slice(from, from + budget);
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [1, n]),
      attention_mask: int64(new Array(from + n).fill(1), [1, from + n]),
    };
    if (this.positions)
      feeds['position_ids'] = int64(
        ids.map((_, i) => from + i),
        [1, n],
      );
    kvFeeds(past, this.layout.type, feeds);
    const out = await this.session.run(feeds);
    seq.kv = kvFromOutputs(this.layout, out, toPresent);
    seq.prefilled = from + n;
    if (!seq.promptDone) return undefined;
    const logits = out['logits']!;
    const vocab = logits.dims.at(-1)!;
    return (logits.data as Float32Array).slice((n - 1) * vocab, n * vocab);
  }

  /**
   * Every row is [padding, its past, padding, its new tokens]: pasts right-aligned to the widest
   * past, new tokens right-aligned to the widest remainder. The attention mask hides both
   * paddings and position_ids give each new token its true position, so each row computes what
   * it would alone. Without a position_ids input the graph would count the padding as
   * positions, so rows that hold K/V already are then prefilled one at a time.
   */
  async prefillBatch(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    if (!this.positions && seqs.some((s) => s.kv)) return this.prefillEach(seqs);
    const rows = seqs.length;
    const pasts = seqs.map((s) => s.kv?.length ?? 0);
    const fresh = seqs.map((s, r) => s.promptIds.length - pasts[r]!);
    const past = Math.max(...pasts);
    const width = Math.max(...fresh);
    const total = past + width;
    const ids = new BigInt64Array(rows * width);
    const positions = new BigInt64Array(rows * width);
    const mask = new BigInt64Array(rows * total);
    seqs.forEach((seq, r) => {
      const [p, n] = [pasts[r]!, fresh[r]!];
      mask.fill(1n, r * total + past - p, r * total + past);
      mask.fill(1n, (r + 1) * total - n, (r + 1) * total);
      for (let i = 0; i < n; i++) {
        ids[(r + 1) * width - n + i] = BigInt(seq.promptIds[p + i]!);
        positions[(r + 1) * width - n + i] = BigInt(p + i);
      }
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [rows, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows, total]),
    };
    if (this.positions) feeds['position_ids'] = new ort.Tensor('int64', positions, [rows, width]);
    const empty = emptyKv(this.layout, 1);
    const sources = seqs.map((s, r) => ({ kv: s.kv ?? empty, row: 0, from: 0, length: pasts[r]! }));
    kvFeeds(past ? gatherRows(this.layout, sources, past, 'right') : emptyKv(this.layout, rows), this.layout.type, feeds);
    const out = await this.session.run(feeds);
    const present = kvFromOutputs(this.layout, out, toPresent);
    const logits = out['logits']!.data as Float32Array;
    const vocab = logits.length / (rows * width);
    return seqs.map((seq, r) => {
      const [p, n] = [pasts[r]!, fresh[r]!];
      seq.kv = rowSpans(this.layout, present, r, [
        [past - p, p],
        [total - n, n],
      ]);
      seq.prefilled = p + n;
      return logits.slice(((r + 1) * width - 1) * vocab, (r + 1) * width * vocab);
    });
  }

  private async prefillEach(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    const logits: Float32Array[] = [];
    for (const seq of seqs) logits.push((await this.prefill(seq, seq.promptIds.length))!);
    return logits;
  }

  promptKv(seq: Sequence, from: number, to: number): KvBatch {
    return gatherRows(this.layout, [{ kv: seq.kv!, row: 0, from, length: to - from }], to - from, 'left');
  }

  update(leaving: ReadonlySet<Sequence>, joining: readonly Sequence[]): void {
    if (!leaving.size && !joining.length) return;
    const sources = [];
    const rows: Sequence[] = [];
    const lengths: number[] = [];
    this.rows.forEach((seq, row) => {
      if (leaving.has(seq)) return;
      const length = this.lengths[row]!;
      sources.push({ kv: this.kv, row, from: this.kv.length - length, length });
      rows.push(seq);
      lengths.push(length);
    });
    for (const seq of joining) {
      sources.push({ kv: seq.kv!, row: 0, from: 0, length: seq.kv!.length });
      rows.push(seq);
      lengths.push(seq.kv!.length);
      seq.kv = undefined;
    }
    this.kv = gatherRows(this.layout, sources, Math.max(0, ...lengths), 'right');
    this.rows = rows;
    this.lengths = lengths;
  }

  async step(): Promise<Map<Sequence, Float32Array>> {
    const rows = this.rows.length;
    const width = this.kv.length + 1;
    const mask = new BigInt64Array(rows * width);
    this.lengths.forEach((length, r) => mask.fill(1n, (r + 1) * width - length - 1, (r + 1) * width));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(
        this.rows.map((s) => s.last),
        [rows, 1],
      ),
      attention_mask: new ort.Tensor('int64', mask, [rows, width]),
    };
    if (this.positions) feeds['position_ids'] = int64(this.lengths, [rows, 1]);
    kvFeeds(this.kv, this.layout.type, feeds);
    const out = await this.session.run(feeds);
    this.kv = kvFromOutputs(this.layout, out, toPresent);
    this.lengths = this.lengths.map((n) => n + 1);
    const logits = out['logits']!.data as Float32Array;
    const vocab = logits.length / rows;
    return new Map(this.rows.map((seq, r) => [seq, logits.subarray(r * vocab, (r + 1) * vocab)]));
  }
}
