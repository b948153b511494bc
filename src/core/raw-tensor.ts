/**
 * The raw tensor encoding shared by the binary REST extension and gRPC raw contents:
 * little-endian elements back to back, and BYTES as a uint32 LE length before each element.
 */
import { lengthAt } from './bytes-data.js';
import { InvalidInputError } from './errors.js';
import { BytesData, type DataType, type TensorData, bytesOf, elementCount, elementSize, formatShape, viewBytes } from './tensor.js';

/**
 * Decodes `bytes` as `count` elements of `datatype`. Numeric data is a view over `bytes`
 * when aligned. `what` names the tensor in error messages.
 */
export function decodeRaw(datatype: DataType, shape: number[], bytes: Uint8Array, what: string): TensorData {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return decodeBytesElements(bytes, count, shape, what);
  const size = elementSize(datatype)!;
  if (bytes.byteLength !== count * size) {
    throw new InvalidInputError(
      `${what}: expected ${count * size} bytes for ${datatype} shape ${formatShape(shape)}, got ${bytes.byteLength}`,
    );
  }
  return viewBytes(datatype, bytes);
}

/**
 * One scan that checks the length prefixes and allocates nothing; the tensor is then `bytes`
 * itself. Stops at the first element past `count`, so too many costs no more than enough.
 */
function decodeBytesElements(bytes: Uint8Array, count: number, shape: number[], what: string): BytesData {
  const total = bytes.byteLength;
  let n = 0;
  let offset = 0;
  while (offset < total) {
    if (n === count) {
      throw new InvalidInputError(`${what}: BYTES data holds more than the ${count} elements of shape ${formatShape(shape)}`);
    }
    if (offset + 4 > total) throw new InvalidInputError(`${what}: BYTES element ${n} has a truncated 4-byte length prefix`);
    const length = lengthAt(bytes, offset);
    offset += 4;
    if (offset + length > total) {
      throw new InvalidInputError(`${what}: BYTES element ${n} declares ${length} bytes but only ${total - offset} remain`);
    }
    offset += length;
    n++;
  }
  if (n !== count) {
    throw new InvalidInputError(`${what}: expected ${count} BYTES elements for shape ${formatShape(shape)}, got ${n}`);
  }
  return new BytesData(bytes, count);
}

/** Bytes of the raw encoding: BYTES data already is in it. */
export function rawByteLength(data: TensorData): number {
  return data instanceof BytesData ? data.raw.byteLength : data.byteLength;
}

/** Writes the raw encoding of `data` into `target` at `offset`; returns the end offset. */
export function writeRaw(data: TensorData, target: Uint8Array, offset: number): number {
  const bytes = encodeRaw(data);
  target.set(bytes, offset);
  return offset + bytes.byteLength;
}

/** The raw encoding as one byte array, a view (no copy). */
export function encodeRaw(data: TensorData): Uint8Array {
  return data instanceof BytesData ? data.raw : bytesOf(data);
}
