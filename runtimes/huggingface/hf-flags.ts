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
  // The generation engine (vLLM's flag names).
  {
    name: 'max_num_seqs',
    env: ['TSSERVE_MAX_NUM_SEQS'],
    type: 'int',
    default: 256,
    help: 'Sequences a generation engine runs together per step; 1 turns continuous batching off (one sequence per worker, --workers workers)',
  },
  {
    name: 'max_num_batched_tokens',
    env: ['TSSERVE_MAX_NUM_BATCHED_TOKENS'],
    type: 'int',
    default: 0,
    help: 'Tokens one engine step may process (longer prompts are prefilled in chunks); 0 is max(2048, max_num_seqs)',
  },
  {
    name: 'kv_cache_memory_bytes',
    env: ['TSSERVE_KV_CACHE_MEMORY_BYTES'],
    type: 'int',
    default: 0,
    help: "KV-cache budget per engine in bytes; 0 is max_num_seqs full-length sequences, at most a quarter of the machine's (or container's) memory",
  },
  {
    name: 'enable_prefix_caching',
    env: ['TSSERVE_ENABLE_PREFIX_CACHING'],
    type: 'bool',
    default: true,
    help: "Keep the KV of prompts' leading 16-token blocks (LRU, within the budget) so prompts sharing them skip their prefill",
  },
  {
    name: 'generation_config',
    env: ['TSSERVE_GENERATION_CONFIG'],
    type: 'string',
    default: 'auto',
    help: "Sampling defaults of the OpenAI routes (vLLM's --generation-config): auto takes temperature, top_p, top_k, min_p, repetition_penalty and max_new_tokens (a max_tokens cap) from the model's generation_config.json; vllm takes none; or a folder with a generation_config.json",
  },
  {
    name: 'max_queue_size',
    env: ['TSSERVE_MAX_QUEUE_SIZE'],
    type: 'int',
    default: 256,
    help: 'Requests waiting for a generation engine before new ones get 503 / UNAVAILABLE at once; 0 is unbounded',
  },
] as const satisfies readonly FlagDeclaration[];
