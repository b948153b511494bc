/**
 * An evaluator of LightGBM's text model format, written for the tests from LightGBM's
 * documented semantics (Tree::NumericalDecision, GBDT::PredictRaw, the objectives'
 * ConvertOutput) and independent of the server's converter: it walks the trees in double
 * precision and shares no code with runtimes/lightgbm. The tests require the two, and the
 * Python generator's evaluator, to agree.
 */

const K_ZERO = Math.fround(1e-35);

interface EvalTree {
  feature: number[];
  threshold: number[];
  decision: number[];
  left: number[];
  right: number[];
  leaf: number[];
}

export interface EvalModel {
  perIteration: number;
  objective: string;
  average: boolean;
  trees: EvalTree[];
}

const nums = (s: string | undefined) => (s && s.trim() ? s.trim().split(' ').map(Number) : []);

export function parseModel(text: string): EvalModel {
  const header: Record<string, string> = {};
  const trees: Record<string, string>[] = [];
  let current = header;
  for (const line of text.split('\n')) {
    if (line === 'end of trees') break;
    if (line.startsWith('Tree=')) trees.push((current = {}));
    else if (line.includes('=')) current[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    else if (line.trim()) current[line.trim()] = '';
  }
  return {
    perIteration: Number(header['num_tree_per_iteration']),
    objective: header['objective'] ?? '',
    average: 'average_output' in header,
    trees: trees.map((t) => ({
      feature: nums(t['split_feature']),
      threshold: nums(t['threshold']),
      decision: nums(t['decision_type']),
      left: nums(t['left_child']),
      right: nums(t['right_child']),
      leaf: nums(t['leaf_value']),
    })),
  };
}

function leafOf(tree: EvalTree, x: number[]): number {
  if (tree.feature.length === 0) return tree.leaf[0]!;
  let node = 0;
  while (node >= 0) {
    let v = x[tree.feature[node]!]!;
    const d = tree.decision[node]!;
    const missing = (d >> 2) & 3;
    const defaultLeft = (d & 2) !== 0;
    if (Number.isNaN(v) && missing !== 2) v = 0;
    const isMissing = (missing === 1 && v >= -K_ZERO && v <= K_ZERO) || (missing === 2 && Number.isNaN(v));
    const goLeft = isMissing ? defaultLeft : v <= tree.threshold[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
  return tree.leaf[-node - 1]!;
}

export function rawScores(model: EvalModel, x: number[]): number[] {
  const k = model.perIteration;
  const out = new Array<number>(k).fill(0);
  model.trees.forEach((t, i) => (out[i % k]! += leafOf(t, x)));
  const iterations = model.trees.length / k;
  return model.average ? out.map((v) => v / iterations) : out;
}

export function predict(model: EvalModel, x: number[]): number[] {
  const raw = rawScores(model, x);
  const [name, ...params] = model.objective.split(' ');
  const sigmoid = Number(params.find((p) => p.startsWith('sigmoid:'))?.split(':')[1] ?? 1);
  if (name === 'binary' || name === 'multiclassova') return raw.map((v) => 1 / (1 + Math.exp(-sigmoid * v)));
  if (name === 'cross_entropy') return raw.map((v) => 1 / (1 + Math.exp(-v)));
  if (name === 'multiclass') {
    const max = Math.max(...raw);
    const e = raw.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }
  if (name === 'poisson' || name === 'gamma' || name === 'tweedie') return raw.map(Math.exp);
  return raw;
}
