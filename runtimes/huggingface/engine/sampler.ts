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
}

export class Sampler {
  private readonly random?: () => number;

  constructor(private readonly params: SamplingParams) {
    if (params.temperature > 0) {
      this.random = mulberry32(params.seed ?? Math.floor(Math.random() * 2 ** 32));
    }
  }

  next(logits: Float32Array): number {
    if (!this.random) return argmax(logits);
    return this.draw(logits, this.random());
  }

  /** Softmax at the temperature, then nucleus (top_p) filtering, then one draw. */
  private draw(logits: Float32Array, u: number): number {
    const t = this.params.temperature;
    const max = logits[argmax(logits)]!;
    const weights = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += weights[i] = Math.exp((logits[i]! - max) / t);
    let order: number[] | undefined;
    let kept = total;
    if (this.params.topP < 1) {
      order = Array.from(weights.keys()).sort((a, b) => weights[b]! - weights[a]!);
      kept = 0;
      let k = 0;
      while (k < order.length && kept < this.params.topP * total) kept += weights[order[k++]!]!;
      order.length = Math.max(k, 1);
      kept = order.reduce((s, i) => s + weights[i]!, 0);
    }
    let target = u * kept;
    const candidates = order ?? weights.keys();
    let last = 0;
    for (const i of candidates) {
      last = i;
      target -= weights[i]!;
      if (target < 0) return i;
    }
    return last; // rounding left a sliver: the least likely kept token
  }
}
