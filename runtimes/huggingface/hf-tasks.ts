/** Which task a model folder serves, and the tensors each task shows over v2 and V1. */
import type { IndexKeyed } from '../../src/core/inference.js';
import type { TensorSpec } from '../../src/core/tensor.js';
import type { TextTask } from '../../src/core/runtime.js';
import type { HfConfig } from './hf-folder.js';
import { HfConfigError, type HfOptions, TASKS } from './hf-options.js';

/** KServe's suffix table (huggingfaceserver task.py), for the tasks tsserve serves. */
const BY_SUFFIX: [string, TextTask][] = [
  ['ForSequenceClassification', 'sequence_classification'],
  ['ForTokenClassification', 'token_classification'],
  ['ForMaskedLM', 'fill_mask'],
  ['ForCausalLM', 'text_generation'],
  ['LMHeadModel', 'text_generation'],
];

export function inferTask(config: HfConfig): TextTask {
  const arch = config.architectures?.[0];
  if (!arch) throw new HfConfigError('config.json has no architectures to infer the task from; set --task');
  // T5ForConditionalGeneration, BartForConditionalGeneration...: KServe maps these to
  // AutoModelForSeq2SeqLM, i.e. text2text_generation.
  if (config.is_encoder_decoder === true && arch.endsWith('ForConditionalGeneration')) return 'text2text_generation';
  for (const [suffix, task] of BY_SUFFIX) if (arch.endsWith(suffix)) return task;
  // A bare encoder (BertModel, XLMRobertaModel...) has no head: embeddings are all it gives.
  // KServe asks for --task text_embedding here; this is the only sensible reading.
  if (/[a-z0-9]Model$/i.test(arch) && !arch.includes('For')) return 'text_embedding';
  throw new HfConfigError(`the task cannot be inferred from architecture '${arch}'; set --task (one of ${TASKS.join(', ')})`);
}

/** Refuses a task the model's shape cannot serve, before transformers.js fails less clearly. */
export function checkTaskFits(task: TextTask, config: HfConfig): void {
  const seq2seq = config.is_encoder_decoder === true;
  const arch = config.architectures?.[0] ?? config.model_type ?? 'this model';
  if (task === 'text2text_generation' && !seq2seq) {
    throw new HfConfigError(
      `text2text_generation needs an encoder-decoder model (config.json "is_encoder_decoder": true, e.g. T5 or BART); ${arch} is not one`,
    );
  }
  // Encoder-decoder classifiers (BartForSequenceClassification) are fine; a causal LM head is not.
  if (task === 'text_generation' && seq2seq) {
    throw new HfConfigError(`${arch} is an encoder-decoder model: it serves text2text_generation, not text_generation`);
  }
}

/** The model's own token limit. */
export function modelLimit(config: HfConfig, tokenizerMaxLength: number | undefined): number | undefined {
  for (const key of ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_seq_len']) {
    const v = config[key];
    if (typeof v === 'number' && v > 0) return v;
  }
  return tokenizerMaxLength;
}

export function resolveMaxModelLen(config: HfConfig, tokenizerMaxLength: number | undefined, wanted: number | undefined): number {
  const limit = modelLimit(config, tokenizerMaxLength);
  if (wanted === undefined) {
    if (limit === undefined) throw new HfConfigError('the model states no token limit (max_position_embeddings); set --max_model_len');
    return limit;
  }
  // As KServe: going past the model's positions needs an explicit opt-in.
  if (limit !== undefined && wanted > limit && process.env.ALLOW_LONG_MAX_MODEL_LEN !== '1') {
    throw new HfConfigError(
      `max_model_len ${wanted} exceeds the model's limit of ${limit} tokens (set ALLOW_LONG_MAX_MODEL_LEN=1 to allow it)`,
    );
  }
  return wanted;
}

export const TEXT_INPUT: TensorSpec = { name: 'text', datatype: 'BYTES', shape: [-1] };

/** The optional per-position score tensors: KServe's --return_probabilities / --return_raw_logits. */
function scoreSpecs(options: HfOptions, shape: number[]): TensorSpec[] {
  if (options.returnProbabilities) return [{ name: 'probabilities', datatype: 'FP32', shape }];
  if (options.returnRawLogits) return [{ name: 'logits', datatype: 'FP32', shape }];
  return [];
}

/** KServe huggingfaceserver's one output, as its v2 answer names it. */
export const KSERVE_OUTPUT = 'output-0';

/**
 * `output-0`: what KServe's huggingfaceserver answers (encoder_model.py). sequence_classification:
 * the argmax per text, or with the flags {index: probability (4 decimals)} / {index: logit} per
 * text; token_classification: the argmax per token as [N, 1, S] (its extra nesting), or per token
 * {index: probability} / {index: logit}; fill_mask: the decoded best tokens per text, or per mask
 * a list of {token id: probability as a "0.1234" string} / {token id: logit}.
 */
