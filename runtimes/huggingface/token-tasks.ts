/**
 * The per-token tasks, from logits [B,S,C] of one padded batch: token_classification (a label
 * for every token) and fill_mask (the best vocabulary entry at every mask token).
 * Ragged rows become rectangular tensors: missing positions hold -1 (ids), '' (names) or 0 (scores).
 */
import type { Tensor as HfTensor } from '@huggingface/transformers';
import { InvalidInputError } from '../../src/core/errors.js';
import { type Tensor, allocate, bytesFromStrings } from '../../src/core/tensor.js';
import type { EncodedBatch } from './encoder.js';
import type { HfOptions } from './hf-options.js';
import { KSERVE_OUTPUT } from './hf-tasks.js';
import { formatFixed } from '../../src/core/fixed-decimal.js';

/** Softmax of `row` into `probs`; returns the argmax (the first on ties, as torch.argmax). */
function softmaxArgmax(row: Float32Array, probs: Float32Array): number {
  let max = -Infinity;
  let arg = 0;
  for (let c = 0; c < row.length; c++) if (row[c]! > max) [max, arg] = [row[c]!, c];
  let sum = 0;
  for (let c = 0; c < row.length; c++) sum += probs[c] = Math.exp(row[c]! - max);
  for (let c = 0; c < row.length; c++) probs[c]! /= sum;
  return arg;
}

/** Picks positions of a batch and scores them: ids, best class, its probability, all scores. */
class PositionScores {
  readonly ids: BigInt64Array;
  readonly best: BigInt64Array;
  readonly score: Float32Array;
  readonly scores: Float32Array;

  constructor(
    private readonly rows: number,
    private readonly width: number,
    private readonly classes: number,
    private readonly raw: boolean,
  ) {
    this.ids = (allocate('INT64', rows * width) as BigInt64Array).fill(-1n);
    this.best = (allocate('INT64', rows * width) as BigInt64Array).fill(-1n);
    this.score = allocate('FP32', rows * width) as Float32Array;
    this.scores = allocate('FP32', rows * width * classes) as Float32Array;
  }

  /** Slot `slot` of row `r` takes token `t` of the batch. */
  take(batch: EncodedBatch, r: number, t: number, slot: number): number {
    const at = r * this.width + slot;
    const logits = batch.output.data as Float32Array;
    const row = logits.subarray((r * batch.seqLen + t) * this.classes, (r * batch.seqLen + t + 1) * this.classes);
    const probs = this.scores.subarray(at * this.classes, (at + 1) * this.classes);
    const arg = softmaxArgmax(row, probs);
    this.score[at] = probs[arg]!;
    if (this.raw) probs.set(row);
    this.ids[at] = batch.ids[r * batch.seqLen + t]!;
    this.best[at] = BigInt(arg);
    return arg;
  }

  /** The optional probabilities or logits output, as the flags ask. */
  extra(options: HfOptions): Record<string, Tensor> {
    const shape = [this.rows, this.width, this.classes];
    if (options.returnProbabilities) return { probabilities: { name: 'probabilities', datatype: 'FP32', shape, data: this.scores } };
    if (options.returnRawLogits) return { logits: { name: 'logits', datatype: 'FP32', shape, data: this.scores } };
    return {};
  }
}

function classesOf(output: HfTensor, expected: number | undefined, what: string): number {
  const classes = output.dims[2];
  if (output.dims.length !== 3 || classes === undefined)
    throw new Error(`the model returned logits of shape [${output.dims.join(',')}]; per-token tasks need [batch, tokens, ${what}]`);
  if (expected !== undefined && classes !== expected)
    throw new Error(`the model returned ${classes} logits per token, but config.json's id2label names ${expected} labels`);
  return classes;
}

/**
 * KServe's token_classification answer, at every position of the padded batch as its torch code
 * gives it: the argmax per token [N, 1, S], or every label's probability (4 decimals) / logit
 * per token [N, S, C].
 */
function kserveTokens(batch: EncodedBatch, rows: number, width: number, classes: number, options: HfOptions): Tensor {
  const logits = (batch.output.data as Float32Array).subarray(0, rows * width * classes);
  if (options.returnRawLogits) return { name: KSERVE_OUTPUT, datatype: 'FP32', shape: [rows, width, classes], data: logits.slice() };
  const probs = new Float32Array(classes);
  if (options.returnProbabilities) {
    const out = allocate('FP64', rows * width * classes) as Float64Array;
    for (let at = 0; at < rows * width; at++) {
      softmaxArgmax(logits.subarray(at * classes, (at + 1) * classes), probs);
      for (let c = 0; c < classes; c++) out[at * classes + c] = Number(formatFixed(probs[c]!, 4));
    }
    return { name: KSERVE_OUTPUT, datatype: 'FP64', shape: [rows, width, classes], data: out };
  }
  const best = allocate('INT64', rows * width) as BigInt64Array;
  for (let at = 0; at < rows * width; at++) best[at] = BigInt(softmaxArgmax(logits.subarray(at * classes, (at + 1) * classes), probs));
  return { name: KSERVE_OUTPUT, datatype: 'INT64', shape: [rows, 1, width], data: best };
}

