/**
 * The raw tensor encoding shared by the binary REST extension and gRPC raw contents:
 * little-endian elements back to back, and BYTES as a uint32 LE length before each element.
 */
import { InvalidInputError } from './errors.js';
import {
  type BytesData,
  type DataType,
  type NumericData,
  type TensorData,
  bytesOf,
  elementCount,
  elementSize,
  formatShape,
  viewBytes,
} from './tensor.js';

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

function decodeBytesElements(bytes: Uint8Array, count: number, shape: number[], what: string): BytesData {
  const out: BytesData = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (out.length === count) {
      throw new InvalidInputError(`${what}: BYTES data holds more than the ${count} elements of shape ${formatShape(shape)}`);
    }
    if (offset + 4 > bytes.byteLength) {
      throw new InvalidInputError(`${what}: BYTES element ${out.length} has a truncated 4-byte length prefix`);
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.byteLength) {
      throw new InvalidInputError(
        `${what}: BYTES element ${out.length} declares ${length} bytes but only ${bytes.byteLength - offset} remain`,
      );
    }
    out.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (out.length !== count) {
    throw new InvalidInputError(`${what}: expected ${count} BYTES elements for shape ${formatShape(shape)}, got ${out.length}`);
  }
  return out;
}

export function rawByteLength(data: TensorData): number {
  if (!Array.isArray(data)) return (data as NumericData).byteLength;
  let n = 0;
  for (const e of data) n += 4 + e.byteLength;
  return n;
}

/** Writes the raw encoding of `data` into `target` at `offset`; returns the end offset. */
export function writeRaw(data: TensorData, target: Uint8Array, offset: number): number {
  if (!Array.isArray(data)) {
    const bytes = bytesOf(data as NumericData);
    target.set(bytes, offset);
    return offset + bytes.byteLength;
  }
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  for (const e of data) {
    view.setUint32(offset, e.byteLength, true);
    target.set(e, offset + 4);
    offset += 4 + e.byteLength;
  }
  return offset;
}

/** The raw encoding as one byte array: a view for numeric data, a new buffer for BYTES. */
export function encodeRaw(data: TensorData): Uint8Array {
  if (!Array.isArray(data)) return bytesOf(data as NumericData);
  const out = new Uint8Array(rawByteLength(data));
  writeRaw(data, out, 0);
  return out;
}
