/**
 * A model's settings, read once at load from Triton's `config.pbtxt`: the text is parsed
 * against proto/model_config.proto (config-schema.ts), then the fields tsserve acts on are
 * checked and given their meaning here. The schema-read message is kept whole (`proto`), so the
 * model configuration extension reports it completed (complete-config.ts) rather than re-read.
 */
import { type JsonObject, MODEL_CONFIG, messageFromJson, readMessage } from './config-schema.js';
import { ModelConfigError } from './model-config-error.js';
import { parsePbtxt } from './pbtxt.js';
import type { OutputLabels } from '../core/classification.js';

export { CONFIG_FILE, ModelConfigError } from './model-config-error.js';

export type VersionPolicy = { kind: 'latest'; count: number } | { kind: 'all' } | { kind: 'specific'; versions: number[] };

/** Triton's `dynamic_batching { ... }`; times in microseconds, 0 meaning none. */
export interface DynamicBatchingConfig {
  maxQueueDelayUs: number;
  preferredBatchSizes: number[];
  /** Requests waiting at most; 0 is unbounded. */
  maxQueueSize: number;
  defaultTimeoutUs: number;
}

export interface ModelConfig {
  name?: string;
  /** platform or backend, e.g. "onnxruntime_onnx" or "onnxruntime". */
  runtime?: string;
  /** 0 disables batching along dim 0; otherwise the most samples one request may carry. */
  maxBatchSize: number;
  /** Sum of instance_group counts; undefined means the server default (--workers). */
  instanceCount?: number;
  /** instance_group `kind`: KIND_GPU (with `gpus: [id]`) or KIND_CPU; undefined follows the server. */
  device?: { kind: 'cpu' } | { kind: 'gpu'; deviceId: number };
  intraOpThreads?: number;
  interOpThreads?: number;
  versionPolicy: VersionPolicy;
  defaultModelFilename?: string;
  /** Present when config.pbtxt has `dynamic_batching` and max_batch_size > 0. */
  dynamicBatching?: DynamicBatchingConfig;
  /** `parameters { key: ... value: { string_value: ... } }` entries. */
  parameters: Record<string, string>;
  /** config.pbtxt as an `inference.ModelConfig` in its JSON form (snake_case, enums by name). */
  proto: JsonObject;
  /** Class labels per output, from each output's `label_filename` (read with the folder). */
  outputLabels?: OutputLabels;
}

// The schema reader (config-schema.ts) has already typed every field as the proto declares it;
// this module reads that JSON by field name, so its values are taken as the proto says they are.
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument */
type Json = Record<string, any>;

function atLeast(path: string, value: number | undefined, min: number): number | undefined {
  if (value !== undefined && value < min) throw new ModelConfigError(`'${path}' must be an integer >= ${min}, got ${value}`);
  return value;
}

function readParameters(config: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((config['parameters'] ?? {}) as Record<string, Json>)) out[key] = value['string_value'] ?? '';
  return out;
}

function readVersionPolicy(config: Json): VersionPolicy {
  const policy = config['version_policy'] as Json | undefined;
  if (!policy) return { kind: 'latest', count: 1 };
  if (policy['all']) return { kind: 'all' };
  if (policy['specific']) return { kind: 'specific', versions: policy['specific']['versions'] ?? [] };
  return { kind: 'latest', count: atLeast('version_policy.latest.num_versions', policy['latest']?.['num_versions'], 1) ?? 1 };
}

function readDynamicBatching(config: Json, maxBatchSize: number): DynamicBatchingConfig | undefined {
  const batching = config['dynamic_batching'] as Json | undefined;
  if (!batching) return undefined;
  if (maxBatchSize <= 0) throw new ModelConfigError("'dynamic_batching' needs 'max_batch_size' > 0");
  const policy = (batching['default_queue_policy'] ?? {}) as Json;
  const preferred = ((batching['preferred_batch_size'] ?? []) as number[]).map((v) => {
    if (v < 1 || v > maxBatchSize) {
      throw new ModelConfigError(
        `'preferred_batch_size' values must be integers in [1, max_batch_size=${maxBatchSize}], got ${JSON.stringify(v)}`,
      );
    }
    return v;
  });
  return {
    maxQueueDelayUs: batching['max_queue_delay_microseconds'] ?? 0,
    preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
    maxQueueSize: policy['max_queue_size'] ?? 0,
    defaultTimeoutUs: policy['default_timeout_microseconds'] ?? 0,
  };
}

