/**
 * LightGBM objectives as prediction rules: the link LightGBM's ConvertOutput applies to the
 * raw score, a factor folded into the leaves (the `sigmoid:` parameter of binary and
 * multiclassova), and what lgbserver's `Booster.predict` answers, which becomes output-0.
 */
import type { Link } from '../predictive/links.js';
import type { Prediction } from '../predictive/prediction.js';
import { ModelLoadError } from '../../src/core/runtime.js';

export interface LgbObjective {
  kind: 'classifier' | 'regressor';
  link: Link;
  /** Multiplies every leaf: sigmoid(s * x) is sigmoid of the scaled sum. */
  scale: number;
  prediction: Prediction;
}

const IDENTITY = ['regression', 'regression_l1', 'huber', 'fair', 'quantile', 'mape', 'lambdarank', 'rank_xendcg', 'custom'];
const EXP = ['poisson', 'gamma', 'tweedie'];

function parameters(tokens: string[]): Map<string, string> {
  return new Map(tokens.filter((t) => t.includes(':')).map((t) => t.split(':', 2) as [string, string]));
}

export function lightgbmObjective(line: string | undefined): LgbObjective {
  const [name = 'custom', ...rest] = (line ?? 'custom').split(/\s+/);
  const params = parameters(rest);
  const sigmoid = Number(params.get('sigmoid') ?? 1);
  if (!(sigmoid > 0)) throw new ModelLoadError(`objective '${line}': sigmoid must be a positive number`);
  if (name === 'binary') return { kind: 'classifier', link: 'sigmoid', scale: sigmoid, prediction: 'positive_probability' };
  if (name === 'multiclass') return { kind: 'classifier', link: 'softmax', scale: 1, prediction: 'probabilities' };
  if (name === 'multiclassova') return { kind: 'classifier', link: 'sigmoid', scale: sigmoid, prediction: 'probabilities' };
  if (name === 'cross_entropy') return { kind: 'regressor', link: 'sigmoid', scale: 1, prediction: 'value' };
  if (rest.includes('sqrt'))
    throw new ModelLoadError(`objective '${line}' is not supported: the sqrt transform of regression is not converted`);
  if (IDENTITY.includes(name)) return { kind: 'regressor', link: 'identity', scale: 1, prediction: 'value' };
  if (EXP.includes(name)) return { kind: 'regressor', link: 'exp', scale: 1, prediction: 'value' };
  throw new ModelLoadError(
    `objective '${name}' is not supported; supported: binary, multiclass, multiclassova, cross_entropy, ${[...IDENTITY, ...EXP].join(', ')}`,
  );
}
