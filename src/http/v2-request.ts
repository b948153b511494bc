/**
 * Decodes a v2 infer body into the internal InferRequest: a JSON header, optionally followed
 * by binary tensors (the binary tensor data extension), or a raw single-input body
 * (`Inference-Header-Content-Length: 0`).
 */
import { InvalidInputError } from '../core/errors.js';
import type { InferRequest, Parameters, RequestedOutput } from '../core/inference.js';
import { decodeRaw } from '../core/raw-tensor.js';
import { inputHeaderCheck } from '../core/validate.js';
import { alignedBytes } from '../core/tensor-alignment.js';
import { type DataType, type Tensor, type TensorSpec, elementSize, isBigIntType } from '../core/tensor.js';
import { parseDatatype, parseShape } from '../core/tensor-header.js';
import { missingHeaderLength, readJsonHeader } from './infer-body-errors.js';
import { decodeJsonData } from './json-tensor.js';
import { SHM_REGION, readShmInput } from '../shm/shm-tensors.js';
import type { SystemSharedMemory } from '../shm/system-shared-memory.js';
import { hasRoundedInteger, parseJsonExact, parseJsonText } from './json-numbers.js';

export interface DecodeContext {
  model: string;
  version?: string;
  /** The model's input specs, needed only for a raw single-input body. */
  inputSpecs: () => TensorSpec[];
  /** Registered shared-memory regions that inputs may name instead of carrying their bytes. */
  sharedMemory?: SystemSharedMemory;
}

export interface DecodedInfer {
  request: InferRequest;
  /** Whether an output returns in the binary section rather than as JSON data. */
  isBinary: (output: string) => boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseParameters(value: unknown, where: string): Parameters {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new InvalidInputError(`'${where}' must be an object of string, number or boolean values`);
  for (const [k, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      throw new InvalidInputError(`'${where}.${k}' must be a string, number or boolean, got ${JSON.stringify(v)}`);
    }
  }
  return value as Parameters;
}

function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InvalidInputError('request body is not valid JSON: it is not UTF-8 text');
  }
}

/** Parses a JSON body; NaN and Infinity tokens are taken, as Triton writes them. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  return parseJsonText(decodeText(bytes));
}

/** As parseJsonBody, but integers JSON.parse would round (|n| >= 2^53) are exact bigints. */
export function parseExactJsonBody(bytes: Uint8Array): unknown {
  const text = decodeText(bytes);
  const json = parseJsonText(text);
  return hasRoundedInteger(json) ? parseJsonExact(text) : json;
}

/** Only 64-bit integer tensors can need the exact parse; other datatypes never pay for it. */
function roundedInt64Data(json: Record<string, unknown>): boolean {
  if (!Array.isArray(json.inputs)) return false;
  return json.inputs.some((input) => isObject(input) && isBigIntType(input.datatype as DataType) && hasRoundedInteger(input.data));
}

/** Reads the binary section of one input, advancing the cursor. */
class BinaryCursor {
  constructor(
    private readonly body: Uint8Array,
    private offset: number,
    private readonly headerGiven: boolean,
  ) {}

  take(size: unknown, what: string): Uint8Array {
    if (!this.headerGiven) throw missingHeaderLength(what);
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      throw new InvalidInputError(`${what}: 'binary_data_size' must be a non-negative integer, got ${JSON.stringify(size)}`);
    }
    const end = this.offset + (size as number);
    if (end > this.body.byteLength) {
      throw new InvalidInputError(
        `${what}: 'binary_data_size' is ${size} bytes but only ${this.body.byteLength - this.offset} bytes of binary data remain`,
      );
    }
    const slice = this.body.subarray(this.offset, end);
    this.offset = end;
    return slice;
  }

  finish(): void {
    if (this.offset !== this.body.byteLength) {
      throw new InvalidInputError(
        `the body has ${this.body.byteLength - this.offset} bytes of binary data that no input's 'binary_data_size' accounts for`,
      );
    }
  }
}

/** Numeric tensors start 64-byte aligned whatever precedes them in the body (tensor-alignment.ts). */
function binaryData(datatype: DataType, bytes: Uint8Array): Uint8Array {
  return datatype === 'BYTES' ? bytes : alignedBytes(bytes);
}

type HeaderCheck = ReturnType<typeof inputHeaderCheck>;

function parseInput(value: unknown, index: number, cursor: BinaryCursor, ctx: DecodeContext, checkHeader: HeaderCheck): Tensor {
  if (!isObject(value)) throw new InvalidInputError(`'inputs[${index}]' must be an object`);
  const { name } = value;
  if (typeof name !== 'string' || !name) throw new InvalidInputError(`'inputs[${index}].name' must be a non-empty string`);
  const what = `input '${name}'`;
  const datatype = parseDatatype(value.datatype, what);
  const shape = parseShape(value.shape, what);
  const parameters = parseParameters(value.parameters, `inputs[${index}].parameters`);
  checkHeader(name, datatype, shape);
  const binarySize = parameters['binary_data_size'];
  const hasData = value.data !== undefined;
  const sources = Number(hasData) + Number(binarySize !== undefined) + Number(parameters[SHM_REGION] !== undefined);
  if (sources !== 1) {
    throw new InvalidInputError(`${what}: give exactly one of 'data', 'parameters.binary_data_size' or 'parameters.shared_memory_region'`);
  }
  const shmBytes = readShmInput(ctx.sharedMemory, parameters, what);
  const data = hasData
    ? decodeJsonData(datatype, shape, value.data, what)
    : decodeRaw(datatype, shape, shmBytes ?? binaryData(datatype, cursor.take(binarySize, what)), what);
  return { name, datatype, shape, data };
}

