/**
 * A sum of decision trees, the form XGBoost and LightGBM models are converted into, and its
 * ONNX graph: one ai.onnx.ml TreeEnsembleRegressor that returns the raw margins [N, K].
 * The objective's link (sigmoid, softmax, exp) is applied by the adapter, not the graph, so
 * the same graph serves margins and transformed predictions.
 */
import { ModelLoadError } from '../runtime.js';
import { ELEM, attr, graph, model, node, tensorValueInfo } from './onnx-proto.js';

export type Comparison = 'BRANCH_LT' | 'BRANCH_LEQ';

export interface SplitNode {
  feature: number;
  threshold: number;
  /** The comparison that sends a value to `yes`. */
  mode: Comparison;
  yes: number;
  no: number;
  /** Where NaN goes: `yes` when true. */
  missingYes: boolean;
}

export interface LeafNode {
  leaf: number;
}

export type TreeNode = SplitNode | LeafNode;

export interface Tree {
  /** The margin (class) this tree adds to. */
  target: number;
  /** nodes[0] is the root; children are indices into this array. */
  nodes: TreeNode[];
}

export interface TreeEnsemble {
  featureCount: number;
  targetCount: number;
  /**
   * 'float': float32 input and thresholds (XGBoost compares in float32). 'double': float64
   * input, thresholds and leaf sums (LightGBM compares doubles).
   */
  precision: 'float' | 'double';
  baseValues: number[];
  trees: Tree[];
}

export const INPUT_NAME = 'input';
export const MARGIN_NAME = 'margin';

export function isLeaf(n: TreeNode): n is LeafNode {
  return 'leaf' in n;
}

interface Columns {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  values: number[];
  trueIds: number[];
  falseIds: number[];
  missingTrue: number[];
  leafTree: number[];
  leafNode: number[];
  leafTarget: number[];
  leafWeight: number[];
}

function columns(e: TreeEnsemble): Columns {
  const c: Columns = {
    treeIds: [], nodeIds: [], featureIds: [], modes: [], values: [], trueIds: [], falseIds: [], missingTrue: [],
    leafTree: [], leafNode: [], leafTarget: [], leafWeight: [],
  };
  e.trees.forEach((tree, t) => {
    tree.nodes.forEach((n, i) => {
      c.treeIds.push(t);
      c.nodeIds.push(i);
      if (isLeaf(n)) {
        c.featureIds.push(0);
        c.modes.push('LEAF');
        c.values.push(0);
        c.trueIds.push(0);
        c.falseIds.push(0);
        c.missingTrue.push(0);
        c.leafTree.push(t);
        c.leafNode.push(i);
        c.leafTarget.push(tree.target);
        c.leafWeight.push(n.leaf);
      } else {
        c.featureIds.push(n.feature);
        c.modes.push(n.mode);
        c.values.push(n.threshold);
        c.trueIds.push(n.yes);
        c.falseIds.push(n.no);
        c.missingTrue.push(n.missingYes ? 1 : 0);
      }
    });
  });
  return c;
}

/**
 * Refuses what would make onnxruntime misbehave on a corrupt model: a feature or child out of
 * range, a cycle, a NaN threshold. A node may be reached along two paths (LightGBM's zero
 * test joins two branches into one comparison); it may not be its own descendant.
 */
function checkTree(tree: Tree, index: number, e: TreeEnsemble): void {
  const where = `tree ${index}`;
  if (!tree.nodes.length) throw new ModelLoadError(`${where} has no nodes`);
  if (!(tree.target >= 0 && tree.target < e.targetCount)) throw new ModelLoadError(`${where} adds to output ${tree.target} of ${e.targetCount}`);
  const state = new Uint8Array(tree.nodes.length); // 0 new, 1 on the current path, 2 done
  const stack: { id: number; children?: number[] }[] = [{ id: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (!top.children) {
      const { id } = top;
      if (!Number.isInteger(id) || id < 0 || id >= tree.nodes.length) throw new ModelLoadError(`${where} refers to node ${id}, which does not exist`);
      if (state[id] === 1) throw new ModelLoadError(`${where} has a cycle through node ${id}`);
      if (state[id] === 2) {
        stack.pop();
        continue;
      }
      state[id] = 1;
      const n = tree.nodes[id]!;
      if (!isLeaf(n)) {
        if (!(n.feature >= 0 && n.feature < e.featureCount)) throw new ModelLoadError(`${where} node ${id} splits on feature ${n.feature} of ${e.featureCount}`);
        if (Number.isNaN(n.threshold)) throw new ModelLoadError(`${where} node ${id} has a NaN threshold`);
      }
      top.children = isLeaf(n) ? [] : [n.yes, n.no];
    }
    const next = top.children.pop();
    if (next === undefined) {
      state[top.id] = 2;
      stack.pop();
    } else stack.push({ id: next });
  }
}

/** The ONNX model bytes: input `input` [N, F], output `margin` float [N, K]. */
export function treeEnsembleToOnnx(e: TreeEnsemble): Uint8Array {
  e.trees.forEach((tree, i) => checkTree(tree, i, e));
  const c = columns(e);
  const double = e.precision === 'double';
  const numbers = double ? attr.doubles : attr.floats;
  const suffix = double ? '_as_tensor' : '';
  const ensemble = node({
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    name: 'trees',
    inputs: [INPUT_NAME],
    outputs: [MARGIN_NAME],
    attributes: [
      attr.int('n_targets', e.targetCount),
      attr.string('aggregate_function', 'SUM'),
      attr.string('post_transform', 'NONE'),
      numbers(`base_values${suffix}`, e.baseValues),
      attr.ints('nodes_treeids', c.treeIds),
      attr.ints('nodes_nodeids', c.nodeIds),
      attr.ints('nodes_featureids', c.featureIds),
      attr.strings('nodes_modes', c.modes),
      numbers(`nodes_values${suffix}`, c.values),
      attr.ints('nodes_truenodeids', c.trueIds),
      attr.ints('nodes_falsenodeids', c.falseIds),
      attr.ints('nodes_missing_value_tracks_true', c.missingTrue),
      attr.ints('target_treeids', c.leafTree),
      attr.ints('target_nodeids', c.leafNode),
      attr.ints('target_ids', c.leafTarget),
      numbers(`target_weights${suffix}`, c.leafWeight),
    ],
  });
  const g = graph({
    name: 'tree_ensemble',
    nodes: [ensemble],
    inputs: [tensorValueInfo(INPUT_NAME, double ? ELEM.DOUBLE : ELEM.FLOAT, ['N', e.featureCount])],
    outputs: [tensorValueInfo(MARGIN_NAME, ELEM.FLOAT, ['N', e.targetCount])],
  });
  return model(g, [
    { domain: '', version: 15 },
    { domain: 'ai.onnx.ml', version: 3 },
  ]);
}
