/**
 * XGBoost objectives as prediction rules: how base_score becomes a margin (XGBoost's
 * ProbToMargin), the link from margins to `Booster.predict` values (PredTransform), and what
 * xgbserver's `Booster.predict` answers, which becomes output-0.
 */
import type { Link } from '../predictive/links.js';
import type { Prediction } from '../predictive/prediction.js';

export interface Objective {
  kind: 'classifier' | 'regressor';
  link: Link;
  /** base_score as stored -> the margin every row starts from. */
  baseMargin: (baseScore: number) => number;
  /** output-0 of a classifier, as Booster.predict shapes it. */
  prediction: Prediction;
}

const asIs = (b: number) => b;
const logit = (b: number) => Math.log(b / (1 - b));

const regression = (link: Link, baseMargin: (b: number) => number): Objective => ({
  kind: 'regressor',
  link,
  baseMargin,
  prediction: 'value',
});

export const OBJECTIVES: Record<string, Objective> = {
  'binary:logistic': { kind: 'classifier', link: 'sigmoid', baseMargin: logit, prediction: 'positive_probability' },
  'multi:softprob': { kind: 'classifier', link: 'softmax', baseMargin: asIs, prediction: 'probabilities' },
  'multi:softmax': { kind: 'classifier', link: 'softmax', baseMargin: asIs, prediction: 'label_index' },
  // xgboost 1.7 adds logitraw's base_score as it is (its fixture shows logit would be off by 0.19)
  'binary:logitraw': regression('identity', asIs),
  'reg:logistic': regression('sigmoid', logit),
  'reg:squarederror': regression('identity', asIs),
  'reg:linear': regression('identity', asIs),
  'reg:squaredlogerror': regression('identity', asIs),
  'reg:pseudohubererror': regression('identity', asIs),
  'reg:absoluteerror': regression('identity', asIs),
  'count:poisson': regression('exp', Math.log),
  'reg:gamma': regression('exp', Math.log),
  'reg:tweedie': regression('exp', Math.log),
  'rank:pairwise': regression('identity', asIs),
  'rank:ndcg': regression('identity', asIs),
  'rank:map': regression('identity', asIs),
};
