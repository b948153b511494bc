/**
 * A model version's configuration as Triton's model configuration extension reports it: the
 * `inference.ModelConfig` message in its JSON form (snake_case names, enums by name, 64-bit
 * integers as numbers, every primitive field printed). The REST `/config` route sends it as is
 * and the gRPC ModelConfig rpc encodes the same object, so the two cannot drift.
 *
 * It starts from the model's config.pbtxt (only the fields proto/model_config.proto knows) and
 * fills in what Triton's auto-complete would: inputs and outputs from the loaded model, with
 * dims excluding the batch dim when max_batch_size > 0, the version policy and the instance
 * groups actually serving it.
 */
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { DataType, TensorSpec } from '../core/tensor.js';
import { PROTO_DIR } from '../proto-path.js';
import type { ModelMetadata } from '../../runtimes/runtime.js';
import type { ModelConfig } from './model-config.js';
import type { PbMessage, PbValue } from './pbtxt.js';

type JsonObject = Record<string, unknown>;

const root = new protobuf.Root().loadSync(join(PROTO_DIR, 'model_config.proto'), { keepCase: true });
const MODEL_CONFIG = root.lookupType('inference.ModelConfig');

/** Triton's name for a datatype in a model configuration: BYTES is TYPE_STRING. */
export function configDataType(datatype: DataType): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

function isMessage(value: PbValue | undefined): value is PbMessage {
  return typeof value === 'object' && value !== null;
}

/** One text-format value as the JSON form of `field`; undefined when it is of the wrong kind. */
function convertValue(type: string, resolved: protobuf.ReflectionObject | null, value: PbValue | undefined): unknown {
  if (resolved instanceof protobuf.Type) return isMessage(value) ? convertMessage(resolved, value) : undefined;
  if (resolved instanceof protobuf.Enum) return typeof value === 'string' || typeof value === 'number' ? value : undefined;
  if (type === 'string') return typeof value === 'string' ? value : undefined;
  if (type === 'bool') return typeof value === 'boolean' ? value : undefined;
  if (type === 'bytes') return undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Text format has no schema (pbtxt.ts reads every field as a list), so the schema comes from
 * the proto: singular fields take the last value, maps are read from their key/value entries,
 * and fields outside our subset of ModelConfig are left out.
 */
function convertMessage(type: protobuf.Type, message: PbMessage): JsonObject {
  const out: JsonObject = {};
  for (const [name, values] of Object.entries(message)) {
    const field = type.fields[name]?.resolve();
    if (!field || !values.length) continue;
    if (field instanceof protobuf.MapField) {
      const entries = values.filter(isMessage).map((e) => [String(e['key']?.at(-1) ?? ''), convertValue(field.type, field.resolvedType, e['value']?.at(-1))]);
      out[name] = Object.fromEntries(entries.filter(([, v]) => v !== undefined));
    } else if (field.repeated) {
      out[name] = values.map((v) => convertValue(field.type, field.resolvedType, v)).filter((v) => v !== undefined);
    } else {
      const v = convertValue(field.type, field.resolvedType, values.at(-1));
      if (v !== undefined) out[name] = v;
    }
  }
  return out;
}

/** The model's own inputs or outputs, keeping what config.pbtxt adds to each (format, label_filename, ...). */
function tensors(specs: readonly TensorSpec[], listed: unknown, batching: boolean): JsonObject[] {
  const byName = new Map((Array.isArray(listed) ? (listed as JsonObject[]) : []).map((t) => [t['name'], t]));
  return specs.map((spec) => ({
    ...byName.get(spec.name),
    name: spec.name,
    data_type: configDataType(spec.datatype),
    dims: batching ? spec.shape.slice(1) : spec.shape,
  }));
}

/** Every instance runs on the CPU, whatever kind config.pbtxt asked for. */
function instanceGroups(model: string, listed: unknown, instances: number): JsonObject[] {
  const groups = Array.isArray(listed) && listed.length ? (listed as JsonObject[]) : [{ count: instances }];
  return groups.map((g, i) => ({ ...g, name: g['name'] || `${model}_${i}`, count: g['count'] || 1, kind: 'KIND_CPU' }));
}

/**
 * Orders fields by number, as Triton's JSON printer does, and drops the nulls protobufjs
 * prints for unset message fields, which Triton omits.
 */
function tidy(type: protobuf.Type, object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const value = object[field.name];
    if (value === null || value === undefined) continue;
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (!sub) out[field.name] = value;
    else if (field instanceof protobuf.MapField) out[field.name] = Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, tidy(sub, v as JsonObject)]));
    else if (field.repeated) out[field.name] = (value as JsonObject[]).map((v) => tidy(sub, v));
    else out[field.name] = tidy(sub, value as JsonObject);
  }
  return out;
}

/** The report for a loaded version: its config.pbtxt completed from the model it loaded. */
export function modelConfigReport(model: string, modelConfig: ModelConfig, metadata: ModelMetadata, instances: number): JsonObject {
  const config = convertMessage(MODEL_CONFIG, modelConfig.source);
  const batching = modelConfig.maxBatchSize > 0;
  const report: JsonObject = {
    ...config,
    name: model,
    platform: config['platform'] || metadata.platform,
    max_batch_size: modelConfig.maxBatchSize,
    version_policy: config['version_policy'] ?? { latest: { num_versions: 1 } },
    input: tensors(metadata.inputs, config['input'], batching),
    output: tensors(metadata.outputs, config['output'], batching),
    instance_group: instanceGroups(model, config['instance_group'], instances),
  };
  const message = MODEL_CONFIG.fromObject(report);
  const json = MODEL_CONFIG.toObject(message, { enums: String, longs: Number, defaults: true, arrays: true, objects: true });
  return tidy(MODEL_CONFIG, json);
}
