/**
 * The sampling defaults a model's creator recommends in its generation_config.json, as vLLM reads
 * them with `--generation-config auto` (its default): temperature, top_p, top_k, min_p,
 * repetition_penalty and max_new_tokens, each where the file sets it to other than Hugging Face's
 * own default (vLLM compares against those, so a file that restates top_k 50 changes nothing).
 * The OpenAI routes use them for the fields a request leaves out; max_new_tokens caps max_tokens.
 */
import type { SamplingDefaults } from '../../src/core/runtime.js';
import { HfConfigError } from './hf-options.js';
import { readGenerationConfig } from './hf-folder.js';

/** Hugging Face GenerationConfig's defaults for the fields vLLM reads (undefined: none). */
const HF_DEFAULTS = {
  temperature: 1,
  top_p: 1,
  top_k: 50,
  min_p: undefined,
  repetition_penalty: 1,
  max_new_tokens: undefined,
} as const;

const FIELDS: Record<keyof typeof HF_DEFAULTS, keyof SamplingDefaults> = {
  temperature: 'temperature',
  top_p: 'topP',
  top_k: 'topK',
  min_p: 'minP',
  repetition_penalty: 'repetitionPenalty',
  max_new_tokens: 'maxTokens',
};

export function samplingDefaults(generationConfig: Record<string, unknown>): SamplingDefaults {
  const defaults: SamplingDefaults = {};
  for (const [key, field] of Object.entries(FIELDS) as [keyof typeof HF_DEFAULTS, keyof SamplingDefaults][]) {
    const value = generationConfig[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value === HF_DEFAULTS[key]) continue;
    // top_k 0 and below mean "all tokens" in both Hugging Face and vLLM.
    defaults[field] = key === 'top_k' ? Math.max(0, value) : value;
  }
  return defaults;
}

/**
 * `--generation_config`: `auto` reads the model folder's generation_config.json, `vllm` none
 * (the OpenAI defaults), anything else is a folder holding one.
 */
export async function loadSamplingDefaults(setting: string, modelDir: string): Promise<SamplingDefaults> {
  if (setting === 'vllm') return {};
  if (setting === 'auto') return samplingDefaults(await readGenerationConfig(modelDir));
  const config = await readGenerationConfig(setting);
  if (!Object.keys(config).length) {
    throw new HfConfigError(`--generation_config ${setting} has no generation_config.json; give auto, vllm or a folder that holds one`);
  }
  return samplingDefaults(config);
}
