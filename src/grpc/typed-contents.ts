/**
 * Typed InferTensorContents (int_contents, fp32_contents, ...) decoded into the same owned
 * typed arrays the JSON decoder fills. Each datatype has one field (int_contents carries INT8,
 * INT16 and INT32, uint_contents UINT8..UINT32); FP16 has none and travels raw only.
 */
import { InvalidInputError } from '../core/errors.js';
import {
  BytesData,
  type DataType,
  type NumericData,
  type NumericDataType,
  type TensorData,
  allocate,
  elementCount,
  formatShape,
  integerRange,
} from '../core/tensor.js';
import type { InferTensorContents } from './messages.js';

type ContentsField = keyof InferTensorContents;

const FIELD: Record<DataType, ContentsField | undefined> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const FIELDS = Object.keys({
  bool_contents: 0,
  int_contents: 0,
  int64_contents: 0,
  uint_contents: 0,
  uint64_contents: 0,
  fp32_contents: 0,
  fp64_contents: 0,
  bytes_contents: 0,
} satisfies Record<ContentsField, 0>) as ContentsField[];

/** The contents fields that hold data. */
export function filledFields(contents: InferTensorContents | null): ContentsField[] {
  return contents ? FIELDS.filter((f) => contents[f]?.length) : [];
}

/** INT8..INT32 and UINT8..UINT32 arrive as int32/uint32 on the wire; the narrow ones are range-checked. */
function narrowIntegers(datatype: DataType, values: readonly number[], field: string, what: string): NumericData {
  const out = allocate(datatype as NumericDataType, values.length);
  const range = integerRange(datatype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (range && (v < range[0] || v > range[1])) {
      throw new InvalidInputError(
        `${what}: element ${i} of 'contents.${field}' is ${v}; expected an integer in [${range[0]}, ${range[1]}] for ${datatype}`,
      );
    }
    out[i] = v;
  }
  return out;
}

function convert(datatype: DataType, values: readonly unknown[], field: ContentsField, what: string): TensorData {
  switch (datatype) {
    case 'BYTES':
      return BytesData.fromElements(values as Buffer[]);
    case 'BOOL': {
      const out = allocate('BOOL', values.length);
      values.forEach((b, i) => (out[i] = b ? 1 : 0));
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = allocate(datatype, values.length) as BigInt64Array | BigUint64Array;
      values.forEach((v, i) => (out[i] = BigInt(v as string)));
      return out;
    }
    case 'FP16':
      throw new Error('unreachable: FP16 has no contents field');
    case 'FP32':
    case 'FP64': {
      const out = allocate(datatype, values.length) as Float32Array | Float64Array;
      out.set(values as number[]);
      return out;
    }
    default:
      return narrowIntegers(datatype, values as number[], field, what);
  }
}

/** Decodes `contents` as `datatype` of `shape`; `what` names the tensor in errors. */
export function decodeContents(datatype: DataType, shape: number[], contents: InferTensorContents | null, what: string): TensorData {
  const count = elementCount(shape);
  const filled = filledFields(contents);
  const field = FIELD[datatype];
  if (!field) {
    if (!filled.length && count === 0) return allocate('FP16', 0);
    throw new InvalidInputError(`${what}: FP16 data must be sent in raw_input_contents; InferTensorContents has no field for it`);
  }
  const wrong = filled.find((f) => f !== field);
  if (wrong) throw new InvalidInputError(`${what}: datatype ${datatype} takes its data in 'contents.${field}', got '${wrong}'`);
  const values: readonly unknown[] = contents?.[field] ?? [];
  if (!values.length && count > 0) {
    throw new InvalidInputError(`${what} has no data: give it in raw_input_contents (one entry per input) or in 'contents.${field}'`);
  }
  if (values.length !== count) {
    throw new InvalidInputError(
      `${what}: shape ${formatShape(shape)} needs ${count} elements but 'contents.${field}' holds ${values.length}`,
    );
  }
  return convert(datatype, values, field, what);
}
