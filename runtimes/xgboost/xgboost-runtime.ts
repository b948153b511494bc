/**
 * XGBoost models: native files (.json, .ubj; .bst when it holds either) converted at load to
 * an ONNX tree ensemble, or ONNX exports. output-0 is what xgbserver's Booster.predict answers.
 */
import { readFile } from 'node:fs/promises';
import { EnsembleScorer } from '../predictive/ensemble-scorer.js';
import { loadOnnxPredictive } from '../predictive/onnx-predictive.js';
import { parseFlag } from '../predictive/prediction.js';
import { PredictiveModel } from '../predictive/predictive-model.js';
import type { LoadedModel, Runtime, RuntimeOptions } from '../../src/core/runtime.js';
import { convertXgboost } from './xgboost-convert.js';
import { parseXgboostFile } from './xgboost-file.js';

/** Model parameter: predict with the trees up to best_iteration, as XGBoost's scikit-learn wrapper. */
export const USE_BEST_ITERATION = 'use_best_iteration';

export const xgboostRuntime: Runtime = {
  async load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel> {
    if (modelPath.toLowerCase().endsWith('.onnx')) return loadOnnxPredictive(modelPath, options, 'xgboost', 'booster');
    const document = parseXgboostFile(new Uint8Array(await readFile(modelPath)), modelPath);
    const useBestIteration = parseFlag(options.parameters[USE_BEST_ITERATION], `model parameter '${USE_BEST_ITERATION}'`) ?? false;
    const model = convertXgboost(document, { useBestIteration });
    const scorer = await EnsembleScorer.create(model, options);
    return new PredictiveModel(scorer, { platform: 'xgboost', classifierDefault: model.prediction }, options);
  },
};
