/**
 * Text generation with transformers.js's generate(), for decoder-only models and for
 * encoder-decoder ones (whose prompt goes through the encoder once and whose decoder starts from
 * its own start token): one prompt at a time (decoder-only models here have no pad token, so
 * prompts are not padded together), each step's text handed on as soon as it is final, stop
 * strings and cancellation checked between steps.
 */
import {
  BaseStreamer,
  LogitsProcessor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  StoppingCriteria,
  type Tensor as HfTensor,
  random,
} from '@huggingface/transformers';
import { InvalidInputError } from '../../src/core/errors.js';
import type { FinishReason, GenerateChunk, GenerateRequest, GenerateResult } from '../../src/core/runtime.js';

/**
 * Nucleus sampling: keeps the most likely tokens whose probabilities sum to top_p.
 * transformers.js 4.3 declares a TopPLogitsWarper but never applies one, hence our own.
 */
class TopP extends LogitsProcessor {
  constructor(private readonly topP: number) {
    super();
  }

  override _call(_inputIds: bigint[][], logits: HfTensor): HfTensor {
    const vocab = logits.dims.at(-1)!;
    const data = logits.data as Float32Array;
    for (let start = 0; start < data.length; start += vocab) {
      const row = data.subarray(start, start + vocab);
      const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]!);
      const max = row[order[0]!]!;
      let total = 0;
      for (const i of order) total += Math.exp(row[i]! - max);
      let kept = 0;
      let k = 0;
      while (k < order.length && kept < this.topP * total) kept += Math.exp(row[order[k++]!]! - max);
      for (const i of order.slice(Math.max(k, 1))) row[i] = -Infinity;
    }
    return logits;
  }
}

/** Stops every sequence once `halt()` says so. */
class Halt extends StoppingCriteria {
  constructor(private readonly halt: () => boolean) {
    super();
  }

  override _call(inputIds: number[][]): boolean[] {
    const stop = this.halt();
    return inputIds.map(() => stop);
  }
}

/**
 * Decodes a growing list of token ids a few at a time, as TGI and vLLM do: each step decodes
 * only the tokens since the previous text was final, with the tokens of that previous step in
 * front so that decoders which treat a leading token specially (SentencePiece's word marker,
 * byte-level BPE's split characters) see the same context as a whole decode. Decoding the whole
 * continuation every step would cost O(n^2) over a long generation.
 */
class IncrementalDecoder {
  readonly ids: number[] = [];
  /** The tokens before `prefix` are final text; `prefix`..`read` is the context re-decoded each step. */
  private prefix = 0;
  private read = 0;
  text = '';

  constructor(private readonly tokenizer: PreTrainedTokenizer) {}

  private decode(from: number, to = this.ids.length): string {
    if (from >= to) return ''; // transformers.js refuses to decode no tokens
    return this.tokenizer.decode(this.ids.slice(from, to), { skip_special_tokens: true });
  }

  /** Adds a token; the text grows once it no longer ends in an unfinished character. */
  push(id: number): void {
    this.ids.push(id);
    this.settle(false);
  }

  /** The end of generation: whatever is pending counts, unfinished characters included. */
  flush(): void {
    this.settle(true);
  }

  private settle(final: boolean): void {
    const before = this.decode(this.prefix, this.read);
    const after = this.decode(this.prefix);
    if (after.length > before.length && (final || !after.endsWith('\uFFFD'))) {
      this.text += after.slice(before.length);
      this.prefix = this.read;
      this.read = this.ids.length;
    }
  }
}

/**
 * Turns generated token ids into text deltas. It holds back any tail that could start a stop
 * string, and ends generation at the first stop string.
 */
class DeltaStreamer extends BaseStreamer {
  private readonly decoder: IncrementalDecoder;
  private sent = '';
  private pendingIds: number[] = [];
  private promptSeen = false;
  stopped = false;
  final = '';

  constructor(
    tokenizer: PreTrainedTokenizer,
    private readonly stops: readonly string[],
    private readonly onChunk: (chunk: GenerateChunk) => void,
  ) {
    super();
    this.decoder = new IncrementalDecoder(tokenizer);
  }

  get ids(): readonly number[] {
    return this.decoder.ids;
  }

  override put(value: bigint[][]): void {
    if (!this.promptSeen) {
      this.promptSeen = true; // generate() first hands over the prompt (or the decoder's start token)
      return;
    }
    if (this.stopped) return;
    const id = Number(value[0]![0]);
    this.pendingIds.push(id);
    this.decoder.push(id);
    const text = this.decoder.text;
    const stopAt = this.firstStop(text);
    if (stopAt >= 0) {
      this.stopped = true;
      this.emit(text.slice(0, stopAt));
      return;
    }
    this.emit(text.slice(0, this.safeEnd(text)));
  }

  override end(): void {
    if (this.stopped) return;
    this.decoder.flush();
    const text = this.decoder.text;
    const stopAt = this.firstStop(text);
    if (stopAt >= 0) this.stopped = true;
    this.emit(stopAt >= 0 ? text.slice(0, stopAt) : text, true);
  }

