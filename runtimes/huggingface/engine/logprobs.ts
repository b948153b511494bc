/**
 * Log-probabilities of generated tokens, for the OpenAI routes' `logprobs`. They come from the
 * model's own distribution, the softmax of the raw logits before penalties and temperature, as
 * vLLM reports them by default; the token texts are each token decoded alone.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { PromptTokenLogprob, TokenLogprob, TokenProbability } from '../../../src/core/runtime.js';

/** Each token's text decoded alone, special tokens included; remembered, as the same tokens recur. */
export class TokenTexts {
  private readonly texts = new Map<number, string>();

  constructor(private readonly tokenizer: PreTrainedTokenizer) {}

  of(id: number): string {
    let text = this.texts.get(id);
    if (text === undefined) {
      text = this.tokenizer.decode([id], { skip_special_tokens: false });
      this.texts.set(id, text);
    }
    return text;
  }
}

export class Logprobs {
  /** `top`: how many of the most likely tokens each step reports besides the chosen one. */
  constructor(
    private readonly texts: TokenTexts,
    private readonly top: number,
  ) {}

  /** A prompt's first token, which nothing predicts. */
  unpredicted(id: number): PromptTokenLogprob {
    return { token: this.texts.of(id), logprob: null, top: null };
  }

  of(logits: Float32Array, chosen: number): TokenLogprob {
    let max = Number.NEGATIVE_INFINITY;
    for (const v of logits) if (v > max) max = v;
    let sum = 0;
    for (const v of logits) sum += Math.exp(v - max);
    const logZ = max + Math.log(sum);
    const probability = (id: number): TokenProbability => ({ token: this.texts.of(id), logprob: logits[id]! - logZ });
    return { ...probability(chosen), top: this.mostLikely(logits).map(probability) };
  }

  /** The `top` largest logits' ids, largest first (ties: lower id first), in one pass. */
  private mostLikely(logits: Float32Array): number[] {
    const ids: number[] = [];
    for (let id = 0; id < logits.length && this.top > 0; id++) {
      if (ids.length === this.top && logits[id]! <= logits[ids.at(-1)!]!) continue;
      let at = ids.length;
      while (at > 0 && logits[ids[at - 1]!]! < logits[id]!) at--;
      ids.splice(at, 0, id);
      if (ids.length > this.top) ids.pop();
    }
    return ids;
  }
}
