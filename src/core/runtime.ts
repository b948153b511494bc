/**
 * The contract between the core and a runtime adapter. An adapter loads one model version
 * inside a worker thread and runs it on typed tensors; it knows nothing of HTTP or gRPC.
 */
import type { IndexKeyed, RunRequest } from './inference.js';
import type { FlagDeclaration } from './flags.js';
import type { Tensor, TensorSpec } from './tensor.js';

export interface ModelMetadata {
  /** Triton's platform string, e.g. "onnxruntime_onnx". */
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** The outputs a request that names none gets; all of them when undefined. */
  defaultOutputs?: string[];
  /** Outputs KServe's V1 protocol answers as objects keyed by index (huggingfaceserver's dicts). */
  v1IndexKeyed?: Record<string, IndexKeyed>;
  /**
   * Names of the columns of the model's single [N, F] input, in order: requests with
   * `content_type: "pd"` (and V1 rows keyed by name) send one input per column.
   */
  featureNames?: string[];
  /**
   * The model takes its single input as KServe's sklearn, XGBoost and LightGBM servers do
   * through numpy: a request's one input whatever its name (KServe's own examples call it
   * `input-0`), in any numeric datatype, which the runtime converts. Otherwise the name and
   * datatype must match.
   */
  numpyInput?: boolean;
  /** Set for models that take text (Hugging Face): what the text routes may ask of them. */
  text?: TextModelInfo;
}

/** Where the models run, decided once at startup (runtimes/onnx/execution-provider.ts). */
export interface ProviderDecision {
  provider: 'cpu' | 'cuda';
  /** Why, for the startup log. */
  reason: string;
}

export interface RuntimeOptions {
  /** Threads one run may use; 0 lets the runtime decide. */
  intraOpThreads: number;
  interOpThreads: number;
  /** Where to run: onnxruntime's CPU provider, or CUDA on one GPU. */
  executionProvider: 'cpu' | 'cuda';
  deviceId: number;
  /** Free-form adapter parameters from the model's settings file. */
  parameters: Record<string, string>;
  /** Set for runtimes that schedule generation themselves: where their engine reports. */
  engineLink?: EngineLink;
}

export interface LoadedModel {
  readonly metadata: ModelMetadata;
  /**
   * Runs the model; returns the outputs `run.outputNames` names, in that order. `signal` turns
   * aborted once nobody waits for the answer: a long run (generation) may poll it and stop.
   */
  infer(run: RunRequest, signal?: { readonly aborted: boolean }): Promise<Tensor[]>;
  unload(): Promise<void>;
  /** Present when metadata.text is: text in, embeddings or generated tokens out. */
  readonly text?: TextModel;
}

/** KServe huggingfaceserver's task names. */
export type TextTask =
  'text_embedding' | 'sequence_classification' | 'token_classification' | 'fill_mask' | 'text_generation' | 'text2text_generation';

/** The tasks that generate text, decoder-only and encoder-decoder, as in KServe's huggingfaceserver. */
export const GENERATIVE_TASKS = ['text_generation', 'text2text_generation'] as const satisfies readonly TextTask[];
export type GenerativeTask = (typeof GENERATIVE_TASKS)[number];

export function isGenerative(task: TextTask): task is GenerativeTask {
  return (GENERATIVE_TASKS as readonly TextTask[]).includes(task);
}

export interface TextModelInfo {
  task: TextTask;
  /**
   * Most tokens one sequence may hold: prompt plus generated tokens for a decoder-only model;
   * for an encoder-decoder model, the limit of the prompt and of the generated tokens each.
   */
  maxModelLen: number;
  /** Whether the tokenizer has a chat template (chat completions need one). */
  chatTemplate: boolean;
  /**
   * For embedding models: the outputs holding the [texts, dim] FP32 embeddings and the INT64
   * token count of each text, so the core can run embeddings as tensor requests (batching them).
   */
  embedOutputs?: { embedding: string; tokenCount: string };
  /** Generative models: the engine's KV cache, as vllm:cache_config_info reports it. */
  cache?: { blockSize: number; numBlocks: number; prefixCaching: boolean };
  /** Generative models: what the OpenAI routes use for sampling fields a request leaves out. */
  samplingDefaults?: SamplingDefaults;
}

