/**
 * Hugging Face model folders (config.json, tokenizer files, onnx/model*.onnx) on
 * transformers.js, strictly offline: remote models are disabled before anything loads, so a
 * missing file is a load error and never a download. Runs inside a pool worker, like the
 * ONNX adapter; one worker holds one tokenizer and one model.
 */
import { basename, dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
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
import type { LoadedModel, Runtime, RuntimeOptions, SamplingDefaults } from '../../src/core/runtime.js';
import { type HfConfig, onnxFile, pickDtype, readGenerationConfig, readHfFolder } from './hf-folder.js';
import { HfConfigError, parseHfOptions } from './hf-options.js';
import { HfModel } from './hf-model.js';
import { checkTaskFits, inferTask, resolveMaxModelLen } from './hf-tasks.js';
import { Generator } from './generation.js';
import { buildEngine } from './engine/build-engine.js';
import { type PastTokens, openCausalDecoder } from './engine/step-session.js';
import { loadSamplingDefaults } from './sampling-defaults.js';
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
 * step leaves them idle while it writes the new K/V columns and samples, and on a small node
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

/** Generation feeds only the newest token from step 2 on: it needs the cache. */
function requireKvCache(sessions: Record<string, ort.InferenceSession>, task: TextTask, dir: string): void {
  const decoder = task === 'text2text_generation' ? 'decoder_model_merged' : 'model';
  const names = sessions[decoder]?.inputNames ?? [];
  if (!names.some((n) => n.startsWith('past_key_values.'))) {
    throw new HfConfigError(
      `${task} needs a decoder exported with a KV cache (past_key_values.* inputs, present.* outputs); ` +
        `the ${decoder} graph in ${dir} takes only ${names.join(', ')}`,
    );
  }
}

type EosId = number | number[] | null | undefined;

function eosList(eos: EosId): number[] {
  if (eos === undefined || eos === null) return [];
  return Array.isArray(eos) ? eos : [eos];
}

/** A model's ONNX sessions, and what else loading it gives. */
interface OpenedModel {
  /** transformers.js's model, for every task but decoder-only generation. */
  model?: PreTrainedModel;
  sessions: Record<string, ort.InferenceSession>;
  /** For decoder-only generation: where its graph reads each row's tokens in the past. */
  pastTokens?: PastTokens;
  eosIds: number[];
  release: () => Promise<void>;
}

async function openWithTransformers(
  id: string,
  task: TextTask,
  dtype: string,
  sessionOptions: ort.InferenceSession.SessionOptions,
): Promise<OpenedModel> {
  const model = await MODEL_CLASS[task].from_pretrained(id, {
    local_files_only: true,
    device: 'cpu',
    dtype: dtype as never,
    session_options: sessionOptions,
  });
  const generation = (model as unknown as { generation_config?: { eos_token_id?: EosId } }).generation_config;
  return {
    model,
    sessions: (model as unknown as { sessions: Record<string, ort.InferenceSession> }).sessions,
    eosIds: eosList(generation?.eos_token_id ?? (model.config as unknown as { eos_token_id?: EosId }).eos_token_id),
    release: async () => {
      await model.dispose();
    },
  };
}

/**
 * A decoder-only generative model: the engine opens its graph itself (step-session.ts), with the
 * outputs it steps with, so the weights are loaded once; eos ids as transformers.js reads them.
 */
async function openCausal(
  dir: string,
  dtype: string,
  config: HfConfig,
  sessionOptions: ort.InferenceSession.SessionOptions,
): Promise<OpenedModel> {
  const generation = await readGenerationConfig(dir);
  const { session, pastTokens } = await openCausalDecoder(join(dir, onnxFile('model', dtype)), {
    ...sessionOptions,
    executionProviders: ['cpu'],
  });
  return {
    sessions: { model: session },
    pastTokens,
    eosIds: eosList((generation['eos_token_id'] ?? config['eos_token_id']) as EosId),
    release: () => session.release(),
  };
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
    const opened =
      task === 'text_generation'
        ? await openCausal(modelDir, dtype, folder.config, sessionOptions)
        : await openWithTransformers(id, task, dtype, sessionOptions);
    try {
      let generator: Generator | undefined;
      let cache;
      let sampling: SamplingDefaults | undefined;
      if (generative) {
        sampling = await loadSamplingDefaults(hf.generationConfig, modelDir);
        requireKvCache(opened.sessions, task, modelDir);
        const built = buildEngine({
          task,
          sessions: opened.sessions,
          pastTokens: opened.pastTokens,
          config: folder.config,
          options: hf.engine,
          maxModelLen,
          eosIds: opened.eosIds,
          runtime: options,
        });
        cache = built.cache;
        const limits = {
          maxModelLen,
          eosIds: opened.eosIds,
          encoderDecoder: task === 'text2text_generation',
          vocabSize: Number(folder.config['vocab_size'] ?? Number.POSITIVE_INFINITY),
        };
        generator = new Generator(tokenizer, built.engine, limits);
      }
      const { model, release } = opened;
      return new HfModel({
        task,
        options: hf,
        config: folder.config,
        tokenizer,
        model,
        release,
        maxModelLen,
        generator,
        cache,
        samplingDefaults: sampling,
      });
    } catch (error) {
      await opened.release();
      throw error;
    }
  },
};
