/** The flags of the sklearn, XGBoost and LightGBM runtimes (KServe's predictive servers). */
import type { FlagDeclaration } from '../../src/core/flags.js';

export const PREDICTIVE_FLAGS = [
  {
    name: 'predict_proba',
    env: ['TSSERVE_PREDICT_PROBA', 'PREDICT_PROBA'],
    type: 'bool',
    default: false,
    help: "Classifiers answer probabilities instead of labels unless a request or model says otherwise (KServe sklearnserver's PREDICT_PROBA)",
  },
] as const satisfies readonly FlagDeclaration[];
