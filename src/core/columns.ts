/**
 * KServe's `content_type: "pd"`: a request whose inputs are the columns of a table (a pandas
 * DataFrame in KServe's Python servers), one input per feature, assembled here into the
 * model's single [N, F] input. Columns are matched by feature name when the model knows its
 * feature names, otherwise taken in request order.
 */
import { InvalidInputError } from './errors.js';
import { toFloat } from './cast.js';
import { type Tensor, type TensorSpec, allocate, formatShape } from './tensor.js';

export const PANDAS_CONTENT_TYPE = 'pd';

function columnLength(t: Tensor): number {
  const [rows, width] = t.shape;
  if (rows === undefined || t.shape.length > 2 || (t.shape.length === 2 && width !== 1)) {
    throw new InvalidInputError(`column '${t.name}' must have shape [N] or [N,1], got ${formatShape(t.shape)}`);
  }
  return rows;
}

function orderColumns(model: string, featureNames: readonly string[] | undefined, width: number, inputs: readonly Tensor[]): Tensor[] {
  if (!featureNames) {
    if (inputs.length !== width) {
      throw new InvalidInputError(
        `model '${model}' takes ${width} columns, got ${inputs.length} (${inputs.map((t) => t.name).join(', ')})`,
      );
    }
    return [...inputs];
  }
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const unknown = inputs.filter((t) => !featureNames.includes(t.name)).map((t) => `'${t.name}'`);
  if (unknown.length) {
    throw new InvalidInputError(
      `unknown column(s) ${unknown.join(', ')} for model '${model}'; its features are ${featureNames.join(', ')}`,
    );
  }
  const missing = featureNames.filter((n) => !byName.has(n)).map((n) => `'${n}'`);
  if (missing.length) throw new InvalidInputError(`missing column(s) ${missing.join(', ')} for model '${model}'`);
  return featureNames.map((n) => byName.get(n)!);
}

/** One [N, F] tensor for `spec` from its columns. */
export function assembleColumns(
  model: string,
  spec: TensorSpec,
  featureNames: readonly string[] | undefined,
  inputs: readonly Tensor[],
): Tensor {
  const width = spec.shape[1];
  if (spec.shape.length !== 2 || width === undefined || width < 0 || (spec.datatype !== 'FP32' && spec.datatype !== 'FP64')) {
    throw new InvalidInputError(
      `content_type "pd" needs a model with one FP32 or FP64 input of shape [N,F]; '${model}' has ${formatShape(spec.shape)} ${spec.datatype}`,
    );
  }
  const columns = orderColumns(model, featureNames, width, inputs);
  const rows = columnLength(columns[0]!);
  const out = allocate(spec.datatype, rows * width) as Float32Array | Float64Array;
  columns.forEach((column, j) => {
    if (column.datatype === 'BYTES') throw new InvalidInputError(`column '${column.name}' is BYTES; only numeric columns are supported`);
    if (columnLength(column) !== rows)
      throw new InvalidInputError(`column '${column.name}' has ${columnLength(column)} rows, column '${columns[0]!.name}' has ${rows}`);
    const values = toFloat(column, spec.datatype as 'FP32' | 'FP64').data as Float32Array | Float64Array;
    for (let i = 0; i < rows; i++) out[i * width + j] = values[i]!;
  });
  return { name: spec.name, datatype: spec.datatype, shape: [rows, width], data: out };
}
