/**
 * Triton's classification extension: a requested output with `parameters.classification: K`
 * comes back as the top K entries of each batch row (of the whole tensor for models that do
 * not batch), as BYTES strings `"<value>:<index>[:<label>]"`, best first. Values print as
 * Triton prints them (C++ std::to_string: "%f" for floats, decimal for integers); labels are
 * the lines of the output's `label_filename`, where the file has a line for that index.
 */
import { InvalidInputError } from './errors.js';
import { formatFixed } from './fixed-decimal.js';
import type { RequestedOutput } from './inference.js';
import { type DataType, type NumericData, type Tensor, bytesFromStrings } from './tensor.js';

export const CLASSIFICATION_PARAMETER = 'classification';

/** Class labels per output name. */
export type OutputLabels = Readonly<Record<string, readonly string[]>>;

const CLASSIFIABLE = new Set<DataType>(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);

/** The K a requested output asks for; 0 asks for the tensor itself, as in Triton. */
export function classificationCount(output: RequestedOutput): number {
  const k = output.parameters[CLASSIFICATION_PARAMETER];
  if (k === undefined) return 0;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 0xffffffff) {
    throw new InvalidInputError(
      `output '${output.name}': parameter 'classification' must be an integer from 0 to 4294967295, got ${JSON.stringify(k)}`,
    );
  }
  return k;
}

/** Indices of `row` by value, best first; ties keep index order, NaNs go last. */
function ranked(row: NumericData, k: number): number[] {
  const order = Array.from({ length: row.length }, (_, i) => i);
  const v = row as ArrayLike<number | bigint>;
  const nan = (x: number | bigint) => typeof x === 'number' && Number.isNaN(x);
  order.sort((i, j) => {
    const a = v[i]!;
    const b = v[j]!;
    if (nan(a) || nan(b)) return Number(nan(a)) - Number(nan(b));
    return a > b ? -1 : a < b ? 1 : 0;
  });
  return order.slice(0, k);
}

function classify(tensor: Tensor, k: number, batching: boolean, labels: readonly string[] | undefined): Tensor {
  if (!CLASSIFIABLE.has(tensor.datatype)) {
    throw new InvalidInputError(`class result not available for output '${tensor.name}' due to unsupported type '${tensor.datatype}'`);
  }
  const data = tensor.data as NumericData;
  const rows = batching && tensor.shape.length ? tensor.shape[0]! : 1;
  const perRow = rows ? data.length / rows : 0;
  const count = Math.min(k, perRow);
  const float = tensor.datatype === 'FP32' || tensor.datatype === 'FP64';
  const entries: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * perRow, (r + 1) * perRow);
    for (const i of ranked(row, count)) {
      const value = row[i]!;
      const label = labels?.[i];
      entries.push(`${float ? formatFixed(value as number, 6) : String(value)}:${i}${label === undefined ? '' : `:${label}`}`);
    }
  }
  return { name: tensor.name, datatype: 'BYTES', shape: batching ? [rows, count] : [count], data: bytesFromStrings(entries) };
}

/**
 * Replaces each output a request asked to classify with its top-K strings; others pass
 * through. `batching`: the model batches along dim 0, so each row is classified on its own.
 */
export function classifyOutputs(
  outputs: Tensor[],
  requested: readonly RequestedOutput[] | undefined,
  labels: OutputLabels | undefined,
  batching: boolean,
): Tensor[] {
  if (!requested?.some((o) => o.parameters[CLASSIFICATION_PARAMETER] !== undefined)) return outputs;
  const counts = new Map(requested.map((o) => [o.name, classificationCount(o)]));
  return outputs.map((t) => {
    const k = counts.get(t.name) ?? 0;
    return k > 0 ? classify(t, k, batching, labels?.[t.name]) : t;
  });
}
