/**
 * LightGBM's text model format (Booster.save_model, `model.txt`; lgbserver's `model.bst`), read
 * as GBDT::LoadModelFromString does: a `tree` line, header `key=value` lines (and bare flags
 * such as `average_output`), one `Tree=i` block per tree, then `end of trees`. What follows
 * (feature importances, parameters) is not needed to predict.
 */
import { ModelLoadError } from '../../src/core/runtime.js';

export interface LgbTree {
  index: number;
  numLeaves: number;
  numCat: number;
  isLinear: boolean;
  splitFeature: number[];
  threshold: number[];
  decisionType: number[];
  leftChild: number[];
  rightChild: number[];
  leafValue: number[];
}

export interface LgbModel {
  numClass: number;
  treesPerIteration: number;
  featureCount: number;
  /** The objective line, e.g. "binary sigmoid:1"; undefined for a custom objective. */
  objective?: string;
  averageOutput: boolean;
  featureNames: string[];
  trees: LgbTree[];
}

/** Whether a file's first bytes are LightGBM's text format. */
export function looksLikeLightgbm(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 16)).replace(/^\uFEFF/, '');
  return /^tree\r?\n/.test(text);
}

function parseNumber(token: string, where: string): number {
  const t = token.toLowerCase();
  const n = t === 'inf' || t === '+inf' ? Infinity : t === '-inf' ? -Infinity : Number(token);
  if (Number.isNaN(n) || token === '') throw new ModelLoadError(`${where}: '${token}' is not a number`);
  return n;
}

class Block {
  constructor(
    private readonly fields: Map<string, string>,
    private readonly where: string,
  ) {}

  has(key: string): boolean {
    return this.fields.has(key);
  }

  text(key: string): string {
    const v = this.fields.get(key);
    if (v === undefined) throw new ModelLoadError(`${this.where}: missing '${key}='`);
    return v;
  }

  int(key: string, min = 0): number {
    const n = parseNumber(this.text(key), `${this.where} ${key}`);
    if (!Number.isInteger(n) || n < min) throw new ModelLoadError(`${this.where}: ${key} must be an integer >= ${min}, got ${n}`);
    return n;
  }

  numbers(key: string, length: number): number[] {
    const text = this.fields.get(key) ?? '';
    const values =
      text.trim() === ''
        ? []
        : text
            .trim()
            .split(/\s+/)
            .map((t) => parseNumber(t, `${this.where} ${key}`));
    if (values.length !== length) throw new ModelLoadError(`${this.where}: ${key} has ${values.length} values, expected ${length}`);
    return values;
  }
}

function readTree(block: Block, index: number): LgbTree {
  const numLeaves = block.int('num_leaves', 1);
  const splits = numLeaves - 1;
  return {
    index,
    numLeaves,
    numCat: block.has('num_cat') ? block.int('num_cat') : 0,
    isLinear: block.has('is_linear') && block.text('is_linear').trim() !== '0',
    splitFeature: block.numbers('split_feature', splits),
    threshold: block.numbers('threshold', splits),
    decisionType: block.numbers('decision_type', splits),
    leftChild: block.numbers('left_child', splits),
    rightChild: block.numbers('right_child', splits),
    leafValue: block.numbers('leaf_value', numLeaves),
  };
}

function keyValue(line: string, fields: Map<string, string>): void {
  const eq = line.indexOf('=');
  if (eq < 0) fields.set(line.trim(), '');
  else fields.set(line.slice(0, eq).trim(), line.slice(eq + 1));
}

export function parseLightgbmText(text: string): LgbModel {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== 'tree') throw new ModelLoadError("not a LightGBM text model: the first line must be 'tree'");
  const header = new Map<string, string>();
  const treeFields: Map<string, string>[] = [];
  let ended = false;
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    if (line.startsWith('end of trees')) {
      ended = true;
      break;
    }
    if (line.startsWith('Tree=')) treeFields.push(new Map());
    else keyValue(line, treeFields.at(-1) ?? header);
  }
  if (!ended) throw new ModelLoadError("the LightGBM model is truncated: no 'end of trees' line");
  const head = new Block(header, 'header');
  const featureCount = head.int('max_feature_idx') + 1;
  return {
    numClass: head.int('num_class', 1),
    treesPerIteration: head.has('num_tree_per_iteration') ? head.int('num_tree_per_iteration', 1) : head.int('num_class', 1),
    featureCount,
    objective: header.get('objective')?.trim() || undefined,
    averageOutput: header.has('average_output'),
    featureNames: header.get('feature_names')?.trim().split(/\s+/) ?? [],
    trees: treeFields.map((fields, i) => readTree(new Block(fields, `Tree=${i}`), i)),
  };
}
