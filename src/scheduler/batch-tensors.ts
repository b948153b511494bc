/**
 * Joining requests into one batch along dim 0 and handing each caller back exactly its rows.
 * Requests merge only when every input agrees on datatype and on every non-batch dimension.
 */
import { InferenceError } from '../core/errors.js';
import { BytesData, type NumericData, type NumericDataType, type Tensor, allocate } from '../core/tensor.js';

/** A key that is equal for requests whose inputs can be concatenated along dim 0. */
export function shapeKey(inputs: readonly Tensor[]): string {
  return inputs.map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`).join('|');
}

function concatOne(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  const rows = parts.reduce((n, t) => n + t.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (first.datatype === 'BYTES') {
    return { ...first, shape, data: BytesData.concat(parts.map((t) => t.data as BytesData)) };
  }
  const length = parts.reduce((n, t) => n + t.data.length, 0);
  const data = allocate(first.datatype as NumericDataType, length);
  let offset = 0;
  for (const t of parts) {
    (data as Uint8Array).set(t.data as Uint8Array, offset);
    offset += t.data.length;
  }
  return { ...first, shape, data };
}

/** One tensor per input, holding every request's rows in request order. */
export function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  if (requests.length === 1) return [...requests[0]!];
  return requests[0]!.map((_, i) => concatOne(requests.map((inputs) => inputs[i]!)));
}

function sliceRows(t: Tensor, start: number, rows: number): Tensor {
  const rowSize = t.shape.slice(1).reduce((n, d) => n * d, 1);
  const from = start * rowSize;
  const to = from + rows * rowSize;
  // Views over the batch output: no copy, and each caller sees only its own rows.
  const data = t.data instanceof BytesData ? t.data.slice(from, to) : (t.data as NumericData).subarray(from, to);
  return { ...t, shape: [rows, ...t.shape.slice(1)], data };
}

/** Splits batch outputs back into one list per request, by each request's row count. */
export function splitOutputs(outputs: readonly Tensor[], rowCounts: readonly number[]): Tensor[][] {
  if (rowCounts.length === 1) return [[...outputs]];
  const total = rowCounts.reduce((a, b) => a + b, 0);
  for (const o of outputs) {
    if (o.shape[0] !== total) {
      throw new InferenceError(
        `output '${o.name}' has shape [${o.shape.join(',')}], which has no batch dimension of ${total} to split among the batched requests`,
      );
    }
  }
  let start = 0;
  return rowCounts.map((rows) => {
    const mine = outputs.map((o) => sliceRows(o, start, rows));
    start += rows;
    return mine;
  });
}
