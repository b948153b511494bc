/**
 * Encoder-decoder models (T5, BART: encoder_model.onnx and decoder_model_merged.onnx). The
 * encoder runs once per request, with the first decoder step, as its prefill. The merged
 * decoder takes no decoder attention mask, so sequences whose decoders are at different
 * lengths cannot share a padded batch exactly: sequences that start together form a cohort
 * (same length, for good), and a step runs each cohort as one batch. The prompts' cross-attention
 * K/V differ in length; they are right-padded and hidden by encoder_attention_mask.
 */
import * as ort from 'onnxruntime-node';
import type { Decoder } from './decoder.js';
import { type KvBatch, type KvLayout, emptyKv, gatherRows, kvFeeds, kvFromOutputs } from './kv-batch.js';
import { logitsAt } from './logits.js';
import type { Sequence } from './sequence.js';

const toPresent = (name: string) => name.replace('past_key_values', 'present');

interface Cohort {
  rows: Sequence[];
  self: KvBatch;
  cross: KvBatch;
  /** encoder_attention_mask, [rows, cross.length]. */
  mask: BigInt64Array;
}

export interface Seq2SeqLayouts {
  self: KvLayout;
  cross: KvLayout;
  hiddenSize: number;
  decoderStart: number;
}

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, BigInt)), dims);
}

export class Seq2SeqDecoder implements Decoder {
  readonly prefixCaching = false;
  /** Its prefill encodes the prompt and starts the decoder afresh: generated tokens cannot be fed again. */
  readonly resumable = false;
  /** The decoder's first run feeds one token, the decoder start. */
  readonly everyPositionLogits = false;
  private cohorts: Cohort[] = [];

  constructor(
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly layouts: Seq2SeqLayouts,
  ) {}

  get running(): number {
    return this.cohorts.reduce((n, c) => n + c.rows.length, 0);
  }

  startFrom(): void {
    throw new Error('encoder-decoder prompts are not prefix-cached');
  }

  promptKv(): KvBatch {
    throw new Error('encoder-decoder prompts are not prefix-cached');
  }

