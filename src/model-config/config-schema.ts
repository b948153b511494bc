/**
 * config.pbtxt read against `inference.ModelConfig` in proto/model_config.proto. Text format
 * carries no schema (pbtxt.ts reads every field as a list), so the proto supplies it: singular
 * fields take their last value, maps are read from their key/value entries, enums by name, and a
 * value of the wrong kind is an error that names the field. Fields the proto does not hold
 * (Triton has more than our subset) are left out, as is `bytes`, which config.pbtxt never sets.
 */
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from '../proto-path.js';
import { ModelConfigError } from './model-config-error.js';
import type { PbMessage, PbValue } from './pbtxt.js';

export type JsonObject = Record<string, unknown>;

const root = new protobuf.Root().loadSync(join(PROTO_DIR, 'model_config.proto'), { keepCase: true });
export const MODEL_CONFIG = root.lookupType('inference.ModelConfig');

const INTEGER_TYPES = new Set(['int32', 'int64', 'sint32', 'sint64', 'sfixed32', 'sfixed64']);
const UNSIGNED_TYPES = new Set(['uint32', 'uint64', 'fixed32', 'fixed64']);

function isMessage(value: PbValue | undefined): value is PbMessage {
  return typeof value === 'object' && value !== null;
}

function wrongKind(path: string, expected: string, value: PbValue): ModelConfigError {
  return new ModelConfigError(`'${path}' must be ${expected}, got ${isMessage(value) ? 'a message' : JSON.stringify(value)}`);
}

/** One text-format value as the JSON form of a field of type `type`. */
function readValue(path: string, type: string, resolved: protobuf.ReflectionObject | null, value: PbValue): unknown {
  if (resolved instanceof protobuf.Type) {
    if (!isMessage(value)) throw wrongKind(path, 'a message { ... }', value);
    return readMessage(resolved, value, path);
  }
  if (resolved instanceof protobuf.Enum) {
    const name = typeof value === 'number' ? resolved.valuesById[value] : value;
    if (typeof name !== 'string' || !(name in resolved.values))
      throw wrongKind(path, `one of ${Object.keys(resolved.values).join(', ')}`, value);
    return name;
  }
  if (type === 'string') {
    if (typeof value !== 'string') throw wrongKind(path, 'a string', value);
    return value;
  }
  if (type === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    throw wrongKind(path, 'true or false', value);
  }
  if (INTEGER_TYPES.has(type) && !(typeof value === 'number' && Number.isInteger(value))) throw wrongKind(path, 'an integer', value);
  if (UNSIGNED_TYPES.has(type) && !(typeof value === 'number' && Number.isInteger(value) && value >= 0))
    throw wrongKind(path, 'an integer >= 0', value);
  if (typeof value !== 'number') throw wrongKind(path, 'a number', value);
  return value;
}

function readMap(path: string, field: protobuf.MapField, entries: PbValue[]): JsonObject {
  const out: JsonObject = {};
  for (const entry of entries) {
    const key = isMessage(entry) ? entry['key']?.at(-1) : undefined;
    const value = isMessage(entry) ? entry['value']?.at(-1) : undefined;
    if (key === undefined || value === undefined) throw new ModelConfigError(`each '${path}' entry needs a key and a value`);
    out[String(key)] = readValue(`${path}[${JSON.stringify(String(key))}]`, field.type, field.resolvedType, value);
  }
  return out;
}

export function readMessage(type: protobuf.Type, message: PbMessage, prefix = ''): JsonObject {
  const out: JsonObject = {};
  for (const [name, values] of Object.entries(message)) {
    const field = type.fields[name]?.resolve();
    if (!field || field.type === 'bytes') continue;
    const path = prefix ? `${prefix}.${name}` : name;
    if (field instanceof protobuf.MapField) out[name] = readMap(path, field, values);
    else if (field.repeated) out[name] = values.map((v, i) => readValue(`${path}[${i}]`, field.type, field.resolvedType, v));
    else if (values.length) out[name] = readValue(path, field.type, field.resolvedType, values.at(-1)!);
  }
  return out;
}

/** A field of `type` by its proto name or its JSON (lowerCamelCase) name, as protobuf's JSON mapping allows both. */
function fieldByJsonKey(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fields[key] ?? type.fieldsArray.find((f) => f.options?.['json_name'] === key || camel(f.name) === key);
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** One JSON value as text format would carry it: 64-bit integers written as strings become numbers. */
function jsonValue(field: protobuf.Field, value: unknown): PbValue {
  if (field.resolvedType instanceof protobuf.Type && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return messageFromJson(field.resolvedType, value as JsonObject);
  }
  if (typeof value === 'string' && (INTEGER_TYPES.has(field.type) || UNSIGNED_TYPES.has(field.type)) && /^-?\d+$/.test(value))
    return Number(value);
  return value as PbValue;
}

/**
 * A model configuration in protobuf's JSON form (Triton's load `config` parameter) in the shape
 * pbtxt.ts gives text format, so readMessage checks both the same way and names the same fields.
 */
export function messageFromJson(type: protobuf.Type, json: JsonObject): PbMessage {
  const out: PbMessage = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fieldByJsonKey(type, key)?.resolve();
    if (!field || value === null) continue;
    if (field instanceof protobuf.MapField) {
      if (typeof value !== 'object' || Array.isArray(value)) throw new ModelConfigError(`'${field.name}' must be an object`);
      out[field.name] = Object.entries(value as JsonObject).map(([k, v]) => ({ key: [k], value: [jsonValue(field, v)] }));
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new ModelConfigError(`'${field.name}' must be an array`);
      out[field.name] = value.map((v) => jsonValue(field, v));
    } else {
      out[field.name] = [jsonValue(field, value)];
    }
  }
  return out;
}

/**
 * The object as protobufjs normalises it (every primitive field printed, 64-bit integers as
 * numbers, enums by name), with fields ordered by number as Triton's JSON printer does and the
 * nulls of unset message fields dropped, as Triton omits them.
 */
export function normalise(object: JsonObject): JsonObject {
  const message = MODEL_CONFIG.fromObject(object);
  const json = MODEL_CONFIG.toObject(message, { enums: String, longs: Number, defaults: true, arrays: true, objects: true });
  return tidy(MODEL_CONFIG, json);
}

function tidy(type: protobuf.Type, object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const value = object[field.name];
    if (value === null || value === undefined) continue;
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (!sub) out[field.name] = value;
    else if (field instanceof protobuf.MapField)
      out[field.name] = Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, tidy(sub, v as JsonObject)]));
    else if (field.repeated) out[field.name] = (value as JsonObject[]).map((v) => tidy(sub, v));
    else out[field.name] = tidy(sub, value as JsonObject);
  }
  return out;
}
