/**
 * `output-0`: the one output KServe's sklearnserver, xgbserver and lgbserver answer with, and
 * what it holds. Each runtime picks its default as the KServe server of its framework does;
 * the `predict_proba` request parameter (or model parameter, or the PREDICT_PROBA
 * environment variable) switches a classifier between labels and probabilities.
 */
import { InvalidInputError } from '../../src/core/errors.js';
import type { Parameters } from '../../src/core/inference.js';
import { type Tensor, type TensorSpec, allocate } from '../../src/core/tensor.js';
import type { Scores, Task } from './scorer.js';

export const PREDICTION_OUTPUT = 'output-0';
export const LABEL_OUTPUT = 'label';
export const PROBABILITIES_OUTPUT = 'probabilities';
export const PREDICT_PROBA = 'predict_proba';

export type Prediction =
  /** The class label of each row [N] (scikit-learn's `predict`). */
  | 'label'
  /** Class probabilities [N, C] (`predict_proba`; XGBoost multi:softprob; LightGBM multiclass). */
  | 'probabilities'
  /** The probability of the positive class [N] (XGBoost binary:logistic, LightGBM binary). */
  | 'positive_probability'
  /** The class index as a float [N] (XGBoost multi:softmax). */
  | 'label_index'
  /** Regression values [N], or [N, K] for several per row. */
  | 'value';

const TRUE = ['true', '1', 'yes', 'y', 't', 'on'];
const FALSE = ['false', '0', 'no', 'n', 'f', 'off'];

/** A true/false setting: a boolean, or the strings KServe's strtobool accepts. `what` names it in errors. */
export function parseFlag(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  throw new InvalidInputError(`${what} must be true or false, got ${JSON.stringify(value)}`);
}

/** What output-0 holds for one request. */
export function choosePrediction(task: Task, modelDefault: Prediction, parameters: Parameters): Prediction {
  if (task.kind === 'regressor') return 'value';
  const proba = parseFlag(parameters[PREDICT_PROBA], `request parameter '${PREDICT_PROBA}'`);
  if (proba === undefined) return modelDefault;
  return proba ? 'probabilities' : 'label';
}

function valueShape(width: number): number[] {
  return width === 1 ? [-1] : [-1, width];
}

export function predictionSpec(task: Task, prediction: Prediction): TensorSpec {
  const name = PREDICTION_OUTPUT;
  if (task.kind === 'regressor') return { name, datatype: 'FP32', shape: valueShape(task.width) };
  switch (prediction) {
    case 'label':
      return { name, datatype: task.labelType, shape: [-1] };
    case 'probabilities':
      return { name, datatype: 'FP32', shape: [-1, task.classes] };
    default:
      return { name, datatype: 'FP32', shape: [-1] };
  }
}

function column(values: Float32Array, rows: number, width: number, index: number): Float32Array {
  const out = allocate('FP32', rows) as Float32Array;
  for (let i = 0; i < rows; i++) out[i] = values[i * width + index]!;
  return out;
}

/** Values per row: from the data, or (for zero rows) as the task declares. */
export function rowWidth(values: Float32Array, rows: number, task: Task): number {
  if (rows) return values.length / rows;
  return Math.max(0, task.kind === 'classifier' ? task.classes : task.width);
}

/** output-0's tensor for the scores of `rows` rows. */
export function predictionTensor(prediction: Prediction, scores: Scores, rows: number, task: Task): Tensor {
  const name = PREDICTION_OUTPUT;
  const width = (values: Float32Array) => rowWidth(values, rows, task);
  switch (prediction) {
    case 'label':
      return { ...scores.label!, name };
    case 'probabilities':
      return { name, datatype: 'FP32', shape: [rows, width(scores.probabilities!)], data: scores.probabilities! };
    case 'positive_probability': {
      const p = scores.probabilities!;
      return { name, datatype: 'FP32', shape: [rows], data: column(p, rows, width(p), width(p) - 1) };
    }
    case 'label_index': {
      const labels = scores.label!.data as BigInt64Array;
      return { name, datatype: 'FP32', shape: [rows], data: Float32Array.from(labels, Number) };
    }
    case 'value': {
      const w = width(scores.value!);
      return { name, datatype: 'FP32', shape: w === 1 ? [rows] : [rows, w], data: scores.value! };
    }
  }
}
