/**
 * A LightGBM text model as a tree ensemble, exact to LightGBM's Tree::NumericalDecision:
 * - go left iff x <= threshold, in double precision (so the graph takes FP64 and keeps the
 *   thresholds and leaf sums as doubles);
 * - decision_type bit 1 is default_left; bits 2-3 the missing type:
 *   None: NaN is treated as 0 and compared; NaN: NaN takes the default side;
 *   Zero: NaN and every |x| <= kZeroThreshold (1e-35f) take the default side;
 * - tree t adds to class t % num_tree_per_iteration; average_output (random forest mode)
 *   divides by the number of iterations.
 * Categorical splits and linear trees are refused.
 */
import type { SplitNode, Tree, TreeEnsemble, TreeNode } from '../onnx-ml/tree-ensemble.js';
import type { EnsembleModel } from '../predictive/ensemble-scorer.js';
import type { Prediction } from '../predictive/prediction.js';
import { ModelLoadError } from '../../src/core/runtime.js';
import type { LgbModel, LgbTree } from './lightgbm-text.js';
import { lightgbmObjective } from './objectives.js';

/** LightGBM's kZeroThreshold: the float 1e-35f, compared as a double. */
export const ZERO_THRESHOLD = Math.fround(1e-35);

const CATEGORICAL = 1;
const DEFAULT_LEFT = 2;
const MISSING_ZERO = 1;
const MISSING_NAN = 2;

export interface LightgbmModel extends EnsembleModel {
  prediction: Prediction;
}

function checkSupported(tree: LgbTree): void {
  if (tree.isLinear) throw new ModelLoadError(`Tree=${tree.index} is a linear tree (linear_tree=true), which tsserve does not convert`);
  const categorical = tree.decisionType.findIndex((d) => d & CATEGORICAL);
  if (tree.numCat > 0 || categorical >= 0) {
    throw new ModelLoadError(
      `Tree=${tree.index} has categorical splits (num_cat=${tree.numCat}), which tsserve does not convert; ` +
        'train with the feature as numeric, or serve the model exported to ONNX',
    );
  }
}

/**
 * Missing type Zero as three nodes: x < -kZero goes to the comparison; otherwise x <= kZero
 * (a zero, or NaN) takes the default side; otherwise the comparison. The comparison is reached
 * along two paths, which the tree checker allows. Returns [entry node, appended nodes].
 */
function zeroTest(compare: SplitNode, defaultSide: number, firstAppendedId: number): [SplitNode, SplitNode[]] {
  const compareId = firstAppendedId;
  const zeroId = firstAppendedId + 1;
  const { feature } = compare;
  return [
    { feature, threshold: -ZERO_THRESHOLD, mode: 'BRANCH_LT', yes: compareId, no: zeroId, missingYes: false },
    [
      { ...compare, missingYes: false },
      { feature, threshold: ZERO_THRESHOLD, mode: 'BRANCH_LEQ', yes: defaultSide, no: compareId, missingYes: true },
    ],
  ];
}

/** Node ids: splits keep theirs, leaf k is (splits + k), zero tests' nodes come after the leaves. */
function convertTree(tree: LgbTree, target: number, scale: number, featureCount: number): Tree {
  checkSupported(tree);
  const splits = tree.numLeaves - 1;
  const child = (c: number) => (c >= 0 ? c : splits + ~c);
  const nodes: TreeNode[] = [];
  const appended: TreeNode[] = [];
  for (let i = 0; i < splits; i++) {
    const feature = tree.splitFeature[i]!;
    if (!(feature >= 0 && feature < featureCount))
      throw new ModelLoadError(`Tree=${tree.index}: split ${i} uses feature ${feature}, but the model has ${featureCount}`);
    const threshold = tree.threshold[i]!;
    const decision = tree.decisionType[i]!;
    const [left, right] = [child(tree.leftChild[i]!), child(tree.rightChild[i]!)];
    const missing = (decision >> 2) & 3;
    const defaultSide = decision & DEFAULT_LEFT ? left : right;
    // None: NaN is compared as 0. NaN: NaN takes the default side.
    const missingYes = missing === MISSING_NAN ? defaultSide === left : 0 <= threshold;
    const compare: SplitNode = { feature, threshold, mode: 'BRANCH_LEQ', yes: left, no: right, missingYes };
    if (missing !== MISSING_ZERO) {
      nodes.push(compare);
      continue;
    }
    const [entry, extra] = zeroTest(compare, defaultSide, splits + tree.numLeaves + appended.length);
    nodes.push(entry);
    appended.push(...extra);
  }
  for (const value of tree.leafValue) nodes.push({ leaf: value * scale });
  return { target, nodes: [...nodes, ...appended] };
}

export function convertLightgbm(model: LgbModel): LightgbmModel {
  const objective = lightgbmObjective(model.objective);
  const perIteration = model.treesPerIteration;
  if (model.trees.length % perIteration !== 0) {
    throw new ModelLoadError(`${model.trees.length} trees is not a whole number of iterations of ${perIteration} trees`);
  }
  const iterations = model.trees.length / perIteration;
  const scale = objective.scale / (model.averageOutput && iterations > 0 ? iterations : 1);
  const ensemble: TreeEnsemble = {
    featureCount: model.featureCount,
    targetCount: perIteration,
    precision: 'double',
    baseValues: new Array<number>(perIteration).fill(0),
    trees: model.trees.map((tree, t) => convertTree(tree, t % perIteration, scale, model.featureCount)),
  };
  return {
    ensemble,
    link: objective.link,
    kind: objective.kind,
    prediction: objective.prediction,
    featureNames: model.featureNames.length === model.featureCount ? model.featureNames : undefined,
  };
}
