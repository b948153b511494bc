/**
 * An XGBoost model document (the JSON that Booster.save_model writes, XGBoost 1.x and 2.x) as a
 * tree ensemble. Semantics, checked against xgboost 1.7 by the fixtures:
 * - go to the left child iff float32(x) < float32(split_condition): strictly less (BRANCH_LT);
 * - a missing value (NaN) goes left iff default_left;
 * - a leaf's value is its split_condition (learning rate already applied), not base_weights;
 * - tree t adds to margin tree_info[t]; each margin starts at the objective's ProbToMargin(base_score).
 */
import type { Tree, TreeEnsemble, TreeNode } from '../onnx-ml/tree-ensemble.js';
import type { EnsembleModel } from '../predictive/ensemble-scorer.js';
import type { Prediction } from '../predictive/prediction.js';
import { ModelLoadError } from '../../src/core/runtime.js';
import { JsonPath } from './json-path.js';
import { OBJECTIVES } from './objectives.js';

export interface XgboostModel extends EnsembleModel {
  objective: string;
  prediction: Prediction;
}

export interface ConvertOptions {
  /** Keep only the trees up to best_iteration, as XGBoost's scikit-learn wrapper predicts. */
  useBestIteration: boolean;
}

function booster(learner: JsonPath): JsonPath {
  const gb = learner.get('gradient_booster');
  const name = gb.get('name').string();
  if (name === 'gbtree') return gb.get('model');
  if (name === 'dart') {
    throw new ModelLoadError(
      "booster 'dart' is not supported: tsserve converts gbtree models only (dart scales each tree by its weight_drop)",
    );
  }
  throw new ModelLoadError(`booster '${name}' is not supported: tsserve converts gbtree models only`);
}

/** base_score: "5E-1" in XGBoost 1.x, "[5E-1]" (one per target) in 2.1 and later. */
function baseScore(param: JsonPath): number {
  const raw = param.get('base_score');
  const text = typeof raw.value === 'string' ? raw.value.trim() : undefined;
  if (text?.startsWith('[')) {
    const values = text.slice(1, -1).split(',').map(Number);
    if (values.length !== 1 || Number.isNaN(values[0])) {
      throw new ModelLoadError(`${raw.path}: one base_score expected, got '${text}' (multi-target models are not supported)`);
    }
    return Math.fround(values[0]!);
  }
  return Math.fround(raw.number());
}

function convertTree(tree: JsonPath, target: number, featureCount: number): Tree {
  const left = tree.get('left_children').numbers();
  const n = left.length;
  const right = tree.get('right_children').numbers(n);
  const features = tree.get('split_indices').numbers(n);
  const conditions = tree.get('split_conditions').numbers(n);
  const defaultLeft = tree.get('default_left').numbers(n);
  const splitType = tree.has('split_type') ? tree.get('split_type').numbers(n) : undefined;
  const nodes: TreeNode[] = [];
  for (let i = 0; i < n; i++) {
    if (left[i] === -1) {
      nodes.push({ leaf: Math.fround(conditions[i]!) });
      continue;
    }
    if (splitType?.[i]) {
      throw new ModelLoadError(
        `${tree.path}: node ${i} is a categorical split (feature ${features[i]}), which tsserve does not convert; ` +
          'one-hot encode the feature, or serve the model exported to ONNX',
      );
    }
    if (features[i]! >= featureCount)
      throw new ModelLoadError(`${tree.path}: node ${i} splits on feature ${features[i]}, but the model has ${featureCount}`);
    nodes.push({
      feature: features[i]!,
      threshold: Math.fround(conditions[i]!),
      mode: 'BRANCH_LT',
      yes: left[i]!,
      no: right[i]!,
      missingYes: defaultLeft[i] === 1,
    });
  }
  return { target, nodes };
}

function checkSingleTarget(param: JsonPath, model: JsonPath): void {
  const targets = param.has('num_target') ? param.get('num_target').integer(1) : 1;
  const leafVector = model.get('gbtree_model_param').has('size_leaf_vector')
    ? model.get('gbtree_model_param').get('size_leaf_vector').integer()
    : 0;
  if (targets > 1 || leafVector > 1) throw new ModelLoadError('multi-target models (num_target > 1, vector leaves) are not supported');
}

/** How many trees to keep: all, or those up to best_iteration. */
function treeCount(learner: JsonPath, model: JsonPath, targets: number, trees: number, options: ConvertOptions): number {
  if (!options.useBestIteration) return trees;
  const attributes = learner.has('attributes') ? learner.get('attributes') : undefined;
  if (!attributes?.has('best_iteration')) return trees;
  const parallel = model.get('gbtree_model_param').get('num_parallel_tree').integer(1);
  return Math.min(trees, (attributes.get('best_iteration').integer() + 1) * parallel * targets);
}

export function convertXgboost(document: unknown, options: ConvertOptions): XgboostModel {
  const learner = new JsonPath(document, 'model').get('learner');
  const param = learner.get('learner_model_param');
  const objectiveName = learner.get('objective').get('name').string();
  const objective = OBJECTIVES[objectiveName];
  if (!objective) {
    throw new ModelLoadError(`objective '${objectiveName}' is not supported; supported: ${Object.keys(OBJECTIVES).join(', ')}`);
  }
  const model = booster(learner);
  checkSingleTarget(param, model);
  const featureCount = param.get('num_feature').integer(1);
  const classes = param.get('num_class').integer();
  const targets = Math.max(1, classes);
  if (objectiveName.startsWith('multi:') && classes < 2)
    throw new ModelLoadError(`objective '${objectiveName}' needs num_class >= 2, got ${classes}`);
  const treeInfo = model.get('tree_info').numbers();
  const trees = model.get('trees').items();
  if (treeInfo.length !== trees.length)
    throw new ModelLoadError(`model.tree_info has ${treeInfo.length} entries for ${trees.length} trees`);
  const kept = treeCount(learner, model, targets, trees.length, options);
  const ensemble: TreeEnsemble = {
    featureCount,
    targetCount: targets,
    precision: 'float',
    baseValues: new Array<number>(targets).fill(objective.baseMargin(baseScore(param))),
    trees: trees.slice(0, kept).map((tree, t) => {
      const target = treeInfo[t]!;
      if (!(target >= 0 && target < targets))
        throw new ModelLoadError(`tree ${t} belongs to class ${target}, but the model has ${targets}`);
      return convertTree(tree, target, featureCount);
    }),
  };
  const names = learner.has('feature_names')
    ? learner
        .get('feature_names')
        .items()
        .map((n) => n.string())
    : [];
  return {
    ensemble,
    link: objective.link,
    kind: objective.kind,
    objective: objectiveName,
    prediction: objective.prediction,
    featureNames: names.length === featureCount ? names : undefined,
  };
}
