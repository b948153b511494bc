/**
 * Seeded synthetic XGBoost models for the benchmark: binary:logistic, full trees of a given
 * depth over F features, written as XGBoost 1.7's JSON model, and the same model as the ONNX
 * file an exporter (onnxmltools) would write: one TreeEnsembleClassifier, BRANCH_LT, missing
 * values along default_left, LOGISTIC over logit(base_score). Real models are rarely full
 * trees, so these are the largest models of their depth.
 */
import { ELEM, attr, graph, model, node, tensorValueInfo } from '../runtimes/onnx-ml/onnx-proto.js';

export interface SynthSpec {
  trees: number;
  depth: number;
  features: number;
  seed: number;
}

interface SynthTree {
  left: number[];
  right: number[];
  feature: number[];
  condition: number[];
  defaultLeft: number[];
}

/** Park-Miller: deterministic across runs and platforms. */
function random(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

function fullTree(rand: () => number, depth: number, features: number): SynthTree {
  const nodes = 2 ** (depth + 1) - 1;
  const t: SynthTree = { left: [], right: [], feature: [], condition: [], defaultLeft: [] };
  for (let i = 0; i < nodes; i++) {
    const internal = 2 * i + 1 < nodes;
    t.left.push(internal ? 2 * i + 1 : -1);
    t.right.push(internal ? 2 * i + 2 : -1);
    t.feature.push(internal ? Math.floor(rand() * features) : 0);
    t.condition.push(Math.fround(internal ? rand() * 4 - 2 : (rand() - 0.5) * 0.2));
    t.defaultLeft.push(rand() < 0.5 ? 1 : 0);
  }
  return t;
}

export function synthTrees(spec: SynthSpec): SynthTree[] {
  const rand = random(spec.seed);
  return Array.from({ length: spec.trees }, () => fullTree(rand, spec.depth, spec.features));
}

export function xgboostJson(spec: SynthSpec, trees: SynthTree[]): string {
  return JSON.stringify({
    learner: {
      attributes: {},
      feature_names: [],
      feature_types: [],
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: String(trees.length), size_leaf_vector: '0' },
          tree_info: trees.map(() => 0),
          trees: trees.map((t, id) => ({
            base_weights: t.condition,
            categories: [],
            categories_nodes: [],
            categories_segments: [],
            categories_sizes: [],
            default_left: t.defaultLeft,
            id,
            left_children: t.left,
            loss_changes: t.left.map(() => 0),
            parents: t.left.map((_, i) => (i === 0 ? 2147483647 : (i - 1) >> 1)),
            right_children: t.right,
            split_conditions: t.condition,
            split_indices: t.feature,
            split_type: t.left.map(() => 0),
            sum_hessian: t.left.map(() => 1),
            tree_param: { num_deleted: '0', num_feature: String(spec.features), num_nodes: String(t.left.length), size_leaf_vector: '0' },
          })),
        },
        name: 'gbtree',
      },
      learner_model_param: {
        base_score: '5E-1',
        boost_from_average: '1',
        num_class: '0',
        num_feature: String(spec.features),
        num_target: '1',
      },
      objective: { name: 'binary:logistic', reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  });
}

export function exportedOnnx(spec: SynthSpec, trees: SynthTree[]): Uint8Array {
  const n: Record<string, number[]> = {
    tree: [],
    node: [],
    feature: [],
    value: [],
    yes: [],
    no: [],
    missing: [],
    lTree: [],
    lNode: [],
    lWeight: [],
  };
  const modes: string[] = [];
  trees.forEach((t, ti) => {
    t.left.forEach((l, i) => {
      const leaf = l === -1;
      n.tree!.push(ti);
      n.node!.push(i);
      n.feature!.push(t.feature[i]!);
      n.value!.push(leaf ? 0 : t.condition[i]!);
      n.yes!.push(leaf ? 0 : l);
      n.no!.push(leaf ? 0 : t.right[i]!);
      n.missing!.push(leaf ? 0 : t.defaultLeft[i]!);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LT');
      if (leaf) {
        n.lTree!.push(ti);
        n.lNode!.push(i);
        n.lWeight!.push(t.condition[i]!);
      }
    });
  });
  const classifier = node({
    opType: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    inputs: ['input'],
    outputs: ['label', 'probabilities'],
    attributes: [
      attr.ints('classlabels_int64s', [0, 1]),
      attr.string('post_transform', 'LOGISTIC'),
      attr.floats('base_values', [0]), // logit(0.5)
      attr.ints('nodes_treeids', n.tree!),
      attr.ints('nodes_nodeids', n.node!),
      attr.ints('nodes_featureids', n.feature!),
      attr.strings('nodes_modes', modes),
      attr.floats('nodes_values', n.value!),
      attr.ints('nodes_truenodeids', n.yes!),
      attr.ints('nodes_falsenodeids', n.no!),
      attr.ints('nodes_missing_value_tracks_true', n.missing!),
      attr.ints('class_treeids', n.lTree!),
      attr.ints('class_nodeids', n.lNode!),
      attr.ints(
        'class_ids',
        n.lTree!.map(() => 0),
      ),
      attr.floats('class_weights', n.lWeight!),
    ],
  });
  const g = graph({
    name: 'xgboost_export',
    nodes: [classifier],
    inputs: [tensorValueInfo('input', ELEM.FLOAT, ['N', spec.features])],
    outputs: [tensorValueInfo('label', ELEM.INT64, ['N']), tensorValueInfo('probabilities', ELEM.FLOAT, ['N', 2])],
  });
  return model(g, [
    { domain: '', version: 15 },
    { domain: 'ai.onnx.ml', version: 3 },
  ]);
}
