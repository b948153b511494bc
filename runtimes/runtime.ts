/**
 * The contract between the core and a runtime adapter. An adapter loads one model version
 * inside a worker thread and runs it on typed tensors; it knows nothing of HTTP or gRPC.
 */
import type { RunRequest } from '../src/core/inference.js';
import type { Tensor, TensorSpec } from '../src/core/tensor.js';

export interface ModelMetadata {
  /** Triton's platform string, e.g. "onnxruntime_onnx". */
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface RuntimeOptions {
  /** Threads one run may use; 0 lets the runtime decide. */
  intraOpThreads: number;
  interOpThreads: number;
  /** Where to run: onnxruntime's CPU provider, or CUDA on one GPU. */
  executionProvider: 'cpu' | 'cuda';
  deviceId: number;
  /** Free-form adapter parameters from the model's settings file. */
  parameters: Record<string, string>;
}

export interface LoadedModel {
  readonly metadata: ModelMetadata;
  /** Runs the model; returns the outputs `run.outputNames` names, in that order. */
  infer(run: RunRequest): Promise<Tensor[]>;
  unload(): Promise<void>;
}

export interface Runtime {
  load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel>;
}