/**
 * Sampling defaults a generative model's creator recommends (its generation_config.json, as
 * vLLM's --generation-config auto reads it). Each absent one leaves OpenAI's default.
 */
export interface SamplingDefaults {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  /** A cap on max_tokens (vLLM reads max_new_tokens so), and the default where a request sets none. */
  maxTokens?: number;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** A prompt given as token ids, as OpenAI's completions take it. */
export interface TokenPrompt {
  tokenIds: number[];
}

export interface GenerateRequest {
  /** A plain prompt, chat messages rendered through the tokenizer's chat template, or token ids. */
  prompt: string | ChatMessage[] | TokenPrompt;
  /** New tokens at most; undefined means as many as max_model_len leaves room for. */
  maxTokens?: number;
  /** 0 is greedy decoding; above 0, sampling at that temperature. */
  temperature: number;
  topP: number;
  seed?: number;
  /** Generation ends before the first of these strings; it is not part of the text. */
  stop: string[];
  // vLLM's sampling extras and OpenAI's penalties: each absent one leaves decoding as it was.
  /** Only the k most likely tokens are drawn from (0: all). */
  topK?: number;
  /** Only tokens at least this share as likely as the most likely one are drawn from. */
  minP?: number;
  /** Subtracted once from the logit of each token generated so far (OpenAI's, -2 to 2). */
  presencePenalty?: number;
  /** Subtracted from a token's logit per time it was generated (OpenAI's, -2 to 2). */
  frequencyPenalty?: number;
  /** Over prompt and generated tokens: positive logits divided by it, negative ones multiplied (1: off). */
  repetitionPenalty?: number;
  /** Tokens generated before end-of-sequence, stop_token_ids or stop strings may end generation. */
  minTokens?: number;
  /** Generation goes on past end-of-sequence tokens, up to maxTokens. */
  ignoreEos?: boolean;
  /** Tokens that end generation as end-of-sequence does. */
  stopTokenIds?: number[];
  /** Added to these token ids' logits before the penalties (OpenAI's logit_bias, -100 to 100). */
  logitBias?: [number, number][];
  /** Each generated token's log-probability, with this many of the most likely alternatives; none when undefined. */
  logprobs?: number;
  /** Each prompt token's log-probability given the tokens before it, with this many alternatives (decoder-only models). */
  promptLogprobs?: number;
  /** Answer the prompt's text too (for a token-id prompt, decoded). */
  echo?: boolean;
  /** How a text prompt or chat messages become tokens (vLLM's request fields). */
  tokenization?: PromptTokenization;
}

export interface PromptTokenization {
  /**
   * The tokenizer adds its special tokens (a BOS) around the prompt: by default for a text
   * prompt, not for chat messages, whose template writes them (as vLLM).
   */
  addSpecialTokens?: boolean;
  /** Chat: the rendered prompt ends with the assistant's turn opened (default true). */
  addGenerationPrompt?: boolean;
}

/** A request but its prompt and length: how its tokens are chosen, what every choice of an OpenAI request shares. */
export type GenerateSettings = Omit<GenerateRequest, 'prompt' | 'maxTokens' | 'echo' | 'promptLogprobs'>;

/** A token as the log-probability answers show it: its text, decoded alone, and its log-probability. */
export interface TokenProbability {
  token: string;
  logprob: number;
}

/**
 * A generated token's log-probability under the model's own distribution (before penalties and
 * temperature, as vLLM reports it), and the most likely tokens of that step, most likely first.
 */
export interface TokenLogprob extends TokenProbability {
  top: TokenProbability[];
}

export interface GenerateChunk {
  /** Text that became final since the previous chunk (may be empty while bytes are pending). */
  text: string;
  tokenIds: number[];
  /** One per token of tokenIds, when the request asked for logprobs. */
  logprobs?: TokenLogprob[];
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

/** Where a generation's time went, in seconds, as vLLM's latency histograms measure it. */
export interface GenerateTiming {
  /** Arrival to admission (prefill starts). */
  queueS: number;
  /** Arrival to the first generated token; undefined when none was. */
  ttftS?: number;
  /** Between consecutive generated tokens. */
  interTokenS: number[];
  e2eS: number;
}

/**
 * How a generation engine reports to the main thread: gauges in shared memory (`buffer`, this
 * engine's `slot`; src/core/engine-gauges.ts) and one GenerationStats message per finished
 * sequence on the BroadcastChannel named `channel`, whichever route the request came by.
 */
export interface EngineLink {
  buffer: SharedArrayBuffer;
  slot: number;
  channel: string;
}

/** One finished generation, for vLLM's counters and histograms. */
export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  /** Undefined when the prompt was not looked up in a prefix cache. */
  cachedTokens?: number;
  finishReason: FinishReason;
  timing: GenerateTiming;
  /** Times the engine preempted the request (gave up its K/V and computed it again later). */
  preemptions?: number;
}

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  promptTokens: number;
  finishReason: FinishReason;
  /** Prompt tokens whose KV came from the prefix cache. */
  cachedTokens?: number;
  timing?: GenerateTiming;
  /** One per token of tokenIds, when the request asked for logprobs. */
  logprobs?: TokenLogprob[];
  /** One per prompt token, when the request asked for promptLogprobs: the first token has none (null). */
  promptLogprobs?: PromptTokenLogprob[];
  /** The prompt as text, when the request asked for an echo. */
  promptText?: string;
}

