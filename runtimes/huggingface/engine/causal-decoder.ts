/**
 * Decoder-only models (GPT-2 and the like, exported with past_key_values.* inputs, an
 * attention_mask covering past and new tokens, and position_ids). One batch holds every running
 * sequence; a step runs them all at once.
 *
 * Where the session returns each present.* output's new column (step-session.ts), the running
 * batch's K/V lives in a buffer with room to grow: each row's tokens from column 0, free columns
 * after them, and a step writes its new column into each row in place. Otherwise a step's whole
 * present.* outputs are the next step's past, left-padded, or for a GroupQueryAttention graph
 * (whose rows' tokens must lead, step-session.ts) right-padded.
 */
import * as ort from 'onnxruntime-node';
import type { Decoder } from './decoder.js';
import {
  type KvArray,
  type KvBatch,
  type KvLayout,
  concatColumns,
  emptyKv,
  gatherRows,
  kvFeeds,
  kvFromOutputs,
  type RowSource,
  rowSpans,
} from './kv-batch.js';
import { KvSlots } from './kv-slots.js';
import { logitsAt } from './logits.js';
import type { Sequence } from './sequence.js';
import { NEW_COLUMN_INDEX, newColumnOutput, type PastTokens } from './step-session.js';

const toPresent = (name: string) => name.replace('past_key_values', 'present');

/**
 * The inputs the engine feeds, as transformers.js feeds them: optimum's merged decoders take
 * `use_cache_branch` (whether a past is given), newer exports `num_logits_to_keep` (the engine
 * needs the last position's logits only).
 */
export const CAUSAL_INPUTS = ['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch', 'num_logits_to_keep'];

/** num_logits_to_keep: the last `n` positions' logits, or every position's for 0. */
const keepLogits = (n: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(n)), []);
const LAST_LOGITS_ONLY = keepLogits(1);
const EVERY_POSITION = keepLogits(0);

/** How the engine feeds a decoder graph. */
export interface CausalFeeding {
  /** The first token's position: 1 for the Gemma 3 family, as transformers.js feeds them, else 0. */
  firstPosition: number;
  pastTokens: PastTokens;
}

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, BigInt)), dims);
}

