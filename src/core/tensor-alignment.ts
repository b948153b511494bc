/**
 * Where tensor data starts in memory. onnxruntime reads CPU inputs in place, and some of its
 * kernels (an Einsum reduction, measured) sum in an order that depends on the data's alignment:
 * the same FP64 request gave last-bit-different answers as the length of the JSON header
 * before it moved the binary tensor within the body. Data placed at 64 bytes within its
 * buffer (the widest vector width, AVX-512) sits at the allocator's own alignment (16 bytes
 * or more) wherever it came from, so identical requests give identical answers.
 */
import { markOwned } from './transfer.js';

export const TENSOR_ALIGNMENT = 64;

/** `bytes` itself when 64-byte aligned within its buffer, else an aligned copy in a buffer of its own. */
export function alignedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset % TENSOR_ALIGNMENT === 0) return bytes;
  const copy = new Uint8Array(markOwned(new ArrayBuffer(bytes.byteLength)));
  copy.set(bytes);
  return copy;
}
