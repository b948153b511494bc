/**
 * KServe's V1 protocol on top of the internal request: `instances` (or `inputs`) become
 * tensors shaped by their nesting, and outputs return as one prediction per row.
 */
import { InvalidInputError } from '../core/errors.js';
import type { IndexKeyed, InferRequest, InferResponse } from '../core/inference.js';
import type { Tensor, TensorSpec } from '../core/tensor.js';
import { PANDAS_CONTENT_TYPE } from '../core/columns.js';
import { decodeJsonData, jsonValues } from './json-tensor.js';
import { isObject } from './v2-request.js';

/** The shape implied by nesting, read along the first element at each depth. */
function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function toTensor(spec: TensorSpec, rows: unknown[], what: string): Tensor {
  const shape = nestedShape(rows);
  return { name: spec.name, datatype: spec.datatype, shape, data: decodeJsonData(spec.datatype, shape, rows, what) };
}

/**
 * Rows keyed by feature name (`{"age": 52, "bmi": 31.2}`) make a table, as KServe builds a
 * DataFrame from them: one FP64 column per key, in first-seen order. A key a row lacks is
 * missing (NaN) in that row; null is NaN too.
 */
function columnsOf(rows: Record<string, unknown>[], key: string): Tensor[] {
  const names: string[] = [];
  for (const row of rows) for (const name of Object.keys(row)) if (!names.includes(name)) names.push(name);
  return names.map((name) => {
    const values = rows.map((row) => row[name] ?? null);
    return { name, datatype: 'FP64', shape: [rows.length], data: decodeJsonData('FP64', [rows.length], values, `${key} column '${name}'`) };
  });
}

/**
 * A v2 request (inputs as {name, datatype, shape, data} tensors) sent to the V1 route: V1 also
 * calls its rows "inputs", so without this it would fail on a confusing per-row error.
 */
function isV2Request(rows: unknown[], specs: readonly TensorSpec[]): boolean {
  const v2Keys = ['name', 'datatype', 'shape'];
  if (specs.some((s) => v2Keys.includes(s.name))) return false;
  return rows.length > 0 && rows.every((r) => isObject(r) && v2Keys.every((k) => k in r));
}

export function decodeV1Request(model: string, body: unknown, specs: readonly TensorSpec[]): InferRequest {
  if (!isObject(body)) throw new InvalidInputError('the request body must be a JSON object with "instances" or "inputs"');
  const key = body.inputs !== undefined ? 'inputs' : 'instances';
  const rows = body[key];
  if (!Array.isArray(rows)) throw new InvalidInputError(`Expected "${key}" to be a list`);
  if (key === 'inputs' && isV2Request(rows, specs)) {
    throw new InvalidInputError(
      `this is an Open Inference Protocol (v2) request (inputs with name, datatype and shape) sent to the V1 route; ` +
        `POST it to /v2/models/${model}/infer, or send V1's {"instances": [...]}`,
    );
  }
  if (rows.length === 0) throw new InvalidInputError(`"${key}" is empty; send at least one row`);
  const parameters = isObject(body.parameters) ? (body.parameters as InferRequest['parameters']) : {};
  let inputs: Tensor[];
  if (rows.every(isObject) && specs.length === 1 && !(specs[0]!.name in rows[0]!)) {
    return { model, parameters: { ...parameters, content_type: PANDAS_CONTENT_TYPE }, inputs: columnsOf(rows, key) };
  }
  if (rows.every(isObject)) {
    inputs = specs.map((spec) => {
      const column = rows.map((row, i) => {
        if (!(spec.name in row)) throw new InvalidInputError(`${key}[${i}] has no field '${spec.name}', an input of model '${model}'`);
        return row[spec.name];
      });
      return toTensor(spec, column, `input '${spec.name}'`);
    });
  } else {
    if (specs.length !== 1) {
      throw new InvalidInputError(
        `model '${model}' has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}); send each row as an object keyed by input name`,
      );
    }
    inputs = [toTensor(specs[0]!, rows, `"${key}"`)];
  }
  return { model, parameters, inputs };
}

/** Nests flat row-major values by `dims`: one entry per row of the first dimension. */
function nest(flat: unknown[], dims: readonly number[]): unknown[] {
  if (dims.length <= 1) return flat;
  const [count, ...rest] = dims as [number, ...number[]];
  const size = count ? flat.length / count : 0;
  return Array.from({ length: count }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

/** The last dimension of a row nested `depth` deep, as objects keyed by index. */
function keyByIndex(row: unknown, depth: number, layout: IndexKeyed): unknown {
  const values = row as unknown[];
  if (depth > 1) return values.map((v) => keyByIndex(v, depth - 1, layout));
  if (layout === 'map') return Object.fromEntries(values.map((v, i) => [String(i), v]));
  return values.map((v, i) => ({ [String(i)]: v }));
}

/** `indexKeyed`: outputs the model answers as index-keyed objects in V1 (ModelMetadata.v1IndexKeyed). */
export function encodeV1Response(response: InferResponse, indexKeyed?: Readonly<Record<string, IndexKeyed>>): { predictions: unknown[] } {
  const columns = response.outputs.map((o) => {
    const rows = nest(jsonValues(o), o.shape);
    const layout = indexKeyed?.[o.name];
    return { name: o.name, rows: layout && o.shape.length > 1 ? rows.map((r) => keyByIndex(r, o.shape.length - 1, layout)) : rows };
  });
  if (columns.length === 1) return { predictions: columns[0]!.rows };
  const count = Math.max(...columns.map((c) => c.rows.length));
  const predictions = Array.from({ length: count }, (_, i) => Object.fromEntries(columns.map((c) => [c.name, c.rows[i]])));
  return { predictions };
}
