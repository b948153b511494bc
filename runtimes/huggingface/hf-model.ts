/**
 * One loaded Hugging Face model: v2/V1 inference on a BYTES tensor of texts, and the text
 * capability (embeddings, streamed generation) that the OpenAI routes use.
 */
import { type PreTrainedModel, type PreTrainedTokenizer, Tensor as HfTensor } from '@huggingface/transformers';
import { CancelledError, InvalidInputError } from '../../src/core/errors.js';
import type { Parameters, RunRequest } from '../../src/core/inference.js';
import { type BytesData, type Tensor, allocate, bytesFromStrings } from '../../src/core/tensor.js';
import type {
  EmbedResult,
  GenerateChunk,
  GenerateRequest,
  GenerateResult,
  LoadedModel,
  ModelMetadata,
  TextModel,
  SamplingDefaults,
  TextModelInfo,
  TextTask,
} from '../../src/core/runtime.js';
import { type Classified, type EncodedBatch, classify, encode, pool } from './encoder.js';
import type { HfConfig } from './hf-folder.js';
import type { HfOptions } from './hf-options.js';
import {
  EMBEDDING_OUTPUT,
  KSERVE_OUTPUT,
  TEXT_INPUT,
  TOKEN_COUNT_OUTPUT,
  defaultOutputs,
  kserveIndexKeyed,
  outputSpecs,
} from './hf-tasks.js';
import { formatFixed } from '../../src/core/fixed-decimal.js';
import type { Generator } from './generation.js';
import { BatchTokenizer } from './token-batch.js';
import { fillMask, requireMask, tokenClassification } from './token-tasks.js';

export interface HfModelParts {
  task: TextTask;
  options: HfOptions;
  config: HfConfig;
  tokenizer: PreTrainedTokenizer;
  /** transformers.js's model: every task but decoder-only generation, whose engine holds its own session. */
  model?: PreTrainedModel;
  /** Frees the model's sessions. */
  release: () => Promise<void>;
  maxModelLen: number;
  generator?: Generator;
  cache?: TextModelInfo['cache'];
  samplingDefaults?: SamplingDefaults;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function texts(run: RunRequest): string[] {
  const input = run.inputs[0]!;
  return (input.data as BytesData).strings((bytes, i) => {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new InvalidInputError(`input '${input.name}': element ${i} is not valid UTF-8 text`);
    }
  });
}

function numberParam(parameters: Parameters, names: string[], check: (n: number) => boolean, expected: string): number | undefined {
  for (const name of names) {
    const v = parameters[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !check(v))
      throw new InvalidInputError(`parameter '${name}' must be ${expected}, got ${JSON.stringify(v)}`);
    return v;
  }
  return undefined;
}

const isCount = (n: number) => Number.isInteger(n) && n >= 0;
const isPenalty = (n: number) => n >= -2 && n <= 2;

/** stop_token_ids as v2 parameters can carry it: one id, or ids separated by commas. */
function stopTokenIds(parameters: Parameters): number[] {
  const v = parameters['stop_token_ids'];
  if (v === undefined) return [];
  const ids = typeof v === 'number' ? [v] : typeof v === 'string' ? v.split(',').map((x) => (x.trim() ? Number(x) : NaN)) : [NaN];
  if (!ids.every(isCount)) {
    throw new InvalidInputError(`parameter 'stop_token_ids' must be a token id or ids separated by commas, got ${JSON.stringify(v)}`);
  }
  return ids;
}

function flag(parameters: Parameters, name: string): boolean {
  const v = parameters[name];
  if (v !== undefined && typeof v !== 'boolean')
    throw new InvalidInputError(`parameter '${name}' must be true or false, got ${JSON.stringify(v)}`);
  return v ?? false;
}

/** Generation settings from v2 request parameters (vLLM's names); greedy unless a temperature is given. */
function generateOptions(parameters: Parameters): Omit<GenerateRequest, 'prompt'> {
  const stop = parameters['stop'];
  if (stop !== undefined && typeof stop !== 'string')
    throw new InvalidInputError(`parameter 'stop' must be a string, got ${JSON.stringify(stop)}`);
  const maxTokens = numberParam(parameters, ['max_tokens', 'max_new_tokens'], isCount, 'an integer >= 0');
  const minTokens = numberParam(parameters, ['min_tokens'], (n) => isCount(n) && n <= (maxTokens ?? n), 'an integer from 0 to max_tokens');
  return {
    maxTokens,
    temperature: numberParam(parameters, ['temperature'], (n) => n >= 0 && n <= 2, 'a number from 0 to 2') ?? 0,
    topP: numberParam(parameters, ['top_p'], (n) => n > 0 && n <= 1, 'a number in (0, 1]') ?? 1,
    seed: numberParam(parameters, ['seed'], isCount, 'an integer >= 0'),
    stop: stop ? [stop] : [],
    topK: Math.max(0, numberParam(parameters, ['top_k'], (n) => Number.isInteger(n) && n >= -1, 'an integer >= -1 (-1 or 0: all)') ?? 0),
    minP: numberParam(parameters, ['min_p'], (n) => n >= 0 && n <= 1, 'a number from 0 to 1') ?? 0,
    presencePenalty: numberParam(parameters, ['presence_penalty'], isPenalty, 'a number from -2 to 2') ?? 0,
    frequencyPenalty: numberParam(parameters, ['frequency_penalty'], isPenalty, 'a number from -2 to 2') ?? 0,
    repetitionPenalty: numberParam(parameters, ['repetition_penalty'], (n) => n > 0, 'a number > 0 (1: off)') ?? 1,
    minTokens: minTokens ?? 0,
    ignoreEos: flag(parameters, 'ignore_eos'),
    stopTokenIds: stopTokenIds(parameters),
  };
}

