/**
 * Scores from a tree ensemble converted at load (XGBoost, LightGBM): onnxruntime sums the
 * trees into margins [N, K]; the objective's link turns them into predictions; a classifier's
 * probabilities and labels follow from those.
 */
import type * as ort from 'onnxruntime-node';
import { type Tensor, type TensorSpec, allocate } from '../../src/core/tensor.js';
import { INPUT_NAME, MARGIN_NAME, type TreeEnsemble, treeEnsembleToOnnx } from '../onnx-ml/tree-ensemble.js';
import { toOrtTensor } from '../onnx/ort-tensors.js';
import { createSession } from '../onnx/session.js';
import type { RuntimeOptions } from '../../src/core/runtime.js';
import { type Link, applyLink } from './links.js';
import type { Scorer, Scores, Task } from './scorer.js';

export interface EnsembleModel {
  ensemble: TreeEnsemble;
  link: Link;
  /** A classifier's margins are one column (binary: p of class 1) or one per class. */
  kind: 'classifier' | 'regressor';
  featureNames?: string[];
}

/** Binary [N] p -> [N, 2] [1-p, p]; several classes pass through. */
function classProbabilities(predicted: Float32Array, width: number): Float32Array {
  if (width !== 1) return predicted;
  const out = allocate('FP32', predicted.length * 2) as Float32Array;
  for (let i = 0; i < predicted.length; i++) {
    out[2 * i] = 1 - predicted[i]!;
    out[2 * i + 1] = predicted[i]!;
  }
  return out;
}

/** The first most probable class of each row (XGBoost's and LightGBM's argmax). */
function argmax(probabilities: Float32Array, classes: number): Tensor {
  const rows = probabilities.length / classes;
  const labels = allocate('INT64', rows) as BigInt64Array;
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probabilities[i * classes + k]! > probabilities[i * classes + best]!) best = k;
    labels[i] = BigInt(best);
  }
  return { name: 'label', datatype: 'INT64', shape: [rows], data: labels };
}

export class EnsembleScorer implements Scorer {
  readonly input: TensorSpec;
  readonly task: Task;
  readonly featureNames?: string[];

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: EnsembleModel,
  ) {
    const { ensemble } = model;
    const width = ensemble.targetCount;
    this.input = { name: INPUT_NAME, datatype: ensemble.precision === 'double' ? 'FP64' : 'FP32', shape: [-1, ensemble.featureCount] };
    this.task =
      model.kind === 'classifier'
        ? { kind: 'classifier', classes: width === 1 ? 2 : width, labelType: 'INT64' }
        : { kind: 'regressor', width };
    this.featureNames = model.featureNames;
  }

  static async create(model: EnsembleModel, options: RuntimeOptions): Promise<EnsembleScorer> {
    return new EnsembleScorer(await createSession(treeEnsembleToOnnx(model.ensemble), options), model);
  }

  async score(input: Tensor, wantLabel: boolean): Promise<Scores> {
    const results = await this.session.run({ [INPUT_NAME]: toOrtTensor(input) });
    const width = this.model.ensemble.targetCount;
    const predicted = applyLink(this.model.link, results[MARGIN_NAME]!.data as Float32Array, width);
    if (this.task.kind === 'regressor') return { value: predicted };
    const probabilities = classProbabilities(predicted, width);
    return { probabilities, label: wantLabel ? argmax(probabilities, this.task.classes) : undefined };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
