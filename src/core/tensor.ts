import { BytesData } from './bytes-data.js';
import { isOwned, markOwned } from './transfer.js';

export { BytesData };

/**
 * The tensor: one in-memory form shared by every frontend, the scheduler and every runtime.
 * Numeric data lives in the typed array that matches its wire layout, so binary bodies and
 * raw gRPC contents become tensors without a copy, and tensors cross to worker threads by
 * transferring their ArrayBuffers.
 */

export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type DataType = (typeof DATATYPES)[number];
export type NumericDataType = Exclude<DataType, 'BYTES'>;

export type NumericData =
  | Uint8Array // BOOL (0/1), UINT8
  | Int8Array
  | Uint16Array // UINT16, FP16 (IEEE half bits)
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** BYTES data is a BytesData (raw bytes, so that non-UTF-8 payloads survive the round trip). */
export type TensorData = NumericData | BytesData;

export interface Tensor {
  name: string;
  datatype: DataType;
  /** Concrete dims, row-major. `[]` is a scalar with one element. */
  shape: number[];
  data: TensorData;
}

/** Metadata of a model input or output; -1 marks a dimension of any size. */
export interface TensorSpec {
  name: string;
  datatype: DataType;
  shape: number[];
}

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericData;
  new (length: number): NumericData;
  readonly BYTES_PER_ELEMENT: number;
};

const ARRAY_TYPES: Record<NumericDataType, TypedArrayCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const INTEGER_RANGES: Partial<Record<DataType, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

/** The values an integer datatype of at most 32 bits holds; undefined for other datatypes. */
export function integerRange(datatype: DataType): readonly [number, number] | undefined {
  return INTEGER_RANGES[datatype];
}

export function isDataType(value: unknown): value is DataType {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Bytes per element, or undefined for BYTES whose elements vary in size. */
export function elementSize(datatype: DataType): number | undefined {
  return datatype === 'BYTES' ? undefined : ARRAY_TYPES[datatype].BYTES_PER_ELEMENT;
}

export function isBigIntType(datatype: DataType): datatype is 'INT64' | 'UINT64' {
  return datatype === 'INT64' || datatype === 'UINT64';
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Fresh zeroed data that belongs to one request, so it may later be transferred. */
export function allocate(datatype: NumericDataType, length: number): NumericData {
  const ctor = ARRAY_TYPES[datatype];
  const buffer = markOwned(new ArrayBuffer(length * ctor.BYTES_PER_ELEMENT));
  return new ctor(buffer, 0, length);
}

/**
 * A typed-array view over `bytes` when its offset is aligned for the element size, else a
 * copy. Wire data is little-endian, as is every platform Node ships for.
 */
export function viewBytes(datatype: NumericDataType, bytes: Uint8Array): NumericData {
  const ctor = ARRAY_TYPES[datatype];
  const size = ctor.BYTES_PER_ELEMENT;
  const length = bytes.byteLength / size;
  if (bytes.byteOffset % size === 0) return new ctor(bytes.buffer, bytes.byteOffset, length);
  const copy = new Uint8Array(markOwned(new ArrayBuffer(bytes.byteLength)));
  copy.set(bytes);
  return new ctor(copy.buffer, 0, length);
}

/** The raw little-endian bytes of numeric data, as a view (no copy). */
export function bytesOf(data: NumericData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The data in buffers that belong to this request: as is when it already does, else copied.
 * A view over a shared buffer (Node's 8 KiB pool, say) would otherwise cross to the worker
 * as a structured clone of the whole shared buffer.
 */
export function inOwnedBuffers(data: TensorData): TensorData {
  if (data instanceof BytesData) return data.inOwnedBuffer();
  if (isOwned(data.buffer)) return data;
  const ctor = data.constructor as TypedArrayCtor;
  const copy = new ctor(markOwned(new ArrayBuffer(data.byteLength)), 0, data.length);
  new Uint8Array(copy.buffer).set(bytesOf(data));
  return copy;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** UTF-8 encodes strings into one owned buffer. */
export function bytesFromStrings(strings: readonly string[]): BytesData {
  return BytesData.fromStrings(strings);
}
