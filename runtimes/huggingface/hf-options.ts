/**
 * The Hugging Face runtime's settings, read from RuntimeOptions.parameters: the server's flags
 * (--task, --max_model_len, --dtype, ...) overlaid by a model's config.pbtxt `parameters`.
 */
import { declared, parseBoolean } from '../../src/core/flags.js';
import type { TextTask } from '../../src/core/runtime.js';
import { HF_FLAGS } from './hf-flags.js';

export type Pooling = 'mean' | 'cls';

export interface HfOptions {
  /** Undefined: inferred from config.json's architectures. */
  task?: TextTask;
  /** Undefined: the model's own limit (max_position_embeddings). */
  maxModelLen?: number;
  /** transformers.js dtype, which picks the ONNX file variant; undefined: the first present. */
  dtype?: string;
  returnProbabilities: boolean;
  returnRawLogits: boolean;
  /** Requests naming no outputs get tsserve's named outputs rather than KServe's `output-0`. */
  richOutputs: boolean;
  pooling: Pooling;
  normalize: boolean;
  engine: EngineOptions;
  /** `--generation_config`: auto, vllm, or a folder holding a generation_config.json. */
  generationConfig: string;
}

/** The generation engine's limits (vLLM's flag names); 0 means "derive it". */
export interface EngineOptions {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  kvCacheMemoryBytes: number;
  enablePrefixCaching: boolean;
  maxQueueSize: number;
}

export class HfConfigError extends Error {
  override name = 'HfConfigError';
}

export const TASKS: readonly TextTask[] = [
  'text_embedding',
  'sequence_classification',
  'token_classification',
  'fill_mask',
  'text_generation',
  'text2text_generation',
];
/** KServe's task names that tsserve does not serve (yet), so the refusal can say so. */
const UNSUPPORTED_TASKS = ['time_series_forecast', 'question_answering', 'table_question_answering', 'multiple_choice'];

/** KServe's --dtype values (torch names) and transformers.js's, to transformers.js's. */
const DTYPES: Record<string, string> = {
  fp32: 'fp32',
  float32: 'fp32',
  float: 'fp32',
  fp16: 'fp16',
  float16: 'fp16',
  half: 'fp16',
  q8: 'q8',
  int8: 'int8',
  uint8: 'uint8',
  q4: 'q4',
  q4f16: 'q4f16',
  bnb4: 'bnb4',
};

/** A declared bool flag's value from the parameters, or its declared default when absent. */
function bool(raw: string | undefined, key: string): boolean {
  if (raw === undefined || raw === '') return declared(HF_FLAGS, key).default as boolean;
  const value = parseBoolean(raw);
  if (value !== undefined) return value;
  throw new HfConfigError(`parameter '${key}' must be true or false, got '${raw}'`);
}

function parseTask(raw: string | undefined): TextTask | undefined {
  if (raw === undefined || raw === '' || raw === 'auto') return undefined;
  const task = raw.trim().toLowerCase().replace(/-/g, '_');
  if ((TASKS as readonly string[]).includes(task)) return task as TextTask;
  if (UNSUPPORTED_TASKS.includes(task))
    throw new HfConfigError(`task '${task}' is not supported by tsserve; supported: ${TASKS.join(', ')}`);
  throw new HfConfigError(`unknown task '${raw}'; expected one of ${TASKS.join(', ')}`);
}

function parseDtype(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '' || raw === 'auto') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'bfloat16' || v === 'bf16')
    throw new HfConfigError("dtype 'bfloat16' has no ONNX file variant in transformers.js; use fp32, fp16 or q8");
  const dtype = DTYPES[v];
  if (!dtype) throw new HfConfigError(`unknown dtype '${raw}'; expected auto, ${Object.keys(DTYPES).join(', ')}`);
  return dtype;
}

/** A declared int flag's value from the parameters, or its declared default when absent. */
function count(parameters: Record<string, string>, key: string): number {
  const raw = parameters[key];
  if (raw === undefined || raw === '') return declared(HF_FLAGS, key).default as number;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new HfConfigError(`parameter '${key}' must be a non-negative integer, got '${raw}'`);
  return n;
}

function engineOptions(parameters: Record<string, string>): EngineOptions {
  const options = {
    maxNumSeqs: count(parameters, 'max_num_seqs'),
    maxNumBatchedTokens: count(parameters, 'max_num_batched_tokens'),
    kvCacheMemoryBytes: count(parameters, 'kv_cache_memory_bytes'),
    enablePrefixCaching: bool(parameters['enable_prefix_caching'], 'enable_prefix_caching'),
    maxQueueSize: count(parameters, 'max_queue_size'),
  };
  if (options.maxNumSeqs < 1) throw new HfConfigError("parameter 'max_num_seqs' must be at least 1");
  // vLLM's default for chunked prefill, raised so that every running sequence fits a step.
  if (options.maxNumBatchedTokens === 0) options.maxNumBatchedTokens = Math.max(2048, options.maxNumSeqs);
  if (options.maxNumBatchedTokens < options.maxNumSeqs) {
    throw new HfConfigError(
      `max_num_batched_tokens (${options.maxNumBatchedTokens}) must be at least max_num_seqs (${options.maxNumSeqs}): every running sequence needs a token per step`,
    );
  }
  return options;
}

export function parseHfOptions(parameters: Record<string, string>): HfOptions {
  const rawLen = parameters['max_model_len'];
  let maxModelLen: number | undefined;
  if (rawLen !== undefined && rawLen !== '' && rawLen !== '0') {
    maxModelLen = Number(rawLen);
    if (!Number.isInteger(maxModelLen) || maxModelLen < 1)
      throw new HfConfigError(`parameter 'max_model_len' must be a positive integer, got '${rawLen}'`);
  }
  const pooling = (parameters['pooling'] ?? (declared(HF_FLAGS, 'pooling').default as string)).trim().toLowerCase();
  if (pooling !== 'mean' && pooling !== 'cls')
    throw new HfConfigError(`parameter 'pooling' must be mean or cls, got '${parameters['pooling']}'`);
  const options: HfOptions = {
    task: parseTask(parameters['task']),
    maxModelLen,
    dtype: parseDtype(parameters['dtype']),
    returnProbabilities: bool(parameters['return_probabilities'], 'return_probabilities'),
    returnRawLogits: bool(parameters['return_raw_logits'], 'return_raw_logits'),
    richOutputs: bool(parameters['hf_rich_outputs'], 'hf_rich_outputs'),
    pooling,
    normalize: bool(parameters['normalize'], 'normalize'),
    engine: engineOptions(parameters),
    generationConfig: (parameters['generation_config'] || (declared(HF_FLAGS, 'generation_config').default as string)).trim(),
  };
  if (options.returnProbabilities && options.returnRawLogits) {
    throw new HfConfigError('return_probabilities and return_raw_logits cannot both be set (as in KServe)');
  }
  return options;
}