  /** The whole prompt at once: the encoder sees it whole. */
  async prefill(seq: Sequence): Promise<Float32Array> {
    const n = seq.promptIds.length;
    const mask = int64(new Array(n).fill(1), [1, n]);
    const encoded = await this.encoder.run({ input_ids: int64(seq.promptIds, [1, n]), attention_mask: mask });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64([this.layouts.decoderStart], [1, 1]),
      encoder_attention_mask: mask,
      encoder_hidden_states: encoded['last_hidden_state']!,
      use_cache_branch: new ort.Tensor('bool', [false], [1]),
    };
    kvFeeds(emptyKv(this.layouts.self, 1), this.layouts.self.type, feeds);
    kvFeeds(emptyKv(this.layouts.cross, 1), this.layouts.cross.type, feeds);
    const out = await this.decoder.run(feeds);
    seq.kv = kvFromOutputs(this.layouts.self, out, toPresent);
    seq.cross = kvFromOutputs(this.layouts.cross, out, toPresent);
    seq.prefilled = n;
    const logits = out['logits']!;
    return logitsAt(logits, 0, logits.size);
  }

  /** Encoder and first decoder step of several prompts at once, right-padded under the encoder mask. */
  async prefillBatch(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    const width = Math.max(...seqs.map((s) => s.promptIds.length));
    const rows = seqs.length;
    const ids = new BigInt64Array(rows * width);
    const mask = new BigInt64Array(rows * width);
    seqs.forEach((seq, r) => seq.promptIds.forEach((id, i) => ((ids[r * width + i] = BigInt(id)), (mask[r * width + i] = 1n))));
    const maskTensor = new ort.Tensor('int64', mask, [rows, width]);
    const encoded = await this.encoder.run({ input_ids: new ort.Tensor('int64', ids, [rows, width]), attention_mask: maskTensor });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(
        seqs.map(() => this.layouts.decoderStart),
        [rows, 1],
      ),
      encoder_attention_mask: maskTensor,
      encoder_hidden_states: encoded['last_hidden_state']!,
      use_cache_branch: new ort.Tensor('bool', [false], [1]),
    };
    kvFeeds(emptyKv(this.layouts.self, rows), this.layouts.self.type, feeds);
    kvFeeds(emptyKv(this.layouts.cross, rows), this.layouts.cross.type, feeds);
    const out = await this.decoder.run(feeds);
    const self = kvFromOutputs(this.layouts.self, out, toPresent);
    const cross = kvFromOutputs(this.layouts.cross, out, toPresent);
    const logits = out['logits']!;
    const vocab = logits.size / rows;
    return seqs.map((seq, r) => {
      const n = seq.promptIds.length;
      seq.kv = gatherRows(this.layouts.self, [{ kv: self, row: r, from: 0, length: 1 }], 1, 'right');
      seq.cross = gatherRows(this.layouts.cross, [{ kv: cross, row: r, from: 0, length: n }], n, 'left');
      seq.prefilled = n;
      return logitsAt(logits, r * vocab, vocab).slice();
    });
  }

  update(leaving: ReadonlySet<Sequence>, joining: readonly Sequence[]): void {
    if (leaving.size) {
      this.cohorts = this.cohorts
        .map((c) =>
          c.rows.some((s) => leaving.has(s))
            ? this.rebuild(
                c.rows.filter((s) => !leaving.has(s)),
                c,
              )
            : c,
        )
        .filter((c) => c.rows.length > 0);
    }
    if (joining.length) {
      this.cohorts.push(this.rebuild([...joining]));
      for (const seq of joining) seq.kv = seq.cross = undefined;
    }
  }

  /** A cohort of `rows`, taking each row's K/V from `from` (a cohort) or from the sequence. */
  private rebuild(rows: Sequence[], from?: Cohort): Cohort {
    const index = (seq: Sequence) => from!.rows.indexOf(seq);
    const crossLength = (seq: Sequence) =>
      from
        ? from.mask.subarray(index(seq) * from.cross.length, (index(seq) + 1) * from.cross.length).reduce((a, b) => a + Number(b), 0)
        : seq.cross!.length;
    const lengths = rows.map(crossLength);
    const width = Math.max(0, ...lengths);
    const selfLength = from ? from.self.length : 1;
    const self = gatherRows(
      this.layouts.self,
      rows.map((s) => ({ kv: from ? from.self : s.kv!, row: from ? index(s) : 0, from: 0, length: selfLength })),
      selfLength,
      'right',
    );
    const cross = gatherRows(
      this.layouts.cross,
      rows.map((s, r) => ({ kv: from ? from.cross : s.cross!, row: from ? index(s) : 0, from: 0, length: lengths[r]! })),
      width,
      'left',
    );
    const mask = new BigInt64Array(rows.length * width);
    lengths.forEach((n, r) => mask.fill(1n, r * width, r * width + n));
    return { rows, self, cross, mask };
  }

  async step(): Promise<Map<Sequence, Float32Array>> {
    const logits = new Map<Sequence, Float32Array>();
    for (const cohort of this.cohorts) {
      const rows = cohort.rows.length;
      const width = cohort.cross.length;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64(
          cohort.rows.map((s) => s.last),
          [rows, 1],
        ),
        encoder_attention_mask: new ort.Tensor('int64', cohort.mask, [rows, width]),
        // The cache branch reads the encoder's K/V from the past inputs, not the hidden states.
        encoder_hidden_states: new ort.Tensor('float32', new Float32Array(rows * width * this.layouts.hiddenSize), [
          rows,
          width,
          this.layouts.hiddenSize,
        ]),
        use_cache_branch: new ort.Tensor('bool', [true], [1]),
      };
      kvFeeds(cohort.self, this.layouts.self.type, feeds);
      kvFeeds(cohort.cross, this.layouts.cross.type, feeds);
      const out = await this.decoder.run(feeds);
      cohort.self = kvFromOutputs(this.layouts.self, out, toPresent);
      const data = out['logits']!;
      const vocab = data.size / rows;
      cohort.rows.forEach((seq, r) => logits.set(seq, logitsAt(data, r * vocab, vocab)));
    }
    return logits;
  }
}
