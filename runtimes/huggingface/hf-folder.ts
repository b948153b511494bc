/**
 * What a Hugging Face model folder must hold, checked before transformers.js sees it, so a
 * missing file is named in the load error rather than surfacing as a failed (and forbidden)
 * download.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HfConfigError } from './hf-options.js';

/** transformers.js's file suffix for each dtype (onnx/model<suffix>.onnx). */
const SUFFIX: Record<string, string> = {
  fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4',
};
/** The order `--dtype auto` tries. */
const AUTO_ORDER = ['fp32', 'fp16', 'q8'];

export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

export interface HfConfig {
  architectures?: string[];
  model_type?: string;
  id2label?: Record<string, string>;
  max_position_embeddings?: number;
  n_positions?: number;
  [key: string]: unknown;
}

export interface HfFolder {
  config: HfConfig;
  /** The dtype whose ONNX file is present and chosen. */
  dtype: string;
  /** model_max_length from tokenizer_config.json, if any. */
  tokenizerMaxLength?: number;
}

const exists = (path: string) => access(path).then(() => true, () => false);

async function readJson(dir: string, file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new HfConfigError(`${join(dir, file)} is not valid JSON: ${(error as Error).message}`);
  }
}

async function pickDtype(dir: string, wanted: string | undefined): Promise<string> {
  if (wanted) {
    const file = `onnx/model${SUFFIX[wanted] ?? `_${wanted}`}.onnx`;
    if (!(await exists(join(dir, file)))) throw new HfConfigError(`model folder ${dir} has no ${file}, which dtype '${wanted}' needs`);
    return wanted;
  }
  for (const dtype of AUTO_ORDER) if (await exists(join(dir, `onnx/model${SUFFIX[dtype]}.onnx`))) return dtype;
  throw new HfConfigError(`model folder ${dir} has no ONNX model: expected onnx/model.onnx (or onnx/model_fp16.onnx, onnx/model_quantized.onnx)`);
}

export async function readHfFolder(dir: string, dtype: string | undefined): Promise<HfFolder> {
  for (const file of REQUIRED_FILES) {
    if (!(await exists(join(dir, file)))) {
      throw new HfConfigError(`model folder ${dir} is missing ${file} (a Hugging Face model needs ${REQUIRED_FILES.join(', ')} and onnx/model.onnx)`);
    }
  }
  const config = (await readJson(dir, 'config.json')) as HfConfig;
  const tokenizerConfig = await readJson(dir, 'tokenizer_config.json');
  const maxLength = tokenizerConfig['model_max_length'];
  return {
    config,
    dtype: await pickDtype(dir, dtype),
    // Tokenizers without a limit store a huge sentinel (1e30); only a real limit counts.
    tokenizerMaxLength: typeof maxLength === 'number' && maxLength < 1e9 ? maxLength : undefined,
  };
}
