/**
 * An engine for a loaded generative model: the decoder adapter over its ONNX sessions (one copy
 * of the weights), and the limits its flags and KV-cache budget allow.
 */
import { totalmem } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { EngineGauges } from '../../../src/core/engine-gauges.js';
import type { RuntimeOptions, TextModelInfo } from '../../../src/core/runtime.js';
import type { HfConfig } from '../hf-folder.js';
import { HfConfigError, type EngineOptions } from '../hf-options.js';
import { CAUSAL_INPUTS, CausalDecoder } from './causal-decoder.js';
import type { Decoder } from './decoder.js';
import { Engine } from './engine.js';
import { bytesPerToken, kvShape } from './kv-cost.js';
import type { KvLayout } from './kv-batch.js';
import { Seq2SeqDecoder } from './seq2seq-decoder.js';
import { NEW_COLUMN_INDEX, type PastTokens } from './step-session.js';

/** vLLM's block size: prefix caching and the budget count KV in blocks of this many tokens. */
export const BLOCK_SIZE = 16;
/** Model types whose graphs count positions from 1, as transformers.js feeds them. */
const POSITIONS_FROM_ONE = new Set(['gemma3_text', 'gemma3', 'paligemma']);

/** Logits a scored prompt's prefill run may return: its chunk is this over a vocabulary's worth of floats. */
const SCORE_LOGITS_BYTES = 64 * 2 ** 20;

/**
 * Logits a prefill run of a graph without num_logits_to_keep may answer. They are a
 * vocabulary's worth of floats per prompt token, held by onnxruntime and copied once more into
 * JavaScript: 2048 tokens of a 151,936-token vocabulary are 1.2 GB each. Runs of this size
 * still take hundreds of tokens of a large vocabulary, whose compute outweighs a run's fixed cost.
 */
const PREFILL_LOGITS_BYTES = 256 * 2 ** 20;

/** Prompt tokens one prefill run may feed: bounded where the run answers every position's logits. */
export function promptTokensPerRun(everyPositionLogits: boolean, vocabSize: number): number {
  return everyPositionLogits ? Math.max(1, Math.floor(PREFILL_LOGITS_BYTES / (4 * vocabSize))) : Number.POSITIVE_INFINITY;
}

/** Without --kv_cache_memory_bytes, the cache may take at most this share of the memory the process may use. */
const DEFAULT_MEMORY_SHARE = 0.25;

/** The machine's memory, or the container's limit (cgroup) when lower. */
function memoryLimit(): number {
  const constrained = process.constrainedMemory?.() || Number.POSITIVE_INFINITY;
  return Math.min(totalmem(), constrained);
}

interface Metadata {
  name: string;
  type?: string;
  shape?: (number | string)[];
}

function layoutOf(session: ort.InferenceSession, filter: (name: string) => boolean): KvLayout {
  const meta = ((session as unknown as { inputMetadata?: Metadata[] }).inputMetadata ?? []).filter((m) => filter(m.name));
  const names = session.inputNames.filter(filter);
  const shape = meta[0]?.shape ?? [];
  const heads = shape[1];
  const headSize = shape[3];
  if (!names.length || typeof heads !== 'number' || typeof headSize !== 'number') {
    throw new HfConfigError(
      `the decoder graph's past_key_values inputs (${names.join(', ') || 'none'}) do not state [batch, heads, past, head_size] with fixed heads and head size`,
    );
  }
  return { names, heads, headSize, type: meta[0]?.type === 'float16' ? 'float16' : 'float32' };
}

export interface EngineSetup {
  task: 'text_generation' | 'text2text_generation';
  /** The decoder's ONNX sessions: `model` (decoder-only, step-session.ts), or transformers.js's `model` (encoder) and `decoder_model_merged`. */
  sessions: Record<string, ort.InferenceSession>;
  /** Where a decoder-only graph reads each row's tokens in its past (step-session.ts). */
  pastTokens?: PastTokens;
  config: HfConfig;
  options: EngineOptions;
  maxModelLen: number;
  eosIds: readonly number[];
  runtime: RuntimeOptions;
}

