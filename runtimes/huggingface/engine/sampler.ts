/**
 * Picks each sequence's next token from its row of logits. Every request owns its sampler and
 * its random stream, so a seeded request draws the same tokens whatever else shares its steps
 * (transformers.js samples from one global generator, which batching would interleave).
 */

/** Mulberry32: small, fast, and good enough to draw tokens; seeded per request. */
export function mulberry32(seed: number): () => number {
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
   * draw from what is left. The candidates of top_k and top_p are found without sorting the
   * whole vocabulary (likeliest()): at 150k tokens a full sort took ~80 ms a row, every step.
   */
  private draw(logits: Float32Array, u: number): number {
    const { topP, topK = 0 } = this.params;
    const max = logits[argmax(logits)]!;
    if (topK > 0 && topK < logits.length) return this.nucleus(this.candidates(logits, max, topK), u);
    if (topP < 1) return this.nucleus(this.candidates(logits, max), u);
    const weights = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += weights[i] = this.weight(logits[i]!, max);
    let target = u * total;
    let last = 0;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] === 0) continue;
      last = i;
      target -= weights[i]!;
      if (target < 0) return i;
    }
    return last; // rounding left a sliver: the least likely kept token
  }

  /** A token's weight at the temperature, the most likely one's being 1; 0 under min_p. */
  private weight(logit: number, max: number): number {
    const w = Math.exp((logit - max) / this.params.temperature);
    return w < (this.params.minP ?? 0) ? 0 : w;
  }

  /**
   * The k likeliest tokens with their weights, their sum the base of top_p (top_k renormalises
   * first, as in vLLM); or, with no k, enough of the likeliest for top_p, with the whole
   * distribution's weight as the base.
   */
  private candidates(logits: Float32Array, max: number, topK?: number): Candidates {
    const { temperature: t, topP } = this.params;
    if (topK) {
      const ids = likeliest(logits, max, t, { count: topK });
      ids.length = Math.min(ids.length, topK);
      const weights = Float64Array.from(ids, (i) => this.weight(logits[i]!, max));
      return { ids, weights, base: weights.reduce((s, w) => s + w, 0) };
    }
    const all = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += all[i] = this.weight(logits[i]!, max);
    const ids = likeliest(logits, max, t, { share: topP * total, weights: all });
    return { ids, weights: Float64Array.from(ids, (i) => all[i]!), base: total };
  }

  /** top_p over the candidates, most likely first, then one draw from those kept. */
  private nucleus({ ids, weights, base }: Candidates, u: number): number {
    const { topP } = this.params;
    let kept = 0;
    let k = 0;
    while (k < ids.length && kept < topP * base) kept += weights[k++]!;
    k = Math.max(k, 1);
    kept = 0;
    for (let j = 0; j < k; j++) kept += weights[j]!;
    let target = u * kept;
    let last = ids[0]!;
    for (let j = 0; j < k; j++) {
      if (weights[j] === 0) continue;
      last = ids[j]!;
      target -= weights[j]!;
      if (target < 0) return ids[j]!;
    }
    return last; // rounding left a sliver: the least likely kept token
  }
}

/** Tokens the sampler may draw from, most likely first, with their weights. */
interface Candidates {
  ids: number[];
  weights: Float64Array;
  /** The weight top_p takes its share of. */
  base: number;
}

/** Buckets of tokens by their power of two below the likeliest one's weight; the last holds the rest. */
const BUCKETS = 64;

/**
 * Token ids by logit, most likely first (ties by id): at least the `count` likeliest, or the
 * likeliest whose weights reach `share`. Their weights fall in buckets by their power of two
 * below 1 ((max - logit) / (t ln 2), so a likelier token is never in a later bucket), and only
 * the fewest leading buckets that hold them are sorted: usually a few dozen tokens of a
 * vocabulary of 150k. For a share, one bucket more, so that summing in another order cannot
 * fall short of it.
 */
function likeliest(
  logits: Float32Array,
  max: number,
  temperature: number,
  want: { count: number } | { share: number; weights: Float64Array },
): number[] {
  const perBucket = 1 / (temperature * Math.LN2);
  const buckets = new Uint8Array(logits.length);
  const counts = new Float64Array(BUCKETS);
  const sums = new Float64Array(BUCKETS);
  for (let i = 0; i < logits.length; i++) {
    const b = Math.min(BUCKETS - 1, Math.floor((max - logits[i]!) * perBucket));
    buckets[i] = b;
    counts[b]!++;
    if ('share' in want) sums[b]! += want.weights[i]!;
  }
  let last = BUCKETS - 1;
  for (let b = 0, n = 0, s = 0; b < BUCKETS; b++) {
    n += counts[b]!;
    s += sums[b]!;
    if ('count' in want ? n >= want.count : s >= want.share) {
      last = 'count' in want ? b : Math.min(b + 1, BUCKETS - 1);
      break;
    }
  }
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (buckets[i]! <= last) ids.push(i);
  return ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
}