/** A prompt token's log-probability given the tokens before it; null for the first token. */
export interface PromptTokenLogprob {
  token: string;
  logprob: number | null;
  top: TokenProbability[] | null;
}

export interface EmbedResult {
  /** Row-major [texts, dim]. */
  embeddings: Float32Array;
  dim: number;
  /** Tokens each text became after truncation, for usage counts. */
  tokenCounts: number[];
}

/** The capability of text models, beyond tensors in and out. */
export interface TextModel {
  embed(texts: string[]): Promise<EmbedResult>;
  /**
   * Generates for one prompt, handing each step's text to `onChunk` as it is produced.
   * Polls `signal.aborted` between steps and stops with finishReason 'cancelled'.
   */
  generate(
    request: GenerateRequest,
    onChunk: (chunk: GenerateChunk) => void,
    signal: { readonly aborted: boolean },
  ): Promise<GenerateResult>;
}

/** The model file cannot be served: corrupt, or using a feature the runtime does not convert. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/** How a model that schedules its own generation wants its workers. */
export interface EnginePlan {
  /** Sequences one engine runs at once; 1 turns per-step batching off. */
  maxNumSeqs: number;
}

/** What the pool needs to start a runtime's workers: the module they import, and its engine plan. */
export interface WorkerRuntime {
  runtimeModule: string;
  runtimeExport: string;
  enginePlan?: RuntimeEntry['enginePlan'];
}

export interface Runtime {
  load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel>;
}

/**
 * A runtime as the core sees it: what it is called, which files it loads, its flags, and the
 * module a worker imports to run it. The main thread never imports that module (nor its native
 * library); the composition root (src/app.ts) hands the list it ships to the core.
 */
export interface RuntimeEntry {
  /** The format name used in settings files, --framework and KServe's modelFormat. */
  readonly name: string;
  /** Other names (Triton platform/backend names) that select this runtime in config.pbtxt. */
  readonly aliases: readonly string[];
  /** File extensions this runtime loads. */
  readonly fileExtensions: readonly string[];
  /** Preferred when a folder holds several of this runtime's files. */
  readonly defaultFileName: string;
  /**
   * Whether a file with one of the extensions is this runtime's, from its first bytes: several
   * formats share .json, .txt and .bst, and other files (config.json, README.txt) use them too.
   */
  recognizes?(fileName: string, head: Uint8Array): boolean;
  /** Files that mark a folder as this runtime's model; the folder itself is then the model path. */
  readonly folderMarkers?: readonly string[];
  /** Flags this runtime reads from RuntimeOptions.parameters (set away from their defaults). */
  readonly flags: readonly FlagDeclaration[];
  /** URL of the module a worker imports, and the name of its `Runtime` export. */
  readonly module: string;
  readonly exportName: string;
  /** Set when a model of this runtime may run a generation engine (see EnginePlan). */
  enginePlan?(modelPath: string, parameters: Record<string, string>): Promise<EnginePlan | undefined>;
}
