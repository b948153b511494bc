/**
 * Picks each sequence's next token from its row of logits. Every request owns its sampler and
 * its random stream, so a seeded request draws the same tokens whatever else shares its steps
 * (transformers.js samples from one global generator, which batching would interleave).
 */

/** Mulberry32: small, fast, and good enough to draw tokens; seeded per request. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first index of the largest value, as torch.argmax and transformers.js pick it. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface SamplingParams {
  /** 0 is greedy. */
  temperature: number;
  topP: number;
  seed?: number;
  /** The k most likely tokens only; 0 keeps all. */
  topK?: number;
  /** Tokens at least this share of the most likely one's probability; 0 keeps all. */
  minP?: number;
  /** OpenAI's: subtracted once from the logit of every token generated so far. */
  presencePenalty?: number;
  /** OpenAI's: subtracted from a token's logit per time it was generated. */
  frequencyPenalty?: number;
  /** vLLM's and Hugging Face's, over prompt and generated tokens: positive logits divided by it, negative ones multiplied. */
  repetitionPenalty?: number;
  /** [token id, bias] pairs added to the logits first (OpenAI's logit_bias). */
  logitBias?: readonly (readonly [number, number])[];
}

/** What the sequence holds so far, for the penalties, and the tokens it may not take now. */
export interface SamplingContext {
  promptIds: readonly number[];
  generated: readonly number[];
  banned: readonly number[];
}

export class Sampler {
  private readonly random?: () => number;

  constructor(private readonly params: SamplingParams) {
    if (params.temperature > 0) {
      this.random = mulberry32(params.seed ?? Math.floor(Math.random() * 2 ** 32));
    }
  }

  next(logits: Float32Array, context?: SamplingContext): number {
    const row = context ? this.adjusted(logits, context) : logits;
    if (!this.random) return argmax(row);
    return this.draw(row, this.random());
  }

  /**
   * The row after the logit bias, the penalties and the bans, as vLLM applies them before
   * temperature; the row itself when none applies.
   */
  private adjusted(logits: Float32Array, { promptIds, generated, banned }: SamplingContext): Float32Array {
    const { presencePenalty = 0, frequencyPenalty = 0, repetitionPenalty = 1, logitBias = [] } = this.params;
    const penalised = generated.length > 0 && (presencePenalty !== 0 || frequencyPenalty !== 0);
    const repeated = repetitionPenalty !== 1;
    if (!penalised && !repeated && !banned.length && !logitBias.length) return logits;
    const row = Float32Array.from(logits);
    for (const [id, bias] of logitBias) if (id < row.length) row[id] = row[id]! + bias;
    if (repeated) {
      for (const id of new Set([...promptIds, ...generated]))
        row[id] = row[id]! > 0 ? row[id]! / repetitionPenalty : row[id]! * repetitionPenalty;
    }
    if (penalised) {
      const counts = new Map<number, number>();
      for (const id of generated) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const [id, n] of counts) row[id] = row[id]! - frequencyPenalty * n - presencePenalty;
    }
    for (const id of banned) row[id] = Number.NEGATIVE_INFINITY;
    return row;
  }

  /**
   * Softmax at the temperature; then min_p, top_k and top_p filtering, in vLLM's order; then one
   * draw from what is left.
   */
  private draw(logits: Float32Array, u: number): number {
    const { temperature: t, topP, topK = 0, minP = 0 } = this.params;
    const max = logits[argmax(logits)]!;
    const weights = new Float64Array(logits.length);
    let total = 0;
    // The most likely token weighs 1, so min_p is a floor on the weights themselves.
    for (let i = 0; i < logits.length; i++) {
      const w = Math.exp((logits[i]! - max) / t);
      total += weights[i] = w < minP ? 0 : w;
    }
    let order: number[] | undefined;
    let kept = total;
    if (topP < 1 || (topK > 0 && topK < logits.length)) {
      order = Array.from(weights.keys()).sort((a, b) => weights[b]! - weights[a]!);
      if (topK > 0) order.length = Math.min(order.length, topK);
      const candidates = order.reduce((s, i) => s + weights[i]!, 0);
      kept = 0;
      let k = 0;
      while (k < order.length && kept < topP * candidates) kept += weights[order[k++]!]!;
      order.length = Math.max(k, 1);
      kept = order.reduce((s, i) => s + weights[i]!, 0);
    }
    let target = u * kept;
    const candidates = order ?? weights.keys();
    let last = 0;
    for (const i of candidates) {
      if (weights[i] === 0) continue;
      last = i;
      target -= weights[i]!;
      if (target < 0) return i;
    }
    return last; // rounding left a sliver: the least likely kept token
  }
}
