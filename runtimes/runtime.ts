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
  /** The outputs a request that names none gets; all of them when undefined. */
  defaultOutputs?: string[];
  /**
   * Names of the columns of the model's single [N, F] input, in order: requests with
   * `content_type: "pd"` (and V1 rows keyed by name) send one input per column.
   */
  featureNames?: string[];
  /**
   * The model takes its single input as KServe's sklearn, XGBoost and LightGBM servers do
   * through numpy: a request's one input whatever its name (KServe's own examples call it
   * `input-0`), in any numeric datatype, which the runtime converts. Otherwise the name and
   * datatype must match.
   */
  numpyInput?: boolean;
}

export interface RuntimeOptions {
  /** Threads one run may use; 0 lets the runtime decide. */
  intraOpThreads: number;
  interOpThreads: number;
  /** Free-form adapter parameters from the model's settings file. */
  parameters: Record<string, string>;
}

export interface LoadedModel {
  readonly metadata: ModelMetadata;
  /** Runs the model; returns the outputs `run.outputNames` names, in that order. */
  infer(run: RunRequest): Promise<Tensor[]>;
  unload(): Promise<void>;
}

/** The model file cannot be served: corrupt, or using a feature the runtime does not convert. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export interface Runtime {
  load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel>;
}
