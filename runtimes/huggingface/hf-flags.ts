/**
 * The Hugging Face runtime's flags (KServe huggingfaceserver's); a model's config.pbtxt
 * `parameters` entry of the same name wins. hf-options.ts reads them, defaults included, from here.
 */
import type { FlagDeclaration } from '../../src/core/flags.js';

export const HF_FLAGS = [
  {
    name: 'task',
    env: ['TSSERVE_TASK'],
    type: 'string',
    default: 'auto',
    help: 'Hugging Face task: text_embedding, sequence_classification, token_classification, fill_mask, text_generation or text2text_generation; auto infers it from config.json',
  },
  {
    name: 'max_model_len',
    env: ['TSSERVE_MAX_MODEL_LEN'],
    type: 'int',
    default: 0,
    help: "Most tokens per sequence; 0 is the model's own limit. Longer texts are truncated for encoders, refused for generation",
  },
  {
    name: 'dtype',
    env: ['TSSERVE_DTYPE'],
    type: 'string',
    default: 'auto',
    help: 'ONNX file variant of Hugging Face models: auto, fp32 (float32), fp16 (float16), q8',
  },
  {
    name: 'return_probabilities',
    env: ['TSSERVE_RETURN_PROBABILITIES'],
    type: 'bool',
    default: false,
    help: 'classification, token_classification and fill_mask also return the softmax of every label',
  },
  {
    name: 'return_raw_logits',
    env: ['TSSERVE_RETURN_RAW_LOGITS'],
    type: 'bool',
    default: false,
    help: 'classification, token_classification and fill_mask also return the raw logits',
  },
  {
    name: 'hf_rich_outputs',
    env: ['TSSERVE_HF_RICH_OUTPUTS'],
    type: 'bool',
    default: false,
    help: "classification, token_classification and fill_mask answer tsserve's named outputs (label, label_name, score, ...) to requests that name none, instead of KServe's output-0",
  },
  {
    name: 'pooling',
    env: ['TSSERVE_POOLING'],
    type: 'string',
    default: 'mean',
    help: 'text_embedding pooling: mean (over real tokens) or cls (first token)',
  },
  { name: 'normalize', env: ['TSSERVE_NORMALIZE'], type: 'bool', default: true, help: 'text_embedding L2-normalises each embedding' },
] as const satisfies readonly FlagDeclaration[];
