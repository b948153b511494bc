/** Link functions that turn summed tree margins into predictions, row-major [N, K]. */
import { allocate } from '../../src/core/tensor.js';

export type Link = 'identity' | 'sigmoid' | 'softmax' | 'exp';

function map(values: Float32Array, f: (v: number) => number): Float32Array {
  const out = allocate('FP32', values.length) as Float32Array;
  for (let i = 0; i < values.length; i++) out[i] = f(values[i]!);
  return out;
}

function softmax(values: Float32Array, width: number): Float32Array {
  const out = allocate('FP32', values.length) as Float32Array;
  for (let row = 0; row < values.length; row += width) {
    let max = -Infinity;
    for (let k = 0; k < width; k++) max = Math.max(max, values[row + k]!);
    let sum = 0;
    const e = new Float64Array(width);
    for (let k = 0; k < width; k++) sum += e[k] = Math.exp(values[row + k]! - max);
    for (let k = 0; k < width; k++) out[row + k] = e[k]! / sum;
  }
  return out;
}

export function applyLink(link: Link, margins: Float32Array, width: number): Float32Array {
  switch (link) {
    case 'identity':
      return margins;
    case 'sigmoid':
      return map(margins, (v) => 1 / (1 + Math.exp(-v)));
    case 'exp':
      return map(margins, Math.exp);
    case 'softmax':
      return softmax(margins, width);
  }
}
