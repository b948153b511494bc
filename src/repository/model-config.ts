/**
 * A model's settings, read from Triton's `config.pbtxt` in the model folder. Only the fields
 * tsserve acts on are interpreted; the rest are kept so they can be reported back.
 */
import type { OutputLabels } from '../core/classification.js';
import { type PbMessage, type PbValue, parsePbtxt } from './pbtxt.js';

export type VersionPolicy =
  | { kind: 'latest'; count: number }
  | { kind: 'all' }
  | { kind: 'specific'; versions: number[] };

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
  source: PbMessage;
  /** Class labels per output, from each output's `label_filename` (read with the folder). */
  outputLabels?: OutputLabels;
}

export const CONFIG_FILE = 'config.pbtxt';

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(`${CONFIG_FILE}: ${message}`);
    this.name = 'ModelConfigError';
  }
}

function one(message: PbMessage, field: string): PbValue | undefined {
  const values = message[field];
  return values?.[values.length - 1];
}

function str(message: PbMessage, field: string): string | undefined {
  const v = one(message, field);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ModelConfigError(`'${field}' must be a string`);
  return v;
}

function int(message: PbMessage, field: string, min = 0): number | undefined {
  const v = one(message, field);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ModelConfigError(`'${field}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function sub(message: PbMessage, field: string): PbMessage | undefined {
  const v = one(message, field);
  if (v === undefined) return undefined;
  if (typeof v !== 'object') throw new ModelConfigError(`'${field}' must be a message { ... }`);
  return v;
}

function messages(message: PbMessage, field: string): PbMessage[] {
  return (message[field] ?? []).map((v) => {
    if (typeof v !== 'object') throw new ModelConfigError(`'${field}' must hold messages { ... }`);
    return v;
  });
}

function readParameters(config: PbMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of messages(config, 'parameters')) {
    const key = str(entry, 'key');
    const value = sub(entry, 'value');
    if (key === undefined || value === undefined) {
      throw new ModelConfigError("each 'parameters' entry needs a key and a value { string_value: ... }");
    }
    out[key] = str(value, 'string_value') ?? '';
  }
  return out;
}

function readVersionPolicy(config: PbMessage): VersionPolicy {
  const policy = sub(config, 'version_policy');
  if (!policy) return { kind: 'latest', count: 1 };
  if (policy['all']) return { kind: 'all' };
  const specific = sub(policy, 'specific');
  if (specific) {
    const versions = (specific['versions'] ?? []).map((v) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ModelConfigError("'versions' must be integers");
      return v;
    });
    return { kind: 'specific', versions };
  }
  const latest = sub(policy, 'latest');
  return { kind: 'latest', count: (latest && int(latest, 'num_versions', 1)) ?? 1 };
}

function readDynamicBatching(config: PbMessage, maxBatchSize: number): DynamicBatchingConfig | undefined {
  const batching = sub(config, 'dynamic_batching');
  if (!batching) return undefined;
  if (maxBatchSize <= 0) throw new ModelConfigError("'dynamic_batching' needs 'max_batch_size' > 0");
  const policy = sub(batching, 'default_queue_policy') ?? {};
  const preferred = (batching['preferred_batch_size'] ?? []).map((v) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > maxBatchSize) {
      throw new ModelConfigError(`'preferred_batch_size' values must be integers in [1, max_batch_size=${maxBatchSize}], got ${JSON.stringify(v)}`);
    }
    return v;
  });
  return {
    maxQueueDelayUs: int(batching, 'max_queue_delay_microseconds') ?? 0,
    preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
    maxQueueSize: int(policy, 'max_queue_size') ?? 0,
    defaultTimeoutUs: int(policy, 'default_timeout_microseconds') ?? 0,
  };
}

function readDevice(groups: PbMessage[]): ModelConfig['device'] {
  const group = groups[0];
  const kind = group && str(group, 'kind');
  if (!group || kind === undefined || kind === 'KIND_AUTO') return undefined;
  if (kind === 'KIND_CPU') return { kind: 'cpu' };
  if (kind !== 'KIND_GPU') throw new ModelConfigError(`instance_group kind ${kind} is not supported; use KIND_CPU, KIND_GPU or KIND_AUTO`);
  const gpus = group['gpus'] ?? [0];
  const deviceId = gpus[0];
  if (typeof deviceId !== 'number' || !Number.isInteger(deviceId) || deviceId < 0) throw new ModelConfigError("'gpus' must list GPU ids");
  return { kind: 'gpu', deviceId };
}

function readThreadParameter(parameters: Record<string, string>, key: string): number | undefined {
  const raw = parameters[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ModelConfigError(`parameter '${key}' must be an integer >= 0, got '${raw}'`);
  return n === 0 ? undefined : n;
}

export function parseModelConfig(text: string): ModelConfig {
  let source: PbMessage;
  try {
    source = parsePbtxt(text);
  } catch (error) {
    throw new ModelConfigError((error as Error).message);
  }
  const groups = messages(source, 'instance_group');
  const parameters = readParameters(source);
  const maxBatchSize = int(source, 'max_batch_size') ?? 0;
  return {
    name: str(source, 'name'),
    runtime: str(source, 'platform') ?? str(source, 'backend'),
    maxBatchSize,
    dynamicBatching: readDynamicBatching(source, maxBatchSize),
    instanceCount: groups.length ? groups.reduce((n, g) => n + (int(g, 'count', 1) ?? 1), 0) : undefined,
    device: readDevice(groups),
    intraOpThreads: readThreadParameter(parameters, 'intra_op_thread_count'),
    interOpThreads: readThreadParameter(parameters, 'inter_op_thread_count'),
    versionPolicy: readVersionPolicy(source),
    defaultModelFilename: str(source, 'default_model_filename'),
    parameters,
    source,
  };
}

export const DEFAULT_CONFIG: ModelConfig = {
  maxBatchSize: 0,
  versionPolicy: { kind: 'latest', count: 1 },
  parameters: {},
  source: {},
};