/** token_classification: every token of every text (special tokens included, as KServe). */
export function tokenClassification(batch: EncodedBatch, labels: string[], options: HfOptions): Record<string, Tensor> {
  const rows = batch.tokenCounts.length;
  const classes = classesOf(batch.output, labels.length, 'labels');
  const width = rows ? batch.seqLen : 0;
  const picked = new PositionScores(rows, width, classes, options.returnRawLogits);
  const names: string[] = new Array<string>(rows * width).fill('');
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < batch.tokenCounts[r]!; t++) names[r * width + t] = labels[picked.take(batch, r, t, t)]!;
  }
  const shape = [rows, width];
  return {
    [KSERVE_OUTPUT]: kserveTokens(batch, rows, width, classes, options),
    label: { name: 'label', datatype: 'INT64', shape, data: picked.best },
    label_name: { name: 'label_name', datatype: 'BYTES', shape, data: bytesFromStrings(names) },
    score: { name: 'score', datatype: 'FP32', shape, data: picked.score },
    token_id: { name: 'token_id', datatype: 'INT64', shape, data: picked.ids },
    ...picked.extra(options),
  };
}

/** Texts without the mask token are refused before the model runs (KServe would answer ''). */
export function requireMask(texts: string[], maskToken: string | undefined): string {
  if (!maskToken) throw new InvalidInputError("fill_mask needs a mask token, and this model's tokenizer has none");
  texts.forEach((text, i) => {
    if (!text.includes(maskToken)) throw new InvalidInputError(`input 'text': element ${i} has no mask token '${maskToken}'`);
  });
  return maskToken;
}

/**
 * KServe's fill_mask answer: the decoded best tokens per text, or per mask every vocabulary
 * entry's probability as a "0.1234" string (huggingfaceserver formats them so) / logit. Texts
 * with fewer masks than the most in the run are padded ("0.0000" / 0).
 */
function kserveMask(predicted: string[], picked: PositionScores, shape: number[], options: HfOptions): Tensor {
  if (options.returnRawLogits) return { name: KSERVE_OUTPUT, datatype: 'FP32', shape, data: picked.scores.slice() };
  if (options.returnProbabilities) {
    return { name: KSERVE_OUTPUT, datatype: 'BYTES', shape, data: bytesFromStrings(Array.from(picked.scores, (p) => formatFixed(p, 4))) };
  }
  return { name: KSERVE_OUTPUT, datatype: 'BYTES', shape: [predicted.length], data: bytesFromStrings(predicted) };
}

/**
 * fill_mask: at every mask token, the most likely vocabulary entry; `predicted` is KServe's
 * answer, the tokenizer's decoding of those ids (one string per text).
 */
export function fillMask(
  batch: EncodedBatch,
  maskId: number,
  decode: (ids: number[]) => string,
  options: HfOptions,
): Record<string, Tensor> {
  const rows = batch.tokenCounts.length;
  const positions = Array.from({ length: rows }, (_, r) => {
    const at: number[] = [];
    for (let t = 0; t < batch.tokenCounts[r]!; t++) if (batch.ids[r * batch.seqLen + t] === BigInt(maskId)) at.push(t);
    if (!at.length) throw new InvalidInputError(`input 'text': element ${r} lost its mask token to truncation at max_model_len`);
    return at;
  });
  const width = Math.max(0, ...positions.map((p) => p.length));
  const vocab = classesOf(batch.output, undefined, 'vocabulary');
  const picked = new PositionScores(rows, width, vocab, options.returnRawLogits);
  const predicted = positions.map((at, r) => decode(at.map((t, slot) => picked.take(batch, r, t, slot))));
  const shape = [rows, width];
  return {
    [KSERVE_OUTPUT]: kserveMask(predicted, picked, [rows, width, vocab], options),
    predicted: { name: 'predicted', datatype: 'BYTES', shape: [rows], data: bytesFromStrings(predicted) },
    token_id: { name: 'token_id', datatype: 'INT64', shape, data: picked.best },
    score: { name: 'score', datatype: 'FP32', shape, data: picked.score },
    ...picked.extra(options),
  };
}
