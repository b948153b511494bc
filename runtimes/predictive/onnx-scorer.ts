/**
 * Scores from a classifier or regressor exported to ONNX (sklearn-onnx, onnxmltools): one
 * [N, F] input; a classifier has a label output [N] (int64 or string) and probabilities
 * [N, C] (after the ZipMap rewrite); a regressor has one float output [N, 1] or [N].
 */
import type * as ort from 'onnxruntime-node';
import type { Tensor, TensorSpec } from '../../src/core/tensor.js';
import { fromOrtTensor, toOrtTensor, toSpec } from '../onnx/ort-tensors.js';
import { ModelLoadError } from '../../src/core/runtime.js';
import type { Scorer, Scores, Task } from './scorer.js';

const LABEL_NAMES = ['output_label', 'label'];
const PROBABILITY_NAMES = ['output_probability', 'probabilities', 'output_probabilities'];
const VALUE_NAMES = ['variable', 'output', 'predictions'];

/** The candidate with a conventional name, else the first. */
function pick(candidates: TensorSpec[], names: readonly string[]): TensorSpec | undefined {
  return candidates.find((s) => names.includes(s.name)) ?? candidates[0];
}

const isFloat = (s: TensorSpec) => s.datatype === 'FP32' || s.datatype === 'FP64';

interface Layout {
  task: Task;
  label?: string;
  probabilities?: string;
  value?: string;
}

function layoutOf(outputs: TensorSpec[]): Layout {
  const labels = outputs.filter((s) => s.shape.length === 1 && (s.datatype === 'INT64' || s.datatype === 'BYTES'));
  const probabilities = outputs.filter((s) => s.shape.length === 2 && s.datatype === 'FP32');
  const label = pick(labels, LABEL_NAMES);
  const proba = pick(probabilities, PROBABILITY_NAMES);
  if (label && proba) {
    const labelType = label.datatype as 'INT64' | 'BYTES';
    return { task: { kind: 'classifier', classes: proba.shape[1]!, labelType }, label: label.name, probabilities: proba.name };
  }
  const value = pick(
    outputs.filter((s) => isFloat(s) && s.shape.length <= 2),
    VALUE_NAMES,
  );
  if (!value) {
    throw new ModelLoadError(
      `the ONNX model's outputs (${outputs.map((s) => `${s.name} ${s.datatype}`).join(', ')}) are neither a classifier's ` +
        "(a label [N] and probabilities [N,C]) nor a regressor's (a float [N,1]); serve it with the onnx runtime instead",
    );
  }
  return { task: { kind: 'regressor', width: value.shape.length === 2 ? value.shape[1]! : 1 }, value: value.name };
}

function inputOf(session: ort.InferenceSession): TensorSpec {
  const inputs = session.inputMetadata.map(toSpec);
  const input = inputs[0];
  if (inputs.length !== 1 || !input || !isFloat(input) || input.shape.length !== 2) {
    throw new ModelLoadError(
      `a predictive model needs one FP32 or FP64 input of shape [N,F]; this ONNX model has ${session.inputNames.join(', ')}; ` +
        'serve it with the onnx runtime instead',
    );
  }
  return { ...input, shape: [-1, input.shape[1]!] };
}

function asFloat32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
}

export class OnnxScorer implements Scorer {
  readonly input: TensorSpec;
  readonly task: Task;
  private readonly layout: Layout;

  constructor(private readonly session: ort.InferenceSession) {
    this.input = inputOf(session);
    const outputs = session.outputMetadata.map(toSpec).filter((s): s is TensorSpec => s !== undefined);
    this.layout = layoutOf(outputs);
    this.task = this.layout.task;
  }

  async score(input: Tensor, wantLabel: boolean): Promise<Scores> {
    const { label, probabilities, value } = this.layout;
    const fetch = [wantLabel ? label : undefined, probabilities, value].filter((n): n is string => n !== undefined);
    const results = await this.session.run({ [this.session.inputNames[0]!]: toOrtTensor(input) }, fetch);
    const tensor = (name: string | undefined) => (name === undefined ? undefined : fromOrtTensor(name, results[name]!));
    const scores: Scores = {};
    if (wantLabel && label) scores.label = tensor(label);
    if (probabilities) scores.probabilities = asFloat32(tensor(probabilities)!);
    if (value) scores.value = asFloat32(tensor(value)!);
    return scores;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