export class CausalDecoder implements Decoder {
  readonly prefixCaching = true;
  readonly resumable = true;
  readonly everyPositionLogits: boolean;
  private rows: Sequence[] = [];
  /** The running batch's K/V when steps write their new columns in place (see the module comment). */
  private readonly slots?: KvSlots;
  /** Otherwise: left-padded, with each row's real tokens its last `lengths[row]` columns. */
  private kv: KvBatch;
  private lengths: number[] = [];
  private readonly positions: boolean;
  private readonly cacheBranch: boolean;
  private readonly logitsToKeep: boolean;
  /** Rows' tokens lead their past and prompts are padded on the right (GroupQueryAttention). */
  private readonly leading: boolean;
  /** Whether the graph takes NEW_COLUMN_INDEX (a GroupQueryAttention graph with new-column outputs). */
  private readonly indexInput: boolean;
  private readonly firstPosition: number;
  private readonly presentFetches: string[];
  private readonly stepFetches: string[];
  /** In place: each past input's name, and the output holding its new column. */
  private readonly columnOutputs: [string, string][];

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly layout: KvLayout,
    feeding: CausalFeeding = { firstPosition: 0, pastTokens: 'masked' },
  ) {
    this.firstPosition = feeding.firstPosition;
    this.leading = feeding.pastTokens === 'leading';
    this.kv = emptyKv(layout, 0);
    this.positions = session.inputNames.includes('position_ids');
    this.cacheBranch = session.inputNames.includes('use_cache_branch');
    this.logitsToKeep = session.inputNames.includes('num_logits_to_keep');
    this.everyPositionLogits = !this.logitsToKeep;
    this.indexInput = session.inputNames.includes(NEW_COLUMN_INDEX);
    const presents = layout.names.map(toPresent);
    const columns = presents.map(newColumnOutput);
    const inPlace = (this.positions || this.leading) && columns.every((c) => session.outputNames.includes(c));
    if (inPlace) this.slots = new KvSlots(layout);
    this.presentFetches = ['logits', ...presents];
    this.stepFetches = inPlace ? ['logits', ...columns] : this.presentFetches;
    this.columnOutputs = layout.names.map((name, i) => [name, columns[i]!]);
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
    const ids = seq.prefillIds.slice(from, from + budget);
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [1, n]),
      attention_mask: int64(new Array(from + n).fill(1), [1, from + n]),
    };
    if (this.positions)
      feeds['position_ids'] = int64(
        ids.map((_, i) => this.firstPosition + from + i),
        [1, n],
      );
    this.optionalFeeds(feeds, 1, from, seq.scoresPrompt);
    kvFeeds(past, this.layout.type, feeds);
    const out = await this.session.run(feeds, this.presentFetches);
    if (seq.scoresPrompt) scorePrompt(seq, out['logits']!, from);
    seq.kv = kvFromOutputs(this.layout, out, toPresent);
    seq.prefilled = from + n;
    if (!seq.promptDone) return undefined;
    return lastLogits(out['logits']!, 0);
  }

  /**
   * The optional inputs of a run of `rows` over a past of `pastLength` columns; `everyPosition`
   * when a prompt is scored. `columnAt`: where a step writes each row's new column; a run that
   * fetches none feeds column 0.
   */
  private optionalFeeds(
    feeds: Record<string, ort.Tensor>,
    rows: number,
    pastLength: number,
    everyPosition = false,
    columnAt: readonly number[] = new Array<number>(rows).fill(0),
  ): void {
    if (this.cacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', [pastLength > 0], [1]);
    if (this.logitsToKeep) feeds['num_logits_to_keep'] = everyPosition ? EVERY_POSITION : LAST_LOGITS_ONLY;
    if (this.indexInput) feeds[NEW_COLUMN_INDEX] = this.newColumnIndex(columnAt);
  }

  /**
   * Fresh prompts of a graph whose rows' tokens must lead: each row is [its tokens, padding].
   * GroupQueryAttention refuses a batch whose rows hold a past and add several tokens each, so
   * rows that hold K/V already (cached blocks, earlier chunks) go one at a time.
   */
  private async prefillLeading(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    if (seqs.some((s) => s.kv)) return this.prefillEach(seqs);
    const rows = seqs.length;
    const lengths = seqs.map((s) => s.prefillIds.length);
    const width = Math.max(...lengths);
    const ids = new BigInt64Array(rows * width);
    const positions = new BigInt64Array(rows * width);
    const mask = new BigInt64Array(rows * width);
    seqs.forEach((seq, r) => {
      mask.fill(1n, r * width, r * width + lengths[r]!);
      for (let i = 0; i < width; i++) {
        ids[r * width + i] = BigInt(seq.prefillIds[i] ?? 0);
        positions[r * width + i] = BigInt(this.firstPosition + i);
      }
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [rows, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows, width]),
    };
    if (this.positions) feeds['position_ids'] = new ort.Tensor('int64', positions, [rows, width]);
    this.optionalFeeds(feeds, rows, 0);
    // Every row's last token: the shortest row's is furthest from the end.
    if (this.logitsToKeep) feeds['num_logits_to_keep'] = keepLogits(width - Math.min(...lengths) + 1);
    kvFeeds(emptyKv(this.layout, rows), this.layout.type, feeds);
    const out = await this.session.run(feeds, this.presentFetches);
    const present = kvFromOutputs(this.layout, out, toPresent);
    return seqs.map((seq, r) => {
      seq.kv = rowSpans(this.layout, present, r, [[0, lengths[r]!]]);
      seq.prefilled = lengths[r]!;
      return lastLogits(out['logits']!, r, width - lengths[r]!);
    });
  }

  /**
   * Every row is [padding, its past, padding, its new tokens]: pasts right-aligned to the widest
   * past, new tokens right-aligned to the widest remainder. The attention mask hides both
   * paddings and position_ids give each new token its true position, so each row computes what
   * it would alone. Without a position_ids input the graph would count the padding as
   * positions, so rows that hold K/V already are then prefilled one at a time.
   */
  async prefillBatch(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    if (this.leading) return this.prefillLeading(seqs);
    if (!this.positions && seqs.some((s) => s.kv)) return this.prefillEach(seqs);
    const rows = seqs.length;
    const pasts = seqs.map((s) => s.kv?.length ?? 0);
    const fresh = seqs.map((s, r) => s.prefillIds.length - pasts[r]!);
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
        ids[(r + 1) * width - n + i] = BigInt(seq.prefillIds[p + i]!);
        positions[(r + 1) * width - n + i] = BigInt(this.firstPosition + p + i);
      }
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [rows, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows, total]),
    };
    if (this.positions) feeds['position_ids'] = new ort.Tensor('int64', positions, [rows, width]);
    this.optionalFeeds(feeds, rows, past);
    const empty = emptyKv(this.layout, 1);
    const sources = seqs.map((s, r) => ({ kv: s.kv ?? empty, row: 0, from: 0, length: pasts[r]! }));
    kvFeeds(past ? gatherRows(this.layout, sources, past, 'right') : emptyKv(this.layout, rows), this.layout.type, feeds);
    const out = await this.session.run(feeds, this.presentFetches);
    const present = kvFromOutputs(this.layout, out, toPresent);
    return seqs.map((seq, r) => {
      const [p, n] = [pasts[r]!, fresh[r]!];
      seq.kv = rowSpans(this.layout, present, r, [
        [past - p, p],
        [total - n, n],
      ]);
      seq.prefilled = p + n;
      return lastLogits(out['logits']!, r);
    });
  }

  private async prefillEach(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    const logits: Float32Array[] = [];
    for (const seq of seqs) logits.push((await this.prefill(seq, seq.prefillIds.length))!);
    return logits;
  }

  promptKv(seq: Sequence, from: number, to: number): KvBatch {
    return gatherRows(this.layout, [{ kv: seq.kv!, row: 0, from, length: to - from }], to - from, 'left');
  }

  update(leaving: ReadonlySet<Sequence>, joining: readonly Sequence[]): void {
    if (!leaving.size && !joining.length) return;
    if (this.slots) this.updateSlots(this.slots, leaving, joining);
    else this.updatePadded(leaving, joining);
    for (const seq of joining) seq.kv = undefined;
  }

  trim(): void {
    this.slots?.trim();
  }

  private updateSlots(slots: KvSlots, leaving: ReadonlySet<Sequence>, joining: readonly Sequence[]): void {
    const gone = new Set<number>();
    this.rows.forEach((seq, row) => leaving.has(seq) && gone.add(row));
    if (gone.size) this.rows = slots.remove(gone).map((row) => this.rows[row]!);
    slots.append(joining.map((seq) => seq.kv!));
    this.rows.push(...joining);
  }

  private updatePadded(leaving: ReadonlySet<Sequence>, joining: readonly Sequence[]): void {
    const sources: RowSource[] = [];
    const rows: Sequence[] = [];
    const lengths: number[] = [];
    this.rows.forEach((seq, row) => {
      if (leaving.has(seq)) return;
      const length = this.lengths[row]!;
      sources.push({ kv: this.kv, row, from: this.leading ? 0 : this.kv.length - length, length });
      rows.push(seq);
      lengths.push(length);
    });
    for (const seq of joining) {
      sources.push({ kv: seq.kv!, row: 0, from: 0, length: seq.kv!.length });
      rows.push(seq);
      lengths.push(seq.kv!.length);
    }
    this.rows = rows;
    this.lengths = lengths;
    this.kv = gatherRows(this.layout, sources, Math.max(0, ...lengths), this.leading ? 'left' : 'right');
  }

  async step(): Promise<Map<Sequence, Float32Array>> {
    const out = this.slots ? await this.stepInPlace(this.slots) : await this.stepPresent();
    return new Map(this.rows.map((seq, r) => [seq, lastLogits(out['logits']!, r)]));
  }

  /**
   * The past is every row's whole room; the mask covers each row's tokens and the new one, which
   * the graph appends after the last column and position_ids place right after the row's own.
   * (GroupQueryAttention writes it right after the row's tokens instead, and counts its
   * position from them: the mask's sum.)
   */
  private async stepInPlace(slots: KvSlots): Promise<ort.InferenceSession.OnnxValueMapType> {
    const kv = slots.view();
    const feeds = this.stepFeeds(kv, this.tokensThenNew(slots.lengths, kv.length), slots.lengths);
    const out = await this.session.run(feeds, this.stepFetches);
    slots.appendColumns(new Map(this.columnOutputs.map(([name, output]) => [name, out[output]!.data as KvArray])));
    return out;
  }

  /** A step's mask over `past` columns and the new one: each row's tokens from column 0, then the new token last. */
  private tokensThenNew(lengths: readonly number[], past: number): BigInt64Array {
    const width = past + 1;
    const mask = new BigInt64Array(lengths.length * width);
    lengths.forEach((length, r) => {
      mask.fill(1n, r * width, r * width + length);
      mask[r * width + past] = 1n;
    });
    return mask;
  }

  /** A step's mask over the left-padded past and the new column: each row's tokens and the new one, last. */
  private paddingThenTokens(): BigInt64Array {
    const width = this.kv.length + 1;
    const mask = new BigInt64Array(this.lengths.length * width);
    this.lengths.forEach((length, r) => mask.fill(1n, (r + 1) * width - length - 1, (r + 1) * width));
    return mask;
  }

  /** Where GroupQueryAttention writes each row's new column: right after its tokens. */
  private newColumnIndex(lengths: readonly number[]): ort.Tensor {
    const { heads, headSize } = this.layout;
    const perRow = heads * headSize;
    const index = new BigInt64Array(lengths.length * perRow);
    lengths.forEach((length, r) => index.fill(BigInt(length), r * perRow, (r + 1) * perRow));
    return new ort.Tensor('int64', index, [lengths.length, heads, 1, headSize]);
  }

  /**
   * The past is left-padded, each row's tokens its last columns, and the new column is the
   * present's last; for a graph whose rows' tokens lead, they stay leading, the new column
   * written after each row's tokens.
   */
  private async stepPresent(): Promise<ort.InferenceSession.OnnxValueMapType> {
    const mask = this.leading ? this.tokensThenNew(this.lengths, this.kv.length) : this.paddingThenTokens();
    const out = await this.session.run(this.stepFeeds(this.kv, mask, this.lengths), this.stepFetches);
    this.kv = kvFromOutputs(this.layout, out, toPresent);
    this.lengths = this.lengths.map((n) => n + 1);
    return out;
  }

  private stepFeeds(kv: KvBatch, mask: BigInt64Array, lengths: readonly number[]): Record<string, ort.Tensor> {
    const rows = this.rows.length;
    const width = mask.length / rows;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(
        this.rows.map((s) => s.last),
        [rows, 1],
      ),
      attention_mask: new ort.Tensor('int64', mask, [rows, width]),
    };
    if (this.positions)
      feeds['position_ids'] = int64(
        lengths.map((n) => this.firstPosition + n),
        [rows, 1],
      );
    // GroupQueryAttention writes each row's new column right after its tokens.
    this.optionalFeeds(feeds, rows, kv.length, false, lengths);
    kvFeeds(kv, this.layout.type, feeds);
    return feeds;
  }
}

/**
 * Row `row`'s logits at its last token, `padding` positions before the row's end, whether the
 * graph returned every position or the last few (num_logits_to_keep).
 */
function lastLogits(logits: ort.Tensor, row: number, padding = 0): Float32Array {
  const [, positions, vocab] = logits.dims as [number, number, number];
  const end = ((row + 1) * positions - padding) * vocab;
  return logitsAt(logits, end - vocab, vocab);
}

/** Hands a sequence the logits of a one-row prefill run, whose first position is prompt position `from`. */
function scorePrompt(seq: Sequence, logits: ort.Tensor, from: number): void {
  const [, positions, vocab] = logits.dims as [number, number, number];
  for (let i = 0; i < positions; i++) seq.promptLogits(from + i, logitsAt(logits, i * vocab, vocab));
}