export function buildEngine(setup: EngineSetup): { engine: Engine; cache: NonNullable<TextModelInfo['cache']> } {
  const { sessions } = setup;
  const { decoder, layout } =
    setup.task === 'text_generation' ? causal(sessions, setup.config, setup.pastTokens) : seq2seq(sessions, setup.config);
  const perToken = bytesPerToken(kvShape(setup.config, layout.type === 'float16' ? 2 : 4));
  const { options, maxModelLen } = setup;
  // An encoder-decoder sequence holds up to maxModelLen prompt (cross-attention) and generated tokens.
  const fullSequence = maxModelLen * (setup.task === 'text2text_generation' ? 2 : 1);
  const budget = options.kvCacheMemoryBytes || Math.min(options.maxNumSeqs * fullSequence * perToken, DEFAULT_MEMORY_SHARE * memoryLimit());
  const numBlocks = Math.floor(budget / (perToken * BLOCK_SIZE));
  if (numBlocks < 1) {
    throw new HfConfigError(
      `kv_cache_memory_bytes ${budget} holds no block of ${BLOCK_SIZE} tokens (${perToken * BLOCK_SIZE} bytes for this model); raise it`,
    );
  }
  const prefixCaching = options.enablePrefixCaching && decoder.prefixCaching;
  const vocabSize = Number(setup.config['vocab_size'] || 1);
  const link = setup.runtime.engineLink;
  const gauges = link ? new EngineGauges(link.buffer, link.slot) : undefined;
  const reports = link ? new BroadcastChannel(link.channel) : undefined;
  reports?.unref();
  const engine = new Engine(
    decoder,
    {
      maxNumSeqs: options.maxNumSeqs,
      maxNumBatchedTokens: options.maxNumBatchedTokens,
      maxQueueSize: options.maxQueueSize,
      blockSize: BLOCK_SIZE,
      numBlocks,
      prefixCaching,
      eosIds: setup.eosIds,
      scoreChunk: Math.max(1, Math.floor(SCORE_LOGITS_BYTES / (4 * vocabSize))),
      promptTokensPerRun: promptTokensPerRun(decoder.everyPositionLogits, vocabSize),
    },
    { gauges, finished: reports && ((stats) => reports.postMessage(stats)) },
  );
  return { engine, cache: { blockSize: BLOCK_SIZE, numBlocks, prefixCaching } };
}

function causal(
  sessions: Record<string, ort.InferenceSession>,
  config: HfConfig,
  pastTokens: PastTokens = 'masked',
): { decoder: Decoder; layout: KvLayout } {
  const session = sessions['model']!;
  const past = (n: string) => n.startsWith('past_key_values.');
  const unknown = session.inputNames.filter((n) => !past(n) && !CAUSAL_INPUTS.includes(n) && n !== NEW_COLUMN_INDEX);
  if (unknown.length) {
    throw new HfConfigError(
      `the decoder graph takes ${unknown.join(', ')}, which the generation engine does not feed; ` +
        `it feeds ${CAUSAL_INPUTS.join(', ')} and the past_key_values.* inputs (export the model without the others)`,
    );
  }
  const layout = layoutOf(session, past);
  const firstPosition = POSITIONS_FROM_ONE.has(String(config['model_type'])) ? 1 : 0;
  return { decoder: new CausalDecoder(session, layout, { firstPosition, pastTokens }), layout };
}

function seq2seq(sessions: Record<string, ort.InferenceSession>, config: HfConfig): { decoder: Decoder; layout: KvLayout } {
  const decoder = sessions['decoder_model_merged']!;
  const self = layoutOf(decoder, (n) => n.startsWith('past_key_values.') && n.includes('.decoder.'));
  const cross = layoutOf(decoder, (n) => n.startsWith('past_key_values.') && n.includes('.encoder.'));
  const hiddenMeta = ((decoder as unknown as { inputMetadata?: Metadata[] }).inputMetadata ?? []).find(
    (m) => m.name === 'encoder_hidden_states',
  );
  const hiddenSize = Number(hiddenMeta?.shape?.[2] ?? config['d_model'] ?? config['hidden_size']);
  const decoderStart = Number(config['decoder_start_token_id'] ?? config['pad_token_id'] ?? 0);
  return { decoder: new Seq2SeqDecoder(sessions['model']!, decoder, { self, cross, hiddenSize, decoderStart }), layout: self };
}
