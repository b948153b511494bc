/**
 * A predictive model (classifier or regressor) served the way KServe's sklearnserver,
 * xgbserver and lgbserver serve theirs: one output, `output-0`, returned unless the request
 * names outputs, plus `label` and `probabilities` for classifiers when asked for by name.
 * The V1 frontend therefore answers `{"predictions": [...]}` with one value (or one row of
 * probabilities) per instance, as those servers do, without knowing anything about runtimes.
 */
import { toFloat } from '../../src/core/cast.js';
import type { RunRequest } from '../../src/core/inference.js';
import type { Tensor, TensorSpec } from '../../src/core/tensor.js';
import type { LoadedModel, ModelMetadata, RuntimeOptions } from '../../src/core/runtime.js';
import {
  LABEL_OUTPUT,
  PREDICTION_OUTPUT,
  PREDICT_PROBA,
  PROBABILITIES_OUTPUT,
  type Prediction,
  choosePrediction,
  parseFlag,
  predictionSpec,
  predictionTensor,
  rowWidth,
} from './prediction.js';
import type { Scorer, Scores } from './scorer.js';

export interface PredictiveSettings {
  /** Triton-style platform name reported in model metadata. */
  platform: string;
  /** What output-0 holds for a classifier when nothing asks for labels or probabilities. */
  classifierDefault: Prediction;
}

function classifierDefault(settings: PredictiveSettings, options: RuntimeOptions): Prediction {
  const proba = parseFlag(options.parameters[PREDICT_PROBA], `model parameter '${PREDICT_PROBA}'`);
  if (proba === undefined) return settings.classifierDefault;
  return proba ? 'probabilities' : 'label';
}

function outputSpecs(scorer: Scorer, modelDefault: Prediction): TensorSpec[] {
  const { task } = scorer;
  const specs = [predictionSpec(task, modelDefault)];
  if (task.kind === 'classifier') {
    specs.push({ name: LABEL_OUTPUT, datatype: task.labelType, shape: [-1] });
    specs.push({ name: PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [-1, task.classes] });
  }
  return specs;
}

export class PredictiveModel implements LoadedModel {
  readonly metadata: ModelMetadata;
  private readonly modelDefault: Prediction;

  constructor(
    private readonly scorer: Scorer,
    settings: PredictiveSettings,
    options: RuntimeOptions,
  ) {
    this.modelDefault = classifierDefault(settings, options);
    this.metadata = {
      platform: settings.platform,
      inputs: [scorer.input],
      outputs: outputSpecs(scorer, this.modelDefault),
      defaultOutputs: [PREDICTION_OUTPUT],
      featureNames: scorer.featureNames,
      numpyInput: true,
    };
  }

  async infer({ inputs, outputNames, parameters }: RunRequest): Promise<Tensor[]> {
    const input = toFloat(inputs[0]!, this.scorer.input.datatype as 'FP32' | 'FP64');
    const rows = input.shape[0]!;
    const prediction = choosePrediction(this.scorer.task, this.modelDefault, parameters);
    const wantLabel = outputNames.includes(LABEL_OUTPUT) || prediction === 'label' || prediction === 'label_index';
    const scores = await this.scorer.score(input, wantLabel);
    return outputNames.map((name) => this.output(name, prediction, scores, rows));
  }

  private output(name: string, prediction: Prediction, scores: Scores, rows: number): Tensor {
    if (name === PREDICTION_OUTPUT) return predictionTensor(prediction, scores, rows, this.scorer.task);
    if (name === LABEL_OUTPUT) return { ...scores.label!, name };
    const probabilities = scores.probabilities!;
    return { name, datatype: 'FP32', shape: [rows, rowWidth(probabilities, rows, this.scorer.task)], data: probabilities };
  }

  unload(): Promise<void> {
    return this.scorer.release();
  }
}
