/**
 * Text generation requests: the prompt rendered (chat template) and tokenized, checked against
 * the model's length limit, and handed to the model instance's engine (engine/engine.ts), which
 * runs it step by step together with the other requests it holds.
 */
import type { PreTrainedTokenizer, Tensor as HfTensor } from '@huggingface/transformers';
import { InvalidInputError } from '../../src/core/errors.js';
import type { ChatMessage, GenerateChunk, GenerateRequest, GenerateResult, PromptTokenization } from '../../src/core/runtime.js';
import type { Engine } from './engine/engine.js';
import { Logprobs, TokenTexts } from './engine/logprobs.js';
import { Sampler } from './engine/sampler.js';
import { Sequence } from './engine/sequence.js';
import { TextStream } from './engine/text-stream.js';

export interface GeneratorLimits {
  maxModelLen: number;
  eosIds: readonly number[];
  /** The prompt and the generated tokens are separate sequences, each limited to maxModelLen. */
  encoderDecoder: boolean;
  /** Token ids a prompt may hold: the model's embedding rows. */
  vocabSize: number;
}

export class Generator {
  private readonly tokenTexts: TokenTexts;

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly engine: Engine,
    private readonly limits: GeneratorLimits,
  ) {
    this.tokenTexts = new TokenTexts(tokenizer);
  }

  get hasChatTemplate(): boolean {
    return typeof this.tokenizer.chat_template === 'string' && this.tokenizer.chat_template.length > 0;
  }

  private render(prompt: string | ChatMessage[], tokenization: PromptTokenization): string {
    if (typeof prompt === 'string') return prompt;
    if (!this.hasChatTemplate) {
      throw new InvalidInputError(
        "this model's tokenizer_config.json has no chat_template, so chat messages cannot be rendered; use completions with a plain prompt",
      );
    }
    const add_generation_prompt = tokenization.addGenerationPrompt ?? true;
    return this.tokenizer.apply_chat_template(prompt as never, { tokenize: false, add_generation_prompt }) as string;
  }

  private promptIds(prompt: GenerateRequest['prompt'], tokenization: PromptTokenization = {}): number[] {
    if (typeof prompt === 'object' && !Array.isArray(prompt)) {
      const { vocabSize } = this.limits;
      const outside = prompt.tokenIds.find((id) => id >= vocabSize);
      if (outside !== undefined) {
        throw new InvalidInputError(`the prompt's token id ${outside} is outside the model's vocabulary (ids 0 to ${vocabSize - 1})`);
      }
      return prompt.tokenIds;
    }
    // A chat template writes the special tokens (a BOS) itself; the tokenizer adding them again would double them.
    const add_special_tokens = tokenization.addSpecialTokens ?? typeof prompt === 'string';
    const ids = this.tokenizer(this.render(prompt, tokenization), { add_special_tokens }).input_ids as HfTensor;
    return Array.from(ids.data as BigInt64Array, Number);
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
      throw new InvalidInputError(
        `This model generates at most ${maxModelLen} tokens per completion. However, you requested ${maxTokens}.`,
      );
    }
    return maxTokens ?? maxModelLen;
  }

  async generate(
    request: GenerateRequest,
    onChunk: (chunk: GenerateChunk) => void,
    signal: { readonly aborted: boolean },
  ): Promise<GenerateResult> {
    const promptIds = this.promptIds(request.prompt, request.tokenization);
    const maxNew = this.budget(promptIds.length, request.maxTokens);
    const scoring = request.promptLogprobs !== undefined;
    if (scoring && this.limits.encoderDecoder) {
      throw new InvalidInputError(
        "prompt log-probabilities need a decoder-only model: this model's prompt goes to its encoder, which predicts no tokens",
      );
    }
    const promptText = request.echo ? this.tokenizer.decode(promptIds, { skip_special_tokens: false }) : undefined;
    if ((maxNew === 0 && !scoring) || signal.aborted) {
      return {
        text: '',
        tokenIds: [],
        promptTokens: promptIds.length,
        finishReason: signal.aborted ? 'cancelled' : 'length',
        cachedTokens: 0,
        ...(promptText !== undefined && { promptText }),
      };
    }
    const ends = { minTokens: request.minTokens ?? 0, ignoreEos: request.ignoreEos ?? false, stopTokenIds: request.stopTokenIds ?? [] };
    const stream = new TextStream(this.tokenizer, request.stop, onChunk, ends.minTokens);
    const sampler = new Sampler(request);
    const logprobs = request.logprobs === undefined ? undefined : new Logprobs(this.tokenTexts, request.logprobs);
    const promptLogprobs = scoring ? new Logprobs(this.tokenTexts, request.promptLogprobs!) : undefined;
    const spec = { promptIds, maxNew, sampler, stream, signal, ends, logprobs, promptLogprobs };
    const result = await new Promise<GenerateResult>((resolve, reject) => {
      this.engine.submit(new Sequence(spec, resolve, reject));
    });
    return promptText === undefined ? result : { ...result, promptText };
  }
}
