/** Checks an inference request against the model it addresses, with Triton's wording. */
import { InvalidInputError } from './errors.js';
import type { Parameters, RequestedOutput } from './inference.js';
import { type DataType, type Tensor, type TensorSpec, elementCount, formatShape } from './tensor.js';
import { classificationCount } from './classification.js';
import { PANDAS_CONTENT_TYPE } from './columns.js';

function shapeFits(spec: readonly number[], shape: readonly number[]): boolean {
  return spec.length === shape.length && spec.every((d, i) => d < 0 || d === shape[i]);
}

/** onnxruntime, like most runtimes, indexes a dimension with a signed 32-bit integer. */
const MAX_DIM = 2 ** 31 - 1;

function kindMismatch(model: string, name: string, datatype: DataType, spec: TensorSpec): InvalidInputError {
  return new InvalidInputError(`inference input '${name}' data-type is '${datatype}', but model '${model}' expects '${spec.datatype}'`);
}

function shapeMismatch(model: string, name: string, shape: readonly number[], spec: TensorSpec): InvalidInputError {
  return new InvalidInputError(
    `unexpected shape for input '${name}' for model '${model}'. Expected ${formatShape(spec.shape)}, got ${formatShape(shape)}`,
  );
}

/**
 * What a frontend checks of each input from its header, before decoding its data: BYTES sent
 * to a numeric input (or the reverse), and a shape the input cannot take, are refused without
 * reading the contents (4 M BYTES elements need not be scanned for an FP32 model). Messages are
 * validateInputs'. Left to it: an input the model does not name (numpy-style models take one
 * by position), pandas columns (named by feature, assembled later), and everything when the
 * model's specs are not known yet (`specs` throws: unknown or loading model).
 */
export function inputHeaderCheck(
  model: string,
  specs: () => readonly TensorSpec[],
  parameters: Parameters,
): (name: string, datatype: DataType, shape: readonly number[]) => void {
  if (parameters['content_type'] === PANDAS_CONTENT_TYPE) return () => {};
  let known: readonly TensorSpec[] | undefined;
  try {
    known = specs();
  } catch {
    return () => {};
  }
  return (name, datatype, shape) => {
    const spec = known.find((s) => s.name === name);
    if (!spec) return;
    if ((spec.datatype === 'BYTES') !== (datatype === 'BYTES')) throw kindMismatch(model, name, datatype, spec);
    if (!shapeFits(spec.shape, shape)) throw shapeMismatch(model, name, shape, spec);
  };
}

/**
 * Returns the inputs in the model's declared order. With `convertsNumeric`, a numeric input
 * may have another numeric datatype than the spec's (the runtime converts it).
 */
export function validateInputs(
  model: string,
  specs: readonly TensorSpec[],
  maxBatchSize: number,
  inputs: readonly Tensor[],
  convertsNumeric = false,
): Tensor[] {
  const byName = new Map<string, Tensor>();
  for (const t of inputs) {
    if (t.shape.some((d) => d > MAX_DIM)) {
      throw new InvalidInputError(`input '${t.name}': each dimension must be at most ${MAX_DIM}, got ${formatShape(t.shape)}`);
    }
    if (byName.has(t.name)) throw new InvalidInputError(`input '${t.name}' appears more than once in the request`);
    const spec = specs.find((s) => s.name === t.name);
    if (!spec) {
      throw new InvalidInputError(
        `unexpected inference input '${t.name}' for model '${model}'; it expects ${specs.map((s) => `'${s.name}'`).join(', ')}`,
      );
    }
    const convertible = convertsNumeric && t.datatype !== 'BYTES' && spec.datatype !== 'BYTES';
    if (t.datatype !== spec.datatype && !convertible) {
      throw kindMismatch(model, t.name, t.datatype, spec);
    }
    if (!shapeFits(spec.shape, t.shape)) throw shapeMismatch(model, t.name, t.shape, spec);
    if (t.data.length !== elementCount(t.shape)) {
      throw new InvalidInputError(
        `input '${t.name}' has ${t.data.length} elements but shape ${formatShape(t.shape)} needs ${elementCount(t.shape)}`,
      );
    }
    byName.set(t.name, t);
  }
  const missing = specs.filter((s) => !byName.has(s.name)).map((s) => `'${s.name}'`);
  if (missing.length) {
    throw new InvalidInputError(
      `expected ${specs.length} inputs but got ${inputs.length} inputs for model '${model}': missing ${missing.join(', ')}`,
    );
  }
  const ordered = specs.map((s) => byName.get(s.name)!);
  if (maxBatchSize > 0) checkBatch(model, maxBatchSize, ordered);
  return ordered;
}

function checkBatch(model: string, maxBatchSize: number, inputs: readonly Tensor[]): void {
  const first = inputs[0];
  if (!first) return;
  const batch = first.shape[0];
  for (const t of inputs) {
    if (t.shape.length === 0) throw new InvalidInputError(`input '${t.name}' for batching model '${model}' needs a batch dimension`);
    if (t.shape[0] !== batch) throw new InvalidInputError(`input '${t.name}' batch size does not match other inputs for '${model}'`);
  }
  if (batch! > maxBatchSize) {
    throw new InvalidInputError(`inference request batch-size must be <= ${maxBatchSize} for '${model}', got ${batch}`);
  }
}

/**
 * Returns the output names to compute, in the order the response lists them: the requested
 * ones, else the model's defaults, else all.
 */
export function resolveOutputs(
  model: string,
  specs: readonly TensorSpec[],
  requested?: readonly RequestedOutput[],
  defaults?: readonly string[],
): string[] {
  if (!requested) return defaults ? [...defaults] : specs.map((s) => s.name);
  const names: string[] = [];
  for (const r of requested) {
    classificationCount(r); // a bad K is refused before the model runs
    if (!specs.some((s) => s.name === r.name)) {
      throw new InvalidInputError(
        `unexpected inference output '${r.name}' for model '${model}'; it has ${specs.map((s) => `'${s.name}'`).join(', ')}`,
      );
    }
    if (names.includes(r.name)) throw new InvalidInputError(`output '${r.name}' is requested more than once`);
    names.push(r.name);
  }
  return names;
}
