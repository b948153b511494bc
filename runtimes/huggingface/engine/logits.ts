/**
 * A run's logits as float32, whatever the graph returns: fp16 and q4f16 exports return float16
 * logits, which onnxruntime-node hands over as their 16-bit patterns; read as numbers, they
 * would pick nonsense tokens.
 */
import type * as ort from 'onnxruntime-node';
import { fromHalfBits } from '../../../src/core/float16.js';

let halves: Float32Array | undefined;

/** Every half-precision bit pattern's value: a row of a large vocabulary converts by lookup. */
function halfTable(): Float32Array {
  halves ??= Float32Array.from({ length: 0x10000 }, (_, bits) => fromHalfBits(bits));
  return halves;
}

/** `length` logits from element `offset` of a run's logits output: a view for float32, a converted copy for float16. */
export function logitsAt(logits: ort.Tensor, offset: number, length: number): Float32Array {
  if (logits.type !== 'float16') return (logits.data as Float32Array).subarray(offset, offset + length);
  const bits = logits.data as Uint16Array;
  const table = halfTable();
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = table[bits[offset + i]!]!;
  return out;
}