function kserveSpec(task: TextTask, options: HfOptions, numLabels: number, vocabSize: number): TensorSpec | undefined {
  const scores = options.returnProbabilities || options.returnRawLogits;
  const name = KSERVE_OUTPUT;
  switch (task) {
    case 'sequence_classification':
      if (!scores) return { name, datatype: 'INT64', shape: [-1] };
      return { name, datatype: options.returnProbabilities ? 'FP64' : 'FP32', shape: [-1, numLabels] };
    case 'token_classification':
      if (!scores) return { name, datatype: 'INT64', shape: [-1, 1, -1] };
      return { name, datatype: options.returnProbabilities ? 'FP64' : 'FP32', shape: [-1, -1, numLabels] };
    case 'fill_mask':
      if (!scores) return { name, datatype: 'BYTES', shape: [-1] };
      return { name, datatype: options.returnProbabilities ? 'BYTES' : 'FP32', shape: [-1, -1, vocabSize] };
    default:
      return undefined;
  }
}

/** How V1 prints output-0 when the flags make it KServe's dicts. */
export function kserveIndexKeyed(task: TextTask, options: HfOptions): Record<string, IndexKeyed> | undefined {
  if (!options.returnProbabilities && !options.returnRawLogits) return undefined;
  if (task === 'sequence_classification' || task === 'token_classification') return { [KSERVE_OUTPUT]: 'map' };
  if (task === 'fill_mask') return { [KSERVE_OUTPUT]: 'entries' };
  return undefined;
}

/** What a request naming no outputs gets: KServe's output-0, or with hf_rich_outputs tsserve's named outputs. */
export function defaultOutputs(task: TextTask, options: HfOptions, specs: readonly TensorSpec[]): string[] | undefined {
  if (task === 'text_embedding') return [EMBEDDING_OUTPUT];
  if (!specs.some((s) => s.name === KSERVE_OUTPUT)) return undefined;
  return options.richOutputs ? specs.filter((s) => s.name !== KSERVE_OUTPUT).map((s) => s.name) : [KSERVE_OUTPUT];
}

/** The outputs of a text_embedding model, named as KServe's huggingfaceserver names the first. */
export const EMBEDDING_OUTPUT = 'embedding';
export const TOKEN_COUNT_OUTPUT = 'token_count';

export function outputSpecs(task: TextTask, options: HfOptions, hiddenSize: number, numLabels: number, vocabSize: number): TensorSpec[] {
  const kserve = kserveSpec(task, options, numLabels, vocabSize);
  return [...(kserve ? [kserve] : []), ...namedOutputSpecs(task, options, hiddenSize, numLabels, vocabSize)];
}

/** tsserve's own outputs, which a request names (or hf_rich_outputs makes the default). */
function namedOutputSpecs(task: TextTask, options: HfOptions, hiddenSize: number, numLabels: number, vocabSize: number): TensorSpec[] {
  switch (task) {
    case 'text_embedding':
      // token_count: tokens each text became after truncation (OpenAI's usage, through the batcher too).
      return [
        { name: EMBEDDING_OUTPUT, datatype: 'FP32', shape: [-1, hiddenSize] },
        { name: TOKEN_COUNT_OUTPUT, datatype: 'INT64', shape: [-1] },
      ];
    case 'sequence_classification': {
      const specs: TensorSpec[] = [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'label_name', datatype: 'BYTES', shape: [-1] },
        { name: 'score', datatype: 'FP32', shape: [-1] },
      ];
      if (options.returnProbabilities) specs.push({ name: 'probabilities', datatype: 'FP32', shape: [-1, numLabels] });
      if (options.returnRawLogits) specs.push({ name: 'logits', datatype: 'FP32', shape: [-1, numLabels] });
      return specs;
    }
    case 'token_classification':
      return [
        { name: 'label', datatype: 'INT64', shape: [-1, -1] },
        { name: 'label_name', datatype: 'BYTES', shape: [-1, -1] },
        { name: 'score', datatype: 'FP32', shape: [-1, -1] },
        { name: 'token_id', datatype: 'INT64', shape: [-1, -1] },
        ...scoreSpecs(options, [-1, -1, numLabels]),
      ];
    case 'fill_mask':
      return [
        { name: 'predicted', datatype: 'BYTES', shape: [-1] },
        { name: 'token_id', datatype: 'INT64', shape: [-1, -1] },
        { name: 'score', datatype: 'FP32', shape: [-1, -1] },
        ...scoreSpecs(options, [-1, -1, vocabSize]),
      ];
    case 'text_generation':
    case 'text2text_generation':
      return [
        { name: 'generated_text', datatype: 'BYTES', shape: [-1] },
        { name: 'generated_token_ids', datatype: 'INT64', shape: [-1, -1] },
      ];
  }
}
