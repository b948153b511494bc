/** One request inside the engine, from admission to its last token. */
import type { FinishReason, GenerateResult, PromptTokenLogprob, TokenLogprob } from '../../../src/core/runtime.js';
import type { KvBatch } from './kv-batch.js';
import type { Logprobs } from './logprobs.js';
import type { Sampler } from './sampler.js';
import type { TextStream } from './text-stream.js';

/** When a sequence may and must end, besides max_tokens and stop strings. */
export interface EndRules {
  /** Generated tokens before end-of-sequence or a stop token may end it. */
  minTokens: number;
  /** End-of-sequence tokens do not end it. */
  ignoreEos: boolean;
  /** Tokens that end it as end-of-sequence does. */
  stopTokenIds: readonly number[];
}

const NO_RULES: EndRules = { minTokens: 0, ignoreEos: false, stopTokenIds: [] };

export interface SequenceSpec {
  promptIds: number[];
  maxNew: number;
  sampler: Sampler;
  ends?: EndRules;
  /** Present when the request asked for each token's log-probability. */
  logprobs?: Logprobs;
  /** Present when the request asked for each prompt token's log-probability. */
  promptLogprobs?: Logprobs;
  stream: TextStream;
  signal: { readonly aborted: boolean };
}

const now = () => performance.now() / 1000;

export class Sequence {
  readonly promptIds: number[];
  readonly maxNew: number;
  readonly sampler: Sampler;
  readonly ends: EndRules;
  private readonly logprobs?: Logprobs;
  private readonly tokenLogprobs: TokenLogprob[] = [];
  private readonly promptScoring?: Logprobs;
  private readonly promptLogprobs: PromptTokenLogprob[] = [];
  readonly stream: TextStream;
  readonly signal: { readonly aborted: boolean };
  readonly generated: number[] = [];
  /**
   * The tokens a prefill feeds: the prompt, or after a preemption the prompt and every token
   * generated so far, whose K/V is computed again.
   */
  prefillIds: number[];
  /** Tokens of prefillIds whose K/V the sequence holds (prefix-cache hits included). */
  prefilled = 0;
  /** Times the engine took the sequence's K/V back to make room, to compute it again later. */
  preemptions = 0;
  /** Prompt tokens that came from the prefix cache. */
  cachedTokens = 0;
  /** The newest token, which the next decoder step feeds. */
  last = -1;
  /** K/V the sequence holds outside the running batch: cached prefix blocks, then its prompt's. */
  kv?: KvBatch;
  /** Encoder-decoder models: the cross-attention K/V of the prompt. */
  cross?: KvBatch;
  /** KV-cache blocks reserved for this sequence, and the prefix-cache keys it pins. */
  blocks = 0;
  pinned: string[] = [];
  finish?: FinishReason;
  private readonly arrival = now();
  private scheduled = 0;
  private firstToken = 0;
  private lastToken = 0;
  private readonly gaps: number[] = [];

  constructor(
    spec: SequenceSpec,
    private readonly settle: (result: GenerateResult) => void,
    readonly fail: (error: Error) => void,
  ) {
    this.promptIds = spec.promptIds;
    this.prefillIds = spec.promptIds;
    this.maxNew = spec.maxNew;
    this.sampler = spec.sampler;
    this.ends = spec.ends ?? NO_RULES;
    this.logprobs = spec.logprobs;
    this.promptScoring = spec.promptLogprobs;
    if (this.promptScoring) this.promptLogprobs.push(this.promptScoring.unpredicted(this.promptIds[0]!));
    this.stream = spec.stream;
    this.signal = spec.signal;
  }

  /** Whether prefill must compute every prompt position's logits (and so cannot start from cached blocks). */
  get scoresPrompt(): boolean {
    return this.promptScoring !== undefined;
  }

  /** The logits a prefill run computed at prompt position `at`: they score the prompt's next token. */
  promptLogits(at: number, logits: Float32Array): void {
    const next = at + 1;
    if (this.promptScoring && next < this.promptIds.length)
      this.promptLogprobs[next] = this.promptScoring.of(logits, this.promptIds[next]!);
  }

  get promptDone(): boolean {
    return this.prefilled >= this.prefillIds.length;
  }

  /** Tokens whose K/V the sequence holds once its next step has run: the prompt and every generated token. */
  get length(): number {
    return this.promptIds.length + this.generated.length;
  }

  admitted(): void {
    // A preempted sequence was scheduled once already: its queue time is the first wait.
    this.scheduled ||= now();
  }

  /** Gives up the K/V: a later prefill computes it again from the prompt and the tokens generated. */
  preempt(): void {
    this.prefillIds = [...this.promptIds, ...this.generated];
    this.prefilled = 0;
    this.kv = undefined;
    this.preemptions++;
  }

  /** Samples and streams the next token; returns whether the sequence is finished. */
  accept(logits: Float32Array, eosIds: readonly number[]): boolean {
    const { minTokens, ignoreEos, stopTokenIds } = this.ends;
    const eos = ignoreEos ? [] : eosIds;
    const banned = this.generated.length < minTokens ? [...eos, ...stopTokenIds] : [];
    const id = this.sampler.next(logits, { promptIds: this.promptIds, generated: this.generated, banned });
    const t = now();
    if (this.firstToken === 0) this.firstToken = t;
    else this.gaps.push(t - this.lastToken);
    this.lastToken = t;
    this.generated.push(id);
    this.last = id;
    const logprob = this.logprobs?.of(logits, id);
    if (logprob) this.tokenLogprobs.push(logprob);
    this.stream.put(id, logprob);
    if (this.stream.stopped || eos.includes(id) || stopTokenIds.includes(id)) this.finish = 'stop';
    else if (this.generated.length >= this.maxNew) this.finish = 'length';
    return this.finish !== undefined;
  }

  /** Ends the sequence and answers its request. */
  done(reason: FinishReason | undefined = this.finish): GenerateResult {
    this.finish = reason ?? 'length';
    this.stream.end();
    if (this.stream.stopped) this.finish = 'stop';
    const end = now();
    const result: GenerateResult = {
      text: this.stream.final,
      tokenIds: [...this.generated],
      promptTokens: this.promptIds.length,
      finishReason: this.finish,
      cachedTokens: this.cachedTokens,
      ...(this.logprobs && { logprobs: this.tokenLogprobs }),
      ...(this.promptScoring && { promptLogprobs: this.promptLogprobs }),
      timing: {
        queueS: (this.scheduled || end) - this.arrival,
        ttftS: this.firstToken ? this.firstToken - this.arrival : undefined,
        interTokenS: this.gaps,
        e2eS: end - this.arrival,
      },
    };
    this.settle(result);
    return result;
  }
}
