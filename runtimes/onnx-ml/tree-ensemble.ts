/**
 * A sum of decision trees, the form XGBoost and LightGBM models are converted into, and its
 * ONNX graph: one ai.onnx.ml TreeEnsembleRegressor that returns the raw margins [N, K].
 * The objective's link (sigmoid, softmax, exp) is applied by the adapter, not the graph, so
 * the same graph serves margins and transformed predictions.
 */
import { ModelLoadError } from '../../src/core/runtime.js';
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
  return (n as LeafNode).leaf !== undefined;
}

/** The ensemble as TreeEnsembleRegressor's parallel attribute arrays (typed: they can be long). */
interface Columns {
  treeIds: Int32Array;
  nodeIds: Int32Array;
  featureIds: Int32Array;
  modes: string[];
  values: Float64Array;
  trueIds: Int32Array;
  falseIds: Int32Array;
  missingTrue: Int32Array;
  leafTree: Int32Array;
  leafNode: Int32Array;
  leafTarget: Int32Array;
  leafWeight: Float64Array;
}

function columns(e: TreeEnsemble): Columns {
  let nodeCount = 0;
  let leafCount = 0;
  for (const tree of e.trees) {
    nodeCount += tree.nodes.length;
    for (const n of tree.nodes) if (isLeaf(n)) leafCount++;
  }
  const c: Columns = {
    treeIds: new Int32Array(nodeCount),
    nodeIds: new Int32Array(nodeCount),
    featureIds: new Int32Array(nodeCount),
    modes: new Array<string>(nodeCount),
    values: new Float64Array(nodeCount),
    trueIds: new Int32Array(nodeCount),
    falseIds: new Int32Array(nodeCount),
    missingTrue: new Int32Array(nodeCount),
    leafTree: new Int32Array(leafCount),
    leafNode: new Int32Array(leafCount),
    leafTarget: new Int32Array(leafCount),
    leafWeight: new Float64Array(leafCount),
  };
  let k = 0;
  let l = 0;
  e.trees.forEach((tree, t) => {
    tree.nodes.forEach((n, i) => {
      c.treeIds[k] = t;
      c.nodeIds[k] = i;
      if (isLeaf(n)) {
        c.modes[k] = 'LEAF';
        c.leafTree[l] = t;
        c.leafNode[l] = i;
        c.leafTarget[l] = tree.target;
        c.leafWeight[l++] = n.leaf;
      } else {
        c.featureIds[k] = n.feature;
        c.modes[k] = n.mode;
        c.values[k] = n.threshold;
        c.trueIds[k] = n.yes;
        c.falseIds[k] = n.no;
        c.missingTrue[k] = n.missingYes ? 1 : 0;
      }
      k++;
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
  const { nodes } = tree;
  if (!nodes.length) throw new ModelLoadError(`${where} has no nodes`);
  if (!(tree.target >= 0 && tree.target < e.targetCount))
    throw new ModelLoadError(`${where} adds to output ${tree.target} of ${e.targetCount}`);
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the current path, 2 done
  const stack = [0]; // ~id marks "leaving id"
  while (stack.length) {
    const id = stack.pop()!;
    if (id < 0) {
      state[~id] = 2;
      continue;
    }
    if (state[id] === 1) throw new ModelLoadError(`${where} has a cycle through node ${id}`);
    if (state[id] === 2) continue;
    state[id] = 1;
    stack.push(~id);
    const n = nodes[id]!;
    if (isLeaf(n)) continue;
    if (!(n.feature >= 0 && n.feature < e.featureCount))
      throw new ModelLoadError(`${where} node ${id} splits on feature ${n.feature} of ${e.featureCount}`);
    if (Number.isNaN(n.threshold)) throw new ModelLoadError(`${where} node ${id} has a NaN threshold`);
    for (const child of [n.yes, n.no]) {
      if (!Number.isInteger(child) || child < 0 || child >= nodes.length)
        throw new ModelLoadError(`${where} refers to node ${child}, which does not exist`);
      stack.push(child);
    }
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
