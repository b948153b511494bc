/**
 * ONNX models on onnxruntime-node's CPU execution provider. `session.run` blocks the thread
 * that calls it, which is why this adapter only ever runs inside a pool worker.
 */
import type * as ort from 'onnxruntime-node';
import type { Tensor, TensorSpec } from '../../src/core/tensor.js';
import type { RunRequest } from '../../src/core/inference.js';
import type { LoadedModel, ModelMetadata, Runtime, RuntimeOptions } from '../../src/core/runtime.js';
import { fromOrtTensor, toOrtTensor, toSpec } from './ort-tensors.js';
import { openOnnxFile } from './session.js';

class OnnxModel implements LoadedModel {
  readonly metadata: ModelMetadata;

  constructor(private readonly session: ort.InferenceSession) {
    const specs = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map(toSpec).filter((s): s is TensorSpec => s !== undefined);
    this.metadata = {
      platform: 'onnxruntime_onnx',
      inputs: specs(session.inputMetadata),
      outputs: specs(session.outputMetadata),
    };
  }

  async infer({ inputs, outputNames }: RunRequest): Promise<Tensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(t);
    const results = await this.session.run(feeds, outputNames);
    return outputNames.map((name) => fromOrtTensor(name, results[name]!));
  }

  async unload(): Promise<void> {
    await this.session.release();
  }
}

export const onnxRuntime: Runtime = {
  async load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel> {
    return new OnnxModel(await openOnnxFile(modelPath, options));
  },
};
