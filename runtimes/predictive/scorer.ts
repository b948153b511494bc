/**
 * What a predictive model (a classifier or regressor from scikit-learn, XGBoost or LightGBM)
 * computes for a batch, whatever its source: an ONNX export, or a native model converted at
 * load. The predictive adapter turns these scores into the outputs clients ask for.
 */
import type { Tensor, TensorSpec } from '../../src/core/tensor.js';

export type Task =
  /** `classes` is C, the width of the probabilities; -1 when the model does not declare it. */
  | { kind: 'classifier'; classes: number; labelType: 'INT64' | 'BYTES' }
  /** `width` is the number of values per row (1 for ordinary regression); -1 when unknown. */
  | { kind: 'regressor'; width: number };

export interface Scores {
  /** Classifiers: the predicted class of each row, [N], INT64 or BYTES. */
  label?: Tensor;
  /** Classifiers: class probabilities, row-major [N, C]. */
  probabilities?: Float32Array;
  /** Regressors: the predictions, row-major [N, width]. */
  value?: Float32Array;
}

export interface Scorer {
  /** The single input, FP32 or FP64 [-1, F]. */
  readonly input: TensorSpec;
  readonly task: Task;
  readonly featureNames?: string[];
  /** Scores `input` (already of the input's datatype); computes labels only when asked. */
  score(input: Tensor, wantLabel: boolean): Promise<Scores>;
  release(): Promise<void>;
}