function parseOutputs(value: unknown): RequestedOutput[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new InvalidInputError(`'outputs' must be a list of {"name": ...} objects`);
  return value.map((o, i) => {
    if (!isObject(o) || typeof o.name !== 'string') throw new InvalidInputError(`'outputs[${i}].name' must be a string`);
    return { name: o.name, parameters: parseParameters(o.parameters, `outputs[${i}].parameters`) };
  });
}

/** Triton's rule: an output's own `binary_data` wins over the request's `binary_data_output`. */
function binarySelector(parameters: Parameters, outputs: RequestedOutput[] | undefined): (output: string) => boolean {
  const all = parameters['binary_data_output'] === true;
  const own = new Map(outputs?.map((o) => [o.name, o.parameters['binary_data']]));
  return (output) => {
    const choice = own.get(output);
    return choice === undefined ? all : choice === true;
  };
}

function decodeJsonRequest(body: Uint8Array, headerLength: number, headerGiven: boolean, ctx: DecodeContext): DecodedInfer {
  const header = readJsonHeader(body, headerLength, headerGiven);
  if (!isObject(header.json)) throw new InvalidInputError('the request body must be a JSON object');
  const json = roundedInt64Data(header.json) ? (parseJsonExact(header.text) as Record<string, unknown>) : header.json;
  if (!Array.isArray(json.inputs)) throw new InvalidInputError(`Expected "inputs" to be a list`);
  if (json.id !== undefined && typeof json.id !== 'string') throw new InvalidInputError(`'id' must be a string`);
  const parameters = parseParameters(json.parameters, 'parameters');
  const cursor = new BinaryCursor(body, headerLength, headerGiven);
  const checkHeader = inputHeaderCheck(ctx.model, ctx.inputSpecs, parameters);
  const inputs = json.inputs.map((input, i) => parseInput(input, i, cursor, ctx, checkHeader));
  cursor.finish();
  const outputs = parseOutputs(json.outputs);
  const request: InferRequest = { model: ctx.model, version: ctx.version, id: json.id, parameters, inputs, outputs };
  return { request, isBinary: binarySelector(parameters, outputs) };
}

/** A body that is the raw bytes of the model's only input; every output returns binary. */
function decodeRawRequest(body: Uint8Array, ctx: DecodeContext): DecodedInfer {
  const specs = ctx.inputSpecs();
  if (specs.length !== 1) {
    throw new InvalidInputError(
      `a raw body (Inference-Header-Content-Length: 0) needs a model with one input; '${ctx.model}' has ${specs.length}`,
    );
  }
  const spec = specs[0]!;
  const what = `input '${spec.name}'`;
  const shape = [...spec.shape];
  // A raw body is one sample: a variable batch dimension is 1 when another dim must vary.
  if (shape[0] === -1 && shape.filter((d) => d < 0).length > 1) shape[0] = 1;
  const variable = shape.filter((d) => d < 0).length;
  if (variable > 1) throw new InvalidInputError(`${what} has more than one variable dimension, so a raw body cannot give its shape`);
  if (variable === 1) {
    const known = shape.reduce((n, d) => (d < 0 ? n : n * d), 1);
    const count = spec.datatype === 'BYTES' ? countBytesElements(body) : body.byteLength / elementSize(spec.datatype)!;
    if (!Number.isInteger(count / known)) {
      throw new InvalidInputError(`${what}: a raw body of ${body.byteLength} bytes does not fill a whole number of ${spec.datatype} rows`);
    }
    shape[shape.indexOf(-1)] = count / known;
  }
  const data = decodeRaw(spec.datatype, shape, body, what);
  const request: InferRequest = {
    model: ctx.model,
    version: ctx.version,
    parameters: {},
    inputs: [{ name: spec.name, datatype: spec.datatype, shape, data }],
  };
  return { request, isBinary: () => true };
}

function countBytesElements(body: Uint8Array): number {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let n = 0;
  for (let offset = 0; offset + 4 <= body.byteLength; n++) offset += 4 + view.getUint32(offset, true);
  return n;
}

/**
 * Decodes an infer body. `headerLength` is the Inference-Header-Content-Length value, or
 * undefined when absent (the whole body is JSON).
 */
export function decodeInferBody(body: Uint8Array, headerLength: string | undefined, ctx: DecodeContext): DecodedInfer {
  if (headerLength === undefined) return decodeJsonRequest(body, body.byteLength, false, ctx);
  const length = /^\d+$/.test(headerLength.trim()) ? Number(headerLength) : NaN;
  if (!Number.isSafeInteger(length) || length > body.byteLength) {
    throw new InvalidInputError(
      `Inference-Header-Content-Length must be an integer between 0 and the body length ${body.byteLength}, got '${headerLength}'`,
    );
  }
  if (length === 0) return decodeRawRequest(body, ctx);
  return decodeJsonRequest(body, length, true, ctx);
}
