/**
 * A loaded version's configuration as Triton's model configuration extension reports it: the
 * `inference.ModelConfig` message in its JSON form (snake_case names, enums by name, 64-bit
 * integers as numbers, every primitive field printed). Built once when the version loads; the
 * REST `/config` route sends it as is and the gRPC ModelConfig rpc encodes the same object, so
 * the two cannot drift.
 *
 * It is config.pbtxt completed as Triton's auto-complete would: inputs and outputs from the
 * loaded model (dims exclude the batch dim when max_batch_size > 0, and what config.pbtxt adds
 * to a tensor, such as label_filename, is kept), the version policy, and the instance groups
 * as they were placed: KIND_GPU with the GPU's id when the CUDA provider runs them, else KIND_CPU.
 */
import type { DataType, TensorSpec } from '../core/tensor.js';
import type { ModelMetadata } from '../core/runtime.js';
import { type JsonObject, normalise } from './config-schema.js';
import type { ModelConfig } from './model-config.js';

/** Where a version's instances run, as the registry placed them. */
export interface Placement {
  executionProvider: 'cpu' | 'cuda';
  deviceId: number;
}

export interface LoadedModel {
  name: string;
  config: ModelConfig;
  metadata: ModelMetadata;
  /** Model instances (worker threads) serving the version. */
  instances: number;
  placement: Placement;
}

/** Triton's name for a datatype in a model configuration: BYTES is TYPE_STRING. */
export function configDataType(datatype: DataType): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

function tensors(specs: readonly TensorSpec[], listed: unknown, batching: boolean): JsonObject[] {
  const byName = new Map((Array.isArray(listed) ? (listed as JsonObject[]) : []).map((t) => [t['name'], t]));
  return specs.map((spec) => ({
    ...byName.get(spec.name),
    name: spec.name,
    data_type: configDataType(spec.datatype),
    dims: batching ? spec.shape.slice(1) : spec.shape,
  }));
}

function instanceGroups(model: string, listed: unknown, instances: number, placement: Placement): JsonObject[] {
  const groups = Array.isArray(listed) && listed.length ? (listed as JsonObject[]) : [{ count: instances }];
  const device = placement.executionProvider === 'cuda' ? { kind: 'KIND_GPU', gpus: [placement.deviceId] } : { kind: 'KIND_CPU', gpus: [] };
  return groups.map((g, i) => ({ ...g, name: g['name'] || `${model}_${i}`, count: g['count'] || 1, ...device }));
}

export function completeModelConfig(loaded: LoadedModel): JsonObject {
  const { name, config, metadata } = loaded;
  const listed = config.proto;
  const batching = config.maxBatchSize > 0;
  return normalise({
    ...listed,
    name,
    platform: listed['platform'] || metadata.platform,
    max_batch_size: config.maxBatchSize,
    version_policy: listed['version_policy'] ?? { latest: { num_versions: 1 } },
    input: tensors(metadata.inputs, listed['input'], batching),
    output: tensors(metadata.outputs, listed['output'], batching),
    instance_group: instanceGroups(name, listed['instance_group'], loaded.instances, loaded.placement),
  });
}
