/**
 * What a Hugging Face model folder must hold, checked before transformers.js sees it, so a
 * missing file is named in the load error rather than surfacing as a failed (and forbidden)
 * download.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TextTask } from '../../src/core/runtime.js';
import { HfConfigError } from './hf-options.js';

/** transformers.js's file suffix for each dtype (onnx/model<suffix>.onnx). */
const SUFFIX: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};
/**
 * The order `--dtype auto` tries: full precision first, then the hub's quantized variants, since
 * many repositories (onnx-community's) hold some of them only.
 */
const AUTO_ORDER = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

export interface HfConfig {
  architectures?: string[];
  model_type?: string;
  is_encoder_decoder?: boolean;
  id2label?: Record<string, string>;
  max_position_embeddings?: number;
  n_positions?: number;
  [key: string]: unknown;
}

export interface HfFolder {
  config: HfConfig;
  /** model_max_length from tokenizer_config.json, if any. */
  tokenizerMaxLength?: number;
}

export const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function readJson(dir: string, file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new HfConfigError(`${join(dir, file)} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The ONNX graphs transformers.js loads for a task: an encoder and a merged decoder (with and
 * without the cache, under one If) to generate with an encoder-decoder model; one graph
 * otherwise, also for an encoder-decoder classifier such as BartForSequenceClassification.
 */
function onnxStems(task: TextTask): string[] {
  return task === 'text2text_generation' ? ['encoder_model', 'decoder_model_merged'] : ['model'];
}

export const onnxFile = (stem: string, dtype: string) => `onnx/${stem}${SUFFIX[dtype] ?? `_${dtype}`}.onnx`;

async function missingFiles(dir: string, stems: string[], dtype: string): Promise<string[]> {
  const missing: string[] = [];
  for (const stem of stems) if (!(await exists(join(dir, onnxFile(stem, dtype))))) missing.push(onnxFile(stem, dtype));
  return missing;
}

/** The dtype whose ONNX files for `task` are all present: `wanted`, or the first in AUTO_ORDER. */
export async function pickDtype(dir: string, task: TextTask, wanted: string | undefined): Promise<string> {
  const stems = onnxStems(task);
  if (wanted) {
    const missing = await missingFiles(dir, stems, wanted);
    if (missing.length) throw new HfConfigError(`model folder ${dir} has no ${missing.join(' or ')}, which dtype '${wanted}' needs`);
    return wanted;
  }
  for (const dtype of AUTO_ORDER) if (!(await missingFiles(dir, stems, dtype)).length) return dtype;
  const expected = stems.map((s) => onnxFile(s, 'fp32')).join(' and ');
  const variants = AUTO_ORDER.slice(1)
    .map((d) => SUFFIX[d])
    .join(', ');
  throw new HfConfigError(`model folder ${dir} has no ONNX model: expected ${expected} (or their ${variants} variants)`);
}

export async function readHfFolder(dir: string): Promise<HfFolder> {
  for (const file of REQUIRED_FILES) {
    if (!(await exists(join(dir, file)))) {
      throw new HfConfigError(
        `model folder ${dir} is missing ${file} (a Hugging Face model needs ${REQUIRED_FILES.join(', ')} and its ONNX files under onnx/)`,
      );
    }
  }
  const config = (await readJson(dir, 'config.json')) as HfConfig;
  const tokenizerConfig = await readJson(dir, 'tokenizer_config.json');
  const maxLength = tokenizerConfig['model_max_length'];
  return {
    config,
    // Tokenizers without a limit store a huge sentinel (1e30); only a real limit counts.
    tokenizerMaxLength: typeof maxLength === 'number' && maxLength < 1e9 ? maxLength : undefined,
  };
}

/** generation_config.json, which a model may leave out (then `{}`). */
export async function readGenerationConfig(dir: string): Promise<Record<string, unknown>> {
  return (await exists(join(dir, 'generation_config.json'))) ? readJson(dir, 'generation_config.json') : {};
}
