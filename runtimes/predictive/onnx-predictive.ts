/** A classifier or regressor exported to ONNX, served as a predictive model. */
import { openOnnxFile } from '../onnx/session.js';
import type { LoadedModel, RuntimeOptions } from '../../src/core/runtime.js';
import { OnnxScorer } from './onnx-scorer.js';
import type { Prediction } from './prediction.js';
import { PredictiveModel } from './predictive-model.js';
import type { Task } from './scorer.js';

/**
 * 'sklearn': output-0 is the label, as sklearnserver's `predict`. 'booster': what XGBoost's
 * and LightGBM's Booster.predict give: P(positive class) for two classes, else all probabilities.
 */
export type ExportStyle = 'sklearn' | 'booster';

function classifierDefault(style: ExportStyle, task: Task): Prediction {
  if (style === 'sklearn') return 'label';
  return task.kind === 'classifier' && task.classes === 2 ? 'positive_probability' : 'probabilities';
}

export async function loadOnnxPredictive(
  modelPath: string,
  options: RuntimeOptions,
  platform: string,
  style: ExportStyle,
): Promise<LoadedModel> {
  const session = await openOnnxFile(modelPath, options);
  try {
    const scorer = new OnnxScorer(session);
    return new PredictiveModel(scorer, { platform, classifierDefault: classifierDefault(style, scorer.task) }, options);
  } catch (error) {
    await session.release();
    throw error;
  }
}
