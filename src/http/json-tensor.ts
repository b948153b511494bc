/**
 * Tensor data in JSON: decoding the `data` of an input (nested or flat, row-major) into the
 * typed array of its datatype, and writing an output's data as a flat JSON array.
 * 64-bit integers are exact both ways: JSON numbers beyond 2^53 arrive as bigint (json-numbers.ts),
 * decimal strings are taken too, and outputs are written digit for digit.
 */
import { InvalidInputError } from '../core/errors.js';
import { fromHalfBits, toHalfBits } from '../core/float16.js';
import { bytesJsonArray, notJsonText } from './json-bytes.js';
import {
  BytesData,
  type DataType,
  type NumericData,
  type Tensor,
  type TensorData,
  allocate,
  bytesFromStrings,
  elementCount,
  formatShape,
  integerRange,
} from '../core/tensor.js';

const MAX_DEPTH = 64;

/** Flattens nested arrays row-major; a bare scalar is one element. */
function flatten(data: unknown, what: string): unknown[] {
  if (!Array.isArray(data)) return [data];
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown[], depth: number) => {
    if (depth > MAX_DEPTH) throw new InvalidInputError(`${what}: 'data' is nested more than ${MAX_DEPTH} levels deep`);
    for (const v of value) {
      if (Array.isArray(v)) walk(v, depth + 1);
      else out.push(v);
    }
  };
  walk(data, 1);
  return out;
}

function badElement(what: string, index: number, value: unknown, expected: string): InvalidInputError {
  const shown = typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
  return new InvalidInputError(`${what}: element ${index} of 'data' is ${shown}; expected ${expected}`);
}

function decodeBigInt(datatype: 'INT64' | 'UINT64', values: unknown[], what: string): NumericData {
  const out = allocate(datatype, values.length) as BigInt64Array | BigUint64Array;
  const [min, max] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  const expected = `an integer in [${min}, ${max}] for ${datatype}`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let n: bigint;
    if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
    else if (typeof v === 'bigint') n = v;
    else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) n = BigInt(v);
    else throw badElement(what, i, v, expected);
    if (n < min || n > max) throw badElement(what, i, v, expected);
    out[i] = n;
  }
  return out;
}

/** A float element that is not a plain number: null (NaN) or a bigint; undefined if neither. */
function floatOf(v: unknown): number | undefined {
  if (v === null) return NaN;
  return typeof v === 'bigint' ? Number(v) : undefined;
}

function decodeNumbers(datatype: Exclude<DataType, 'BYTES' | 'INT64' | 'UINT64'>, values: unknown[], what: string): NumericData {
  const out = allocate(datatype, values.length);
  const range = integerRange(datatype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (datatype === 'BOOL') {
      if (v === true || v === 1) out[i] = 1;
      else if (v === false || v === 0) out[i] = 0;
      else throw badElement(what, i, v, 'true or false');
    } else if (range) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw badElement(what, i, v, `an integer in [${range[0]}, ${range[1]}] for ${datatype}`);
      }
      out[i] = v;
    } else {
      // FP16/FP32/FP64: null stands for NaN (MLServer's convention); a bigint is an integer
      // too long for a double, rounded as rapidjson rounds it.
      const n = typeof v === 'number' ? v : floatOf(v);
      if (n === undefined) throw badElement(what, i, v, `a number for ${datatype}`);
      out[i] = datatype === 'FP16' ? toHalfBits(n) : n;
    }
  }
  return out;
}

/** Decodes JSON `data` for a tensor of `datatype` and `shape`; `what` names it in errors. */
export function decodeJsonData(datatype: DataType, shape: number[], data: unknown, what: string): TensorData {
  const values = flatten(data, what);
  const count = elementCount(shape);
  if (values.length !== count) {
    throw new InvalidInputError(`${what}: shape ${formatShape(shape)} needs ${count} elements but 'data' holds ${values.length}`);
  }
  if (datatype === 'BYTES') {
    values.forEach((v, i) => {
      if (typeof v !== 'string') throw badElement(what, i, v, 'a string for BYTES');
    });
    return bytesFromStrings(values as string[]);
  }
  if (datatype === 'INT64' || datatype === 'UINT64') return decodeBigInt(datatype, values, what);
  return decodeNumbers(datatype, values, what);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function exactInteger(v: bigint): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function joinNumbers(data: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    s += (i ? ',' : '') + (Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : v) : 'null');
  }
  return s;
}

/** BYTES output elements as strings; JSON can only carry valid UTF-8. */
function outputStrings(name: string, data: BytesData): string[] {
  const notUtf8 = notJsonText(name);
  return data.strings((e, i) => {
    try {
      return utf8.decode(e);
    } catch {
      throw notUtf8(i);
    }
  });
}

/** The output's data as a flat JSON array. NaN and infinities become null. */
export function encodeJsonData(tensor: Tensor): string {
  const { datatype, data } = tensor;
  if (data instanceof BytesData) return bytesJsonArray(data, tensor.name);
  if (datatype === 'BOOL') return `[${Array.from(data as Uint8Array, (v) => (v ? 'true' : 'false')).join(',')}]`;
  if (datatype === 'FP16') return `[${joinNumbers(Array.from(data as Uint16Array, fromHalfBits))}]`;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return `[${data.join(',')}]`;
  if (datatype === 'FP32' || datatype === 'FP64') return `[${joinNumbers(data as Float32Array)}]`;
  return `[${(data as Int32Array).join(',')}]`;
}

/**
 * Output data as plain JSON values, for bodies (V1) that are built as objects: the same values
 * encodeJsonData writes, without a round trip through text.
 */
export function jsonValues(tensor: Tensor): unknown[] {
  const { datatype, data } = tensor;
  if (data instanceof BytesData) return outputStrings(tensor.name, data);
  if (datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  if (datatype === 'FP16') return Array.from(data as Uint16Array, (v) => finite(fromHalfBits(v)));
  // Beyond 2^53 a value stays a bigint, for stringifyJson to write exactly.
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data as ArrayLike<bigint>, exactInteger);
  return Array.from(data as Float64Array, finite);
}
