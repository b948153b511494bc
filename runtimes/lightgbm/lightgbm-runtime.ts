/**
 * LightGBM models: text files (model.txt; lgbserver's model.bst) converted at load to an ONNX
 * tree ensemble over float64 inputs, or ONNX exports. output-0 is what lgbserver's
 * Booster.predict answers.
 */
import { readFile } from 'node:fs/promises';
import { EnsembleScorer } from '../predictive/ensemble-scorer.js';
import { loadOnnxPredictive } from '../predictive/onnx-predictive.js';
import { PredictiveModel } from '../predictive/predictive-model.js';
import type { LoadedModel, Runtime, RuntimeOptions } from '../../src/core/runtime.js';
import { convertLightgbm } from './lightgbm-convert.js';
import { parseLightgbmText } from './lightgbm-text.js';

export const lightgbmRuntime: Runtime = {
  async load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel> {
    if (modelPath.toLowerCase().endsWith('.onnx')) return loadOnnxPredictive(modelPath, options, 'lightgbm', 'booster');
    const model = convertLightgbm(parseLightgbmText(await readFile(modelPath, 'utf8')));
    const scorer = await EnsembleScorer.create(model, options);
    return new PredictiveModel(scorer, { platform: 'lightgbm', classifierDefault: model.prediction }, options);
  },
};
