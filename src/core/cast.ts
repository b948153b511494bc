/**
 * Numeric conversion between tensor datatypes, for runtimes that accept any numeric input
 * the way numpy does (an INT64 or FP64 column fed to a float32 tree model).
 */
import { fromHalfBits } from './float16.js';
import { BytesData, type NumericData, type Tensor, allocate } from './tensor.js';

/** The elements as JavaScript numbers (64-bit integers beyond 2^53 round, as numpy's do). */
function numbersOf(t: Tensor): ArrayLike<number> {
  const data = t.data as NumericData;
  if (t.datatype === 'FP16') return Array.from(data as Uint16Array, fromHalfBits);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return data as ArrayLike<number>;
}

/** The tensor with its data converted to FP32 or FP64; the same tensor when it already is. */
export function toFloat(t: Tensor, datatype: 'FP32' | 'FP64'): Tensor {
  if (t.datatype === datatype) return t;
  if (t.data instanceof BytesData) throw new TypeError(`input '${t.name}' is BYTES, not numbers`);
  const out = allocate(datatype, t.data.length) as Float32Array | Float64Array;
  out.set(numbersOf(t));
  return { name: t.name, datatype, shape: t.shape, data: out };
}
