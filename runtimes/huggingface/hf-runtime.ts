/**
 * Hugging Face model folders (config.json, tokenizer files, onnx/model*.onnx) on
 * transformers.js, strictly offline: remote models are disabled before anything loads, so a
 * missing file is a load error and never a download. Runs inside a pool worker, like the
 * ONNX adapter; one worker holds one tokenizer and one model.
 */
import { basename, dirname, join } from 'node:path';
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  AutoModelForSeq2SeqLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  AutoTokenizer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  env,
} from '@huggingface/transformers';
import { isGenerative, type TextTask } from '../../src/core/runtime.js';
import type { LoadedModel, Runtime, RuntimeOptions } from '../../src/core/runtime.js';
import { onnxFile, pickDtype, readHfFolder } from './hf-folder.js';
import { HfConfigError, parseHfOptions } from './hf-options.js';
import { HfModel } from './hf-model.js';
import { checkTaskFits, inferTask, resolveMaxModelLen } from './hf-tasks.js';
import { Generator } from './generation.js';
import { buildEngine } from './engine/build-engine.js';
import { ortSeverity } from '../onnx/log-severity.js';
import { followLogLevel } from './hf-log-level.js';

const MODEL_CLASS: Record<TextTask, { from_pretrained: typeof AutoModel.from_pretrained }> = {
  text_embedding: AutoModel,
  sequence_classification: AutoModelForSequenceClassification,
  token_classification: AutoModelForTokenClassification,
  fill_mask: AutoModelForMaskedLM,
  text_generation: AutoModelForCausalLM,
  text2text_generation: AutoModelForSeq2SeqLM,
};

/**
 * onnxruntime's pool threads spin between parallel sections by default. The generation engine's
 * step leaves them idle while it copies the K/V outputs into JS and samples, and on a small node
 * the spinning then takes the core that the serving thread, the streams and V8's collector need.
 * Measured on gpt2-small, 2 cores, 16 streams: 264-289 -> 275-286 tok/s alone, and with the
 * allocator settings of the Dockerfile ~290 -> ~330-360; 1 stream: 68-72 spinning, 69-74 not.
 */
const GENERATION_SESSION = { extra: { session: { 'intra_op.allow_spinning': '0' } } };

function offline(modelDir: string): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.localModelPath = dirname(modelDir);
}

/** transformers.js's generate() feeds only the newest token from step 2 on: it needs the cache. */
function requireKvCache(model: PreTrainedModel, task: TextTask, dir: string): void {
  const decoder = task === 'text2text_generation' ? 'decoder_model_merged' : 'model';
  const session = (model as unknown as { sessions: Record<string, { inputNames: string[] }> }).sessions[decoder];
  const names = session?.inputNames ?? [];
  if (!names.some((n) => n.startsWith('past_key_values.'))) {
    throw new HfConfigError(
      `${task} needs a decoder exported with a KV cache (past_key_values.* inputs, present.* outputs); ` +
        `the ${decoder} graph in ${dir} takes only ${names.join(', ')}`,
    );
  }
}

function eosIds(model: PreTrainedModel): number[] {
  const eos =
    (model as unknown as { generation_config?: { eos_token_id?: number | number[] | null } }).generation_config?.eos_token_id ??
    (model.config as unknown as { eos_token_id?: number | number[] }).eos_token_id;
  if (eos === undefined || eos === null) return [];
  return Array.isArray(eos) ? eos : [eos];
}

export const huggingfaceRuntime: Runtime = {
  async load(modelDir: string, options: RuntimeOptions): Promise<LoadedModel> {
    const hf = parseHfOptions(options.parameters);
    const folder = await readHfFolder(modelDir);
    const task = hf.task ?? inferTask(folder.config);
    const generative = isGenerative(task);
    checkTaskFits(task, folder.config);
    const dtype = await pickDtype(modelDir, task, hf.dtype);
    const maxModelLen = resolveMaxModelLen(folder.config, folder.tokenizerMaxLength, hf.maxModelLen);
    offline(modelDir);
    const severity = ortSeverity(options.parameters);
    followLogLevel(severity);
    const id = basename(modelDir);
    const tokenizer: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
    const sessionOptions = {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: options.interOpThreads,
      logSeverityLevel: severity,
      ...(generative ? GENERATION_SESSION : {}),
    };
    const model = await MODEL_CLASS[task].from_pretrained(id, {
      local_files_only: true,
      device: 'cpu',
      dtype: dtype as never,
      session_options: sessionOptions,
    });
    try {
      let generator: Generator | undefined;
      let cache;
      if (generative) {
        requireKvCache(model, task, modelDir);
        const eos = eosIds(model);
        const built = await buildEngine({
          task,
          model,
          config: folder.config,
          options: hf.engine,
          maxModelLen,
          eosIds: eos,
          runtime: options,
          decoderFile: join(modelDir, onnxFile('model', dtype)),
          sessionOptions: { ...sessionOptions, executionProviders: ['cpu'] },
        });
        cache = built.cache;
        generator = new Generator(tokenizer, built.engine, { maxModelLen, eosIds: eos, encoderDecoder: task === 'text2text_generation' });
      }
      return new HfModel({ task, options: hf, config: folder.config, tokenizer, model, maxModelLen, generator, cache });
    } catch (error) {
      await model.dispose();
      throw error;
    }
  },
};
