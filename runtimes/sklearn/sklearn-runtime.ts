/**
 * scikit-learn models, exported to ONNX (sklearn-onnx conventions), served as sklearnserver
 * serves them: output-0 is `predict` (labels, or regression values), or `predict_proba` when
 * asked. Pickles (.joblib, .pkl) need Python to load and are refused with the way out.
 */
import { basename } from 'node:path';
import { loadOnnxPredictive } from '../predictive/onnx-predictive.js';
import { type LoadedModel, ModelLoadError, type Runtime, type RuntimeOptions } from '../../src/core/runtime.js';

export const PICKLE_EXTENSIONS = ['.joblib', '.pkl', '.pickle'];

export const sklearnRuntime: Runtime = {
  async load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel> {
    const file = basename(modelPath);
    if (PICKLE_EXTENSIONS.some((ext) => file.toLowerCase().endsWith(ext))) {
      throw new ModelLoadError(
        `'${file}' is a pickled scikit-learn model, which only Python can load. Export it to ONNX with skl2onnx ` +
          "(onnx = skl2onnx.to_onnx(model, X[:1].astype(numpy.float32)); open('model.onnx', 'wb').write(onnx.SerializeToString())) and serve model.onnx",
      );
    }
    return loadOnnxPredictive(modelPath, options, 'sklearn', 'sklearn');
  },
};
