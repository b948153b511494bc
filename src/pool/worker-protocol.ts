/** Messages between a model pool and its worker threads. */
import type { ErrorCode } from '../core/errors.js';
import type { RunRequest } from '../core/inference.js';
import type { ExecutionTiming } from '../core/statistics.js';
import type { Tensor } from '../core/tensor.js';
import type { MessagePort } from 'node:worker_threads';
import type { EmbedResult, GenerateChunk, GenerateRequest, GenerateResult, ModelMetadata, RuntimeOptions } from '../core/runtime.js';

export interface WorkerConfig {
  /** The runtime's name, for messages. */
  runtime: string;
  /**
   * The module the worker imports to run it, and its `Runtime` export: a path rather than an
   * import keeps the pool free of runtimes/ (the composition root says which ones exist).
   */
  runtimeModule: string;
  runtimeExport: string;
  modelPath: string;
  options: RuntimeOptions;
}

/**
 * A generation streams back over `port`: GenerateMessage chunks, then one 'done' with the
 * result (so the result never overtakes a chunk, as it could on piscina's own channel).
 * `abort` is an Int32Array flag the main thread sets to stop between steps: the worker's event
 * loop is busy generating, so a message could not reach it in time, shared memory can.
 * An infer's optional `abort` flag works the same way. An infer's `submittedAt` is epoch milliseconds (performance.timeOrigin + now()), comparable
 * across threads, so the worker can tell how long the task queued.
 */
export type WorkerTask =
  | { op: 'metadata' }
  | { op: 'infer'; run: RunRequest; submittedAt: number; abort?: SharedArrayBuffer }
  | { op: 'embed'; texts: string[] }
  | { op: 'generate'; request: GenerateRequest; port: MessagePort; abort: SharedArrayBuffer };

export type GenerateMessage = { kind: 'chunk'; chunk: GenerateChunk } | { kind: 'done'; result: GenerateResult };

/** Errors travel as data: structured clone keeps an Error's message but drops its class and code. */
export interface WorkerFailure {
  ok: false;
  code: ErrorCode;
  message: string;
}

export type MetadataReply = { ok: true; metadata: ModelMetadata } | WorkerFailure;
export type InferReply = { ok: true; outputs: Tensor[]; timing: ExecutionTiming } | WorkerFailure;
export type EmbedReply = ({ ok: true } & EmbedResult) | WorkerFailure;
export type GenerateReply = { ok: true } | WorkerFailure;
