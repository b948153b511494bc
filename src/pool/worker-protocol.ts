/** Messages between a model pool and its worker threads. */
import type { ErrorCode } from '../core/errors.js';
import type { RunRequest } from '../core/inference.js';
import type { ExecutionTiming } from '../core/statistics.js';
import type { Tensor } from '../core/tensor.js';
import type { ModelMetadata, RuntimeOptions } from '../../runtimes/runtime.js';

export interface WorkerConfig {
  runtime: string;
  modelPath: string;
  options: RuntimeOptions;
}

/** `submittedAt` is epoch milliseconds (performance.timeOrigin + now()), comparable across threads. */
export type WorkerTask = { op: 'metadata' } | { op: 'infer'; run: RunRequest; submittedAt: number };

/** Errors travel as data: structured clone keeps an Error's message but drops its class and code. */
export interface WorkerFailure {
  ok: false;
  code: ErrorCode;
  message: string;
}

export type MetadataReply = { ok: true; metadata: ModelMetadata } | WorkerFailure;
export type InferReply = { ok: true; outputs: Tensor[]; timing: ExecutionTiming } | WorkerFailure;