export class HfModel implements LoadedModel, TextModel {
  readonly metadata: ModelMetadata;
  readonly text: TextModel = this;
  private readonly labels: string[];
  private readonly hiddenSize: number;
  private readonly batcher: BatchTokenizer;

  constructor(private readonly parts: HfModelParts) {
    this.batcher = new BatchTokenizer(parts.tokenizer, parts.maxModelLen);
    const { config, task, options } = parts;
    const id2label = config.id2label ?? {};
    this.labels = Object.keys(id2label)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => id2label[k]!);
    this.hiddenSize = Number(config['hidden_size'] ?? config['n_embd'] ?? config['d_model'] ?? -1);
    const outputs = outputSpecs(task, options, this.hiddenSize, this.labels.length || -1, Number(config['vocab_size'] ?? -1));
    this.metadata = {
      platform: 'huggingface_transformersjs',
      inputs: [TEXT_INPUT],
      outputs,
      // KServe's answer unless a request names outputs: the embedding alone (token_count is for
      // the OpenAI route's usage), output-0 for the classification and mask tasks.
      defaultOutputs: defaultOutputs(task, options, outputs),
      v1IndexKeyed: kserveIndexKeyed(task, options),
      text: {
        task,
        maxModelLen: parts.maxModelLen,
        chatTemplate: parts.generator?.hasChatTemplate ?? false,
        ...(task === 'text_embedding' ? { embedOutputs: { embedding: EMBEDDING_OUTPUT, tokenCount: TOKEN_COUNT_OUTPUT } } : {}),
        ...(parts.cache ? { cache: parts.cache } : {}),
        ...(parts.samplingDefaults && Object.keys(parts.samplingDefaults).length ? { samplingDefaults: parts.samplingDefaults } : {}),
      },
    };
  }

  async infer(run: RunRequest, signal: { readonly aborted: boolean } = { aborted: false }): Promise<Tensor[]> {
    const input = texts(run);
    let outputs: Record<string, Tensor>;
    switch (this.parts.task) {
      case 'text_embedding':
        outputs = await this.embeddingOutputs(input);
        break;
      case 'sequence_classification':
        outputs = await this.classificationOutputs(input);
        break;
      case 'token_classification':
        outputs = await this.tokenClassificationOutputs(input);
        break;
      case 'fill_mask':
        outputs = await this.fillMaskOutputs(input);
        break;
      case 'text_generation':
      case 'text2text_generation':
        outputs = await this.generationOutputs(input, run.parameters, signal);
        break;
    }
    return run.outputNames.map((name) => outputs[name]!);
  }

  async embed(input: string[]): Promise<EmbedResult> {
    if (this.parts.task !== 'text_embedding')
      throw new InvalidInputError(`this model's task is ${this.parts.task}; embeddings need a text_embedding model`);
    const { options } = this.parts;
    const dim = this.hiddenSize;
    const embeddings = allocate('FP32', input.length * dim) as Float32Array;
    if (!input.length) return { embeddings, dim, tokenCounts: [] };
    const batch = await encode(this.batcher, this.encoderModel(), input, 'last_hidden_state');
    pool(batch, options.pooling, options.normalize, embeddings);
    return { embeddings, dim, tokenCounts: batch.tokenCounts };
  }

  async generate(
    request: GenerateRequest,
    onChunk: (chunk: GenerateChunk) => void,
    signal: { readonly aborted: boolean },
  ): Promise<GenerateResult> {
    const generator = this.parts.generator;
    if (!generator)
      throw new InvalidInputError(
        `this model's task is ${this.parts.task}; completions need a text_generation or text2text_generation model`,
      );
    return generator.generate(request, onChunk, signal);
  }

  private async embeddingOutputs(input: string[]): Promise<Record<string, Tensor>> {
    const { embeddings, dim, tokenCounts } = await this.embed(input);
    return {
      [EMBEDDING_OUTPUT]: { name: EMBEDDING_OUTPUT, datatype: 'FP32', shape: [input.length, dim], data: embeddings },
      [TOKEN_COUNT_OUTPUT]: {
        name: TOKEN_COUNT_OUTPUT,
        datatype: 'INT64',
        shape: [input.length],
        data: BigInt64Array.from(tokenCounts, (n) => BigInt(n)),
      },
    };
  }

  private async classificationOutputs(input: string[]): Promise<Record<string, Tensor>> {
    const n = input.length;
    const classes = this.labels.length;
    const out: Classified = {
      labels: allocate('INT64', n) as BigInt64Array,
      scores: allocate('FP32', n) as Float32Array,
      probabilities: allocate('FP32', n * classes) as Float32Array,
      logits: allocate('FP32', n * classes) as Float32Array,
    };
    if (n) {
      const batch = await encode(this.batcher, this.encoderModel(), input, 'logits');
      if (batch.output.dims[1] !== classes)
        throw new Error(`the model returned ${batch.output.dims[1]} logits per text, but config.json's id2label names ${classes} labels`);
      classify(batch.output, out);
    }
    const names = Array.from(out.labels, (l) => this.labels[Number(l)]!);
    return {
      [KSERVE_OUTPUT]: this.kserveClassification(out, n, classes),
      label: { name: 'label', datatype: 'INT64', shape: [n], data: out.labels },
      label_name: { name: 'label_name', datatype: 'BYTES', shape: [n], data: bytesFromStrings(names) },
      score: { name: 'score', datatype: 'FP32', shape: [n], data: out.scores },
      probabilities: { name: 'probabilities', datatype: 'FP32', shape: [n, classes], data: out.probabilities },
      logits: { name: 'logits', datatype: 'FP32', shape: [n, classes], data: out.logits },
    };
  }

  /** KServe's answer: the argmax per text, or per text every label's probability (4 decimals) or logit. */
  private kserveClassification(out: Classified, n: number, classes: number): Tensor {
    const { returnProbabilities, returnRawLogits } = this.parts.options;
    if (returnRawLogits) return { name: KSERVE_OUTPUT, datatype: 'FP32', shape: [n, classes], data: out.logits };
    if (!returnProbabilities) return { name: KSERVE_OUTPUT, datatype: 'INT64', shape: [n], data: out.labels };
    // float(f"{p:.4f}") in huggingfaceserver: doubles, so that JSON prints 0.9701 and not 0.9700999855995178
    const rounded = Float64Array.from(out.probabilities, (p) => Number(formatFixed(p, 4)));
    return { name: KSERVE_OUTPUT, datatype: 'FP64', shape: [n, classes], data: rounded };
  }

  /** Per-token logits [B,S,C]; no texts give an empty batch without running the model. */
  private async encodeTokens(input: string[], classes: number): Promise<EncodedBatch> {
    if (input.length) return encode(this.batcher, this.encoderModel(), input, 'logits');
    const output = new HfTensor('float32', new Float32Array(0), [0, 0, classes]);
    return { output, ids: new BigInt64Array(0), mask: new BigInt64Array(0), seqLen: 0, tokenCounts: [] };
  }

  private async tokenClassificationOutputs(input: string[]): Promise<Record<string, Tensor>> {
    const batch = await this.encodeTokens(input, this.labels.length);
    return tokenClassification(batch, this.labels, this.parts.options);
  }

  private async fillMaskOutputs(input: string[]): Promise<Record<string, Tensor>> {
    const { tokenizer, options } = this.parts;
    requireMask(input, tokenizer.mask_token);
    const batch = await this.encodeTokens(input, Number(this.parts.config['vocab_size'] ?? 0));
    // As KServe: decode() keeps special tokens, so a predicted [SEP] shows.
    return fillMask(batch, tokenizer.mask_token_id, (ids) => tokenizer.decode(ids), options);
  }

  private async generationOutputs(
    input: string[],
    parameters: Parameters,
    signal: { readonly aborted: boolean },
  ): Promise<Record<string, Tensor>> {
    const settings = generateOptions(parameters);
    // The prompts of one request run together in the engine, like concurrent requests; they stop
    // when the caller leaves, or when one fails (a full queue), rather than generate for nobody.
    const halt = {
      failed: false,
      get aborted() {
        return this.failed || signal.aborted;
      },
    };
    const results = await Promise.all(input.map((prompt) => this.generate({ ...settings, prompt }, () => {}, halt))).catch(
      (error: unknown) => {
        halt.failed = true;
        throw error;
      },
    );
    if (signal.aborted) throw new CancelledError();
    const width = Math.max(0, ...results.map((r) => r.tokenIds.length));
    const ids = allocate('INT64', input.length * width) as BigInt64Array;
    ids.fill(-1n); // rows that ended early are padded with -1
    results.forEach((r, row) => r.tokenIds.forEach((id, j) => (ids[row * width + j] = BigInt(id))));
    return {
      generated_text: {
        name: 'generated_text',
        datatype: 'BYTES',
        shape: [input.length],
        data: bytesFromStrings(results.map((r) => r.text)),
      },
      generated_token_ids: { name: 'generated_token_ids', datatype: 'INT64', shape: [input.length, width], data: ids },
    };
  }

  /** The transformers.js model the encoder tasks run (loaded for every task they serve). */
  private encoderModel(): PreTrainedModel {
    if (!this.parts.model) throw new Error(`task ${this.parts.task} has no transformers.js model to encode with`);
    return this.parts.model;
  }

  async unload(): Promise<void> {
    await this.parts.release();
  }
}
