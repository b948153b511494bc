/**
 * The OpenAI request bodies tsserve accepts, checked field by field into typed requests.
 * Unknown fields are ignored (clients send vendor extras); known fields with values tsserve
 * cannot honour are refused by name rather than silently dropped. vLLM's sampling extras
 * (top_k, min_p, repetition_penalty, min_tokens, ignore_eos, stop_token_ids) are honoured, as
 * clients written for vLLM send them.
 */
import type { ChatMessage, GenerateSettings, PromptTokenization, SamplingDefaults, TokenPrompt } from '../../core/runtime.js';
import { OpenAIParamError } from './openai-errors.js';

type Body = Record<string, unknown>;

/** Choices per prompt at most. */
const MAX_CHOICES = 1024;

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OpenAIParamError('body', 'the request body must be a JSON object');
  return value as Body;
}

export function modelName(body: Body): string {
  const model = body.model;
  if (typeof model !== 'string' || !model) throw new OpenAIParamError('model', "'model' is required: the name of a served model");
  return model;
}

function num(body: Body, key: string, fallback: number, min: number, max: number, integer = false): number {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    const kind = integer ? 'an integer' : 'a number';
    throw new OpenAIParamError(key, `'${key}' must be ${kind} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalInt(body: Body, key: string, min: number): number | undefined {
  if (body[key] === undefined || body[key] === null) return undefined;
  return num(body, key, 0, min, Number.MAX_SAFE_INTEGER, true);
}

function optionalBool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new OpenAIParamError(key, `'${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function bool(body: Body, key: string): boolean {
  return optionalBool(body, key) ?? false;
}

/** vLLM's add_special_tokens (both routes) and add_generation_prompt (chat), where given. */
function tokenization(body: Body): PromptTokenization | undefined {
  const addSpecialTokens = optionalBool(body, 'add_special_tokens');
  const addGenerationPrompt = optionalBool(body, 'add_generation_prompt');
  if (addSpecialTokens === undefined && addGenerationPrompt === undefined) return undefined;
  return { addSpecialTokens, addGenerationPrompt };
}

function tokenIds(body: Body, key: string): number[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((id) => Number.isInteger(id) && id >= 0)) {
    throw new OpenAIParamError(key, `'${key}' must be a list of token ids (integers >= 0), got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** OpenAI's logit_bias: {"<token id>": bias from -100 to 100}. */
function logitBias(body: Body): [number, number][] {
  const v = body.logit_bias;
  if (v === undefined || v === null) return [];
  const entries = typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : undefined;
  const pairs = entries?.map(([key, bias]): [number, unknown] => [/^\d+$/.test(key) ? Number(key) : NaN, bias]);
  if (!pairs || !pairs.every(([id, bias]) => Number.isSafeInteger(id) && typeof bias === 'number' && bias >= -100 && bias <= 100)) {
    throw new OpenAIParamError('logit_bias', `'logit_bias' must map token ids to numbers from -100 to 100, got ${JSON.stringify(v)}`);
  }
  return pairs as [number, number][];
}

/**
 * Fields that ask for structured output or tool calls: refused rather than answered with free
 * text, as vLLM refuses tools without a tool parser.
 */
function refuseStructured(body: Body): void {
  const format = body.response_format as Body | undefined | null;
  if (format !== undefined && format !== null && format.type !== 'text') {
    throw new OpenAIParamError(
      'response_format',
      '\'response_format\' may only be {"type": "text"}: this server has no structured (JSON) decoding',
    );
  }
  const tools = body.tools;
  if (Array.isArray(tools) && tools.length > 0 && body.tool_choice !== 'none') {
    throw new OpenAIParamError('tools', "'tools' need tool calling, which this server does not do; send 'tool_choice': 'none' or no tools");
  }
}

function stops(body: Body): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length > 4 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new OpenAIParamError('stop', "'stop' must be a non-empty string or a list of at most 4 of them");
  }
  return list as string[];
}

/** Fields tsserve has no way to honour: refused unless absent or one of their neutral values. */
function refuseUnsupported(body: Body, neutral: Record<string, unknown[]>): void {
  for (const [key, values] of Object.entries(neutral)) {
    const v = body[key];
    if (v === undefined || v === null || values.includes(v)) continue;
    const allowed = values.length ? ` (only ${values.map((x) => JSON.stringify(x)).join(' or ')})` : '';
    throw new OpenAIParamError(key, `'${key}' is not supported by this server${allowed}`);
  }
}

export interface SamplingFields {
  /** How each choice's tokens are chosen, handed to every generation as they are. */
  settings: GenerateSettings;
  /** Choices per prompt. */
  n: number;
  stream: boolean;
  includeUsage: boolean;
}

/** max_tokens as asked, capped by the model's generation config as vLLM caps it. */
function capped(asked: number | undefined, defaults: SamplingDefaults): number | undefined {
  const cap = defaults.maxTokens;
  return cap === undefined ? asked : Math.min(asked ?? cap, cap);
}

/**
 * The fields every generation route shares, each absent one from the model's sampling defaults
 * or else OpenAI's; `logprobs` is parsed per route, as their shapes differ.
 */
function sampling(body: Body, maxTokens: number | undefined, logprobs: number | undefined, defaults: SamplingDefaults): SamplingFields {
  refuseUnsupported(body, {
    best_of: [1],
    suffix: [''],
  });
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions))) {
    throw new OpenAIParamError('stream_options', "'stream_options' must be an object");
  }
  const stream = bool(body, 'stream');
  const minTokens = num(body, 'min_tokens', 0, 0, maxTokens ?? Number.MAX_SAFE_INTEGER, true);
  const settings: GenerateSettings = {
    temperature: num(body, 'temperature', defaults.temperature ?? 1, 0, 2),
    topP: num(body, 'top_p', defaults.topP ?? 1, Number.MIN_VALUE, 1),
    seed: optionalInt(body, 'seed', 0),
    stop: stops(body),
    // vLLM takes -1 for "all" too.
    topK: Math.max(0, num(body, 'top_k', defaults.topK ?? 0, -1, Number.MAX_SAFE_INTEGER, true)),
    minP: num(body, 'min_p', defaults.minP ?? 0, 0, 1),
    presencePenalty: num(body, 'presence_penalty', 0, -2, 2),
    frequencyPenalty: num(body, 'frequency_penalty', 0, -2, 2),
    repetitionPenalty: num(body, 'repetition_penalty', defaults.repetitionPenalty ?? 1, Number.MIN_VALUE, Number.MAX_VALUE),
    minTokens,
    ignoreEos: bool(body, 'ignore_eos'),
    stopTokenIds: tokenIds(body, 'stop_token_ids'),
    logitBias: logitBias(body),
    logprobs,
    tokenization: tokenization(body),
  };
  return {
    settings,
    // Bounded here as well as by --max_prompts_per_request, which 0 turns off.
    n: num(body, 'n', 1, 1, MAX_CHOICES, true),
    stream,
    includeUsage: stream && bool((streamOptions ?? {}) as Body, 'include_usage'),
  };
}

export interface CompletionRequest extends SamplingFields {
  model: string;
  prompts: (string | TokenPrompt)[];
  maxTokens: number;
  echo: boolean;
}

/** The most alternatives a token's log-probability comes with, as vLLM's default max_logprobs. */
const MAX_LOGPROBS = 20;

/** Completions' `logprobs`: how many alternatives per token (0: the chosen token's alone). */
function completionLogprobsAsked(body: Body): number | undefined {
  if (body.logprobs === false) return undefined;
  const n = optionalInt(body, 'logprobs', 0);
  if (n !== undefined && n > MAX_LOGPROBS) throw new OpenAIParamError('logprobs', `'logprobs' must be at most ${MAX_LOGPROBS}, got ${n}`);
  return n;
}

/** Chat's `logprobs` (true or false) and `top_logprobs` (alternatives per token). */
function chatLogprobsAsked(body: Body): number | undefined {
  const top = num(body, 'top_logprobs', 0, 0, MAX_LOGPROBS, true);
  if (!bool(body, 'logprobs')) {
    if (top > 0) throw new OpenAIParamError('top_logprobs', "'top_logprobs' needs 'logprobs': true");
    return undefined;
  }
  return top;
}

/** OpenAI's completions default to 16 new tokens. */
const COMPLETION_DEFAULT_MAX_TOKENS = 16;

const isTokenIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((id) => Number.isInteger(id) && id >= 0);

/** OpenAI's four prompt forms: a string, strings, token ids, lists of token ids. */
function completionPrompts(body: Body): (string | TokenPrompt)[] {
  const prompt = body.prompt;
  if (typeof prompt === 'string') return [prompt];
  if (isTokenIds(prompt)) return [{ tokenIds: prompt }];
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((p) => typeof p === 'string')) return prompt as string[];
    if (prompt.every(isTokenIds)) return prompt.map((tokenIds) => ({ tokenIds }));
  }
  throw new OpenAIParamError(
    'prompt',
    "'prompt' must be a string, a non-empty list of strings, a non-empty list of token ids (integers >= 0), or a list of such lists",
  );
}

export function parseCompletion(value: unknown, defaults: SamplingDefaults = {}): CompletionRequest {
  const body = asBody(value);
  refuseStructured(body);
  const prompts = completionPrompts(body);
  const echo = bool(body, 'echo');
  const logprobs = completionLogprobsAsked(body);
  // The echo of a token-id prompt and the prompt's log-probabilities come with the result, not before it.
  if (echo && bool(body, 'stream') && (logprobs !== undefined || prompts.some((p) => typeof p !== 'string'))) {
    throw new OpenAIParamError('stream', "'echo' with 'logprobs' or with a token-id prompt is answered whole: set 'stream' to false");
  }
  const maxTokens = capped(optionalInt(body, 'max_tokens', 0) ?? COMPLETION_DEFAULT_MAX_TOKENS, defaults)!;
  return {
    model: modelName(body),
    prompts,
    maxTokens,
    echo,
    ...sampling(body, maxTokens, logprobs, defaults),
  };
}

export interface ChatRequest extends SamplingFields {
  model: string;
  messages: ChatMessage[];
  /** Undefined: whatever max_model_len leaves after the prompt. */
  maxTokens?: number;
}

function messageText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  // The parts form: only text parts can reach a text model.
  if (
    Array.isArray(content) &&
    content.every((p) => typeof p === 'object' && p !== null && (p as Body).type === 'text' && typeof (p as Body).text === 'string')
  ) {
    return content.map((p) => (p as Body).text as string).join('');
  }
  throw new OpenAIParamError(`messages[${i}].content`, `'messages[${i}].content' must be a string or a list of text parts`);
}

export function parseChat(value: unknown, defaults: SamplingDefaults = {}): ChatRequest {
  const body = asBody(value);
  refuseStructured(body);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new OpenAIParamError('messages', "'messages' must be a non-empty list of {role, content}");
  const parsed = messages.map((m, i): ChatMessage => {
    if (typeof m !== 'object' || m === null || typeof (m as Body).role !== 'string') {
      throw new OpenAIParamError(`messages[${i}]`, `'messages[${i}]' must be an object with a string 'role' and 'content'`);
    }
    return { role: (m as Body).role as string, content: messageText((m as Body).content, i) };
  });
  const maxTokens = capped(optionalInt(body, 'max_completion_tokens', 0) ?? optionalInt(body, 'max_tokens', 0), defaults);
  return {
    model: modelName(body),
    messages: parsed,
    maxTokens,
    ...sampling(body, maxTokens, chatLogprobsAsked(body), defaults),
  };
}

export interface EmbeddingRequest {
  model: string;
  input: string[];
  encoding: 'float' | 'base64';
  dimensions?: number;
}

export function parseEmbedding(value: unknown): EmbeddingRequest {
  const body = asBody(value);
  const input = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(input) || input.length === 0 || !input.every((s) => typeof s === 'string')) {
    throw new OpenAIParamError('input', "'input' must be a string or a non-empty list of strings (token-id inputs are not supported)");
  }
  const encoding = body.encoding_format ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64')
    throw new OpenAIParamError('encoding_format', `'encoding_format' must be 'float' or 'base64', got ${JSON.stringify(encoding)}`);
  return { model: modelName(body), input: input as string[], encoding, dimensions: optionalInt(body, 'dimensions', 1) };
}
