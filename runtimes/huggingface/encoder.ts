/**
 * Encoder tasks (embeddings, sequence classification) over a batch of texts: the texts are
 * padded together and run as one forward pass, so texts from several requests can share it.
 */
import type { PreTrainedModel, Tensor as HfTensor } from '@huggingface/transformers';
import type { Pooling } from './hf-options.js';
import type { BatchTokenizer } from './token-batch.js';

export interface EncodedBatch {
  /** The model's main output: last_hidden_state [B,S,H] or logits [B,C]. */
  output: HfTensor;
  /** input_ids [B,S], padding included. */
  ids: BigInt64Array;
  /** attention_mask [B,S] as 0/1 per token. */
  mask: BigInt64Array;
  seqLen: number;
  tokenCounts: number[];
}

export async function encode(
  tokenizer: BatchTokenizer,
  model: PreTrainedModel,
  texts: string[],
  outputName: string,
): Promise<EncodedBatch> {
  const { input_ids, attention_mask, mask, seqLen, tokenCounts } = tokenizer.batch(texts);
  // token_type_ids, when the graph takes them, are zeros: transformers.js adds them.
  const outputs = (await model({ input_ids, attention_mask })) as Record<string, HfTensor>;
  const output = outputs[outputName];
  if (!output) throw new Error(`the model returned no '${outputName}' output (it returned ${Object.keys(outputs).join(', ')})`);
  // fp16 exports answer float16, which arrives as 16-bit patterns; pooling and softmax read float32.
  const floats = output.type === 'float16' ? output.to('float32') : output;
  return { output: floats, ids: input_ids.data as BigInt64Array, mask, seqLen, tokenCounts };
}

/** Mean (over real tokens) or first-token pooling of last_hidden_state, optionally L2-normalised. */
export function pool(batch: EncodedBatch, pooling: Pooling, normalize: boolean, out: Float32Array): void {
  const [rows, seqLen, dim] = batch.output.dims as [number, number, number];
  const hidden = batch.output.data as Float32Array;
  for (let r = 0; r < rows; r++) {
    const v = out.subarray(r * dim, (r + 1) * dim);
    if (pooling === 'cls') {
      v.set(hidden.subarray(r * seqLen * dim, r * seqLen * dim + dim));
    } else {
      let count = 0;
      for (let t = 0; t < seqLen; t++) {
        if (batch.mask[r * seqLen + t] === 0n) continue;
        count++;
        const base = (r * seqLen + t) * dim;
        for (let d = 0; d < dim; d++) v[d]! += hidden[base + d]!;
      }
      for (let d = 0; d < dim; d++) v[d]! /= Math.max(count, 1);
    }
    if (normalize) {
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += v[d]! * v[d]!;
      // As torch.nn.functional.normalize: divide by max(norm, eps).
      norm = Math.max(Math.sqrt(norm), 1e-12);
      for (let d = 0; d < dim; d++) v[d]! /= norm;
    }
  }
}

export interface Classified {
  labels: BigInt64Array;
  scores: Float32Array;
  probabilities: Float32Array;
  logits: Float32Array;
}

/** Softmax per row and its argmax (the first, on ties, as torch.argmax). */
export function classify(logitsTensor: HfTensor, out: Classified): void {
  const [rows, classes] = logitsTensor.dims as [number, number];
  const logits = logitsTensor.data as Float32Array;
  out.logits.set(logits.subarray(0, rows * classes));
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) if (row[c]! > max) [max, arg] = [row[c]!, c];
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(row[c]! - max);
    for (let c = 0; c < classes; c++) out.probabilities[r * classes + c] = Math.exp(row[c]! - max) / sum;
    out.labels[r] = BigInt(arg);
    out.scores[r] = out.probabilities[r * classes + arg]!;
  }
}