  private firstStop(text: string): number {
    let at = -1;
    // Only the region that was not yet sent can hold a new stop string.
    const from = Math.max(0, this.sent.length - Math.max(0, ...this.stops.map((s) => s.length)));
    for (const stop of this.stops) {
      const i = text.indexOf(stop, from);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    return at;
  }

  /** How much of `text` is final: not a possible stop prefix. */
  private safeEnd(text: string): number {
    let end = text.length;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, end); n > 0; n--) {
        if (text.slice(end - n, end) === stop.slice(0, n)) {
          end -= n;
          break;
        }
      }
    }
    return Math.max(end, this.sent.length);
  }

  private emit(text: string, last = false): void {
    this.final = text;
    const delta = text.slice(this.sent.length);
    if (!delta && !last) return;
    this.sent = text;
    const tokenIds = this.pendingIds;
    this.pendingIds = [];
    if (delta || tokenIds.length) this.onChunk({ text: delta, tokenIds });
  }
}

export interface GeneratorLimits {
  maxModelLen: number;
  eosIds: readonly number[];
  /** The prompt and the generated tokens are separate sequences, each limited to maxModelLen. */
  encoderDecoder: boolean;
}

export class Generator {
  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
    private readonly limits: GeneratorLimits,
  ) {}

  get hasChatTemplate(): boolean {
    return typeof this.tokenizer.chat_template === 'string' && this.tokenizer.chat_template.length > 0;
  }

  private render(prompt: GenerateRequest['prompt']): string {
    if (typeof prompt === 'string') return prompt;
    if (!this.hasChatTemplate) {
      throw new InvalidInputError("this model's tokenizer_config.json has no chat_template, so chat messages cannot be rendered; use completions with a plain prompt");
    }
    return this.tokenizer.apply_chat_template(prompt as never, { tokenize: false, add_generation_prompt: true }) as string;
  }

  /** Checks the request against max_model_len as vLLM does, and returns the new-token budget. */
  private budget(promptTokens: number, maxTokens: number | undefined): number {
    if (promptTokens === 0) throw new InvalidInputError('the prompt is empty: it must hold at least one token');
    const { maxModelLen, encoderDecoder } = this.limits;
    if (encoderDecoder) return this.encoderDecoderBudget(promptTokens, maxTokens);
    const room = maxModelLen - promptTokens;
    if (room <= 0 || (maxTokens !== undefined && maxTokens > room)) {
      const asked = maxTokens ?? 1;
      throw new InvalidInputError(
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + asked} tokens ` +
          `(${promptTokens} in the prompt, ${asked} in the completion). Please reduce the length of the prompt or completion.`,
      );
    }
    return maxTokens ?? room;
  }

  /** The encoder reads the prompt and the decoder writes the completion: each has the whole limit. */
  private encoderDecoderBudget(promptTokens: number, maxTokens: number | undefined): number {
    const { maxModelLen } = this.limits;
    if (promptTokens > maxModelLen) {
      throw new InvalidInputError(
        `This model's maximum input length is ${maxModelLen} tokens. However, the prompt has ${promptTokens} tokens. Please reduce the length of the prompt.`,
      );
    }
    if (maxTokens !== undefined && maxTokens > maxModelLen) {
      throw new InvalidInputError(`This model generates at most ${maxModelLen} tokens per completion. However, you requested ${maxTokens}.`);
    }
    return maxTokens ?? maxModelLen;
  }

  async generate(request: GenerateRequest, onChunk: (chunk: GenerateChunk) => void, signal: { readonly aborted: boolean }): Promise<GenerateResult> {
    const inputs = this.tokenizer(this.render(request.prompt));
    const promptTokens = (inputs.input_ids as HfTensor).dims[1] ?? 0;
    const maxNew = this.budget(promptTokens, request.maxTokens);
    const streamer = new DeltaStreamer(this.tokenizer, request.stop, onChunk);
    const sample = request.temperature > 0;
    // Sampling draws from transformers.js's one global generator; a worker runs one
    // generation at a time, so seeding it here makes a seeded request reproducible.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-call -- transformers.js types `random` loosely
    if (sample) random.seed(request.seed);
    if (maxNew > 0 && !signal.aborted) {
      await this.model.generate({
        ...inputs,
        max_new_tokens: maxNew,
        do_sample: sample,
        temperature: sample ? request.temperature : 1,
        top_k: 0,
        logits_processor: sample && request.topP < 1 ? [new TopP(request.topP)] : null,
        stopping_criteria: [new Halt(() => signal.aborted || streamer.stopped)],
        streamer,
      } as never);
    }
    return {
      text: streamer.final,
      tokenIds: [...streamer.ids],
      promptTokens,
      finishReason: this.finishReason(streamer, maxNew, signal),
    };
  }

  private finishReason(streamer: DeltaStreamer, maxNew: number, signal: { readonly aborted: boolean }): FinishReason {
    if (streamer.stopped) return 'stop';
    const last = streamer.ids.at(-1);
    if (last !== undefined && this.limits.eosIds.includes(last)) return 'stop';
    if (signal.aborted && streamer.ids.length < maxNew) return 'cancelled';
    return 'length';
  }
}