function readDevice(groups: Json[]): ModelConfig['device'] {
  const group = groups[0];
  const kind = group?.['kind'] as string | undefined;
  if (!group || kind === undefined || kind === 'KIND_AUTO') return undefined;
  if (kind === 'KIND_CPU') return { kind: 'cpu' };
  if (kind !== 'KIND_GPU') throw new ModelConfigError(`instance_group kind ${kind} is not supported; use KIND_CPU, KIND_GPU or KIND_AUTO`);
  const gpus = (group['gpus'] ?? [0]) as number[];
  const deviceId = gpus[0];
  if (deviceId === undefined || deviceId < 0) throw new ModelConfigError("'instance_group[0].gpus' must list GPU ids");
  return { kind: 'gpu', deviceId };
}

function readThreadParameter(parameters: Record<string, string>, key: string): number | undefined {
  const raw = parameters[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ModelConfigError(`parameter '${key}' must be an integer >= 0, got '${raw}'`);
  return n === 0 ? undefined : n;
}

function instanceCount(groups: Json[]): number | undefined {
  if (!groups.length) return undefined;
  return groups.reduce((n: number, g, i) => n + (atLeast(`instance_group[${i}].count`, g['count'], 1) ?? 1), 0);
}

export function parseModelConfig(text: string): ModelConfig {
  let proto: JsonObject;
  try {
    proto = readMessage(MODEL_CONFIG, parsePbtxt(text));
  } catch (error) {
    if (error instanceof ModelConfigError) throw error;
    throw new ModelConfigError((error as Error).message);
  }
  return fromProto(proto);
}

/** Where a load request's config comes from, as its errors name it. */
export const CONFIG_PARAMETER = "load parameter 'config'";

/**
 * Triton's load-time override: the model configuration as JSON (a string, or an object a REST
 * client sent as is), read against the same schema and checks as config.pbtxt, which it replaces.
 */
export function parseModelConfigJson(json: string | object): ModelConfig {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new ModelConfigError(`not valid JSON (${(error as Error).message})`, CONFIG_PARAMETER);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelConfigError('must be a JSON object (an inference.ModelConfig)', CONFIG_PARAMETER);
  }
  try {
    return fromProto(readMessage(MODEL_CONFIG, messageFromJson(MODEL_CONFIG, value as Json)));
  } catch (error) {
    throw new ModelConfigError(error instanceof ModelConfigError ? error.detail : (error as Error).message, CONFIG_PARAMETER);
  }
}

function fromProto(proto: JsonObject): ModelConfig {
  const config = proto as Json;
  const groups = (config['instance_group'] ?? []) as Json[];
  const parameters = readParameters(config);
  const maxBatchSize = atLeast('max_batch_size', config['max_batch_size'], 0) ?? 0;
  return {
    name: config['name'],
    runtime: config['platform'] ?? config['backend'],
    maxBatchSize,
    dynamicBatching: readDynamicBatching(config, maxBatchSize),
    instanceCount: instanceCount(groups),
    device: readDevice(groups),
    intraOpThreads: readThreadParameter(parameters, 'intra_op_thread_count'),
    interOpThreads: readThreadParameter(parameters, 'inter_op_thread_count'),
    versionPolicy: readVersionPolicy(config),
    defaultModelFilename: config['default_model_filename'],
    parameters,
    proto,
  };
}

export const DEFAULT_CONFIG: ModelConfig = {
  maxBatchSize: 0,
  versionPolicy: { kind: 'latest', count: 1 },
  parameters: {},
  proto: {},
};
