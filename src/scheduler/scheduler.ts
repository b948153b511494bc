/**
 * How a model version's validated requests reach its worker pool. A version holds exactly one
 * scheduler, chosen at load from its config (Triton's scheduler choice): the direct one runs each
 * request as it comes, the dynamic batcher merges queued requests into model runs. The version
 * reads its in-flight and queue counts here whichever it is, so it never branches on the kind.
 */
import type { CancelSignal } from '../core/cancel.js';
import { CancelledError } from '../core/errors.js';
import type { RunRequest } from '../core/inference.js';
import type { ExecutionTiming } from '../core/statistics.js';
import type { Tensor } from '../core/tensor.js';

export interface RunResult {
  outputs: Tensor[];
  timing: ExecutionTiming;
}

/**
 * Runs one model run on a worker (the pool's infer). An aborted `signal` tells the runtime it
 * may stop early (a generation stops at its next step): nobody waits for the run any more.
 */
export type Executor = (run: RunRequest, signal?: CancelSignal) => Promise<RunResult>;

/** Called once per model run with the samples it held. */
export type ExecutionListener = (batchSize: number, timing: ExecutionTiming) => void;

export interface Scheduler {
  /** Runs one validated request; rows = samples in it (dim 0 for batching models). */
  submit(run: RunRequest, rows: number, timeoutUs: number, signal?: CancelSignal): Promise<RunResult>;
  /** Model runs executing now. */
  readonly inFlight: number;
  /** Requests waiting. */
  readonly queueDepth: number;
  /** Refuses new work and resolves once what was accepted has finished. */
  stop(): Promise<void>;
}

/** The error a request gets when its signal aborts before it ran or while it runs. */
export function abortError(signal: CancelSignal): Error {
  const reason = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? reason : new CancelledError();
}

/**
 * `work`'s result, or the abort error as soon as `signal` aborts: a caller that went away stops
 * waiting at once, while the run itself settles on its own time (and is still counted).
 */
export function unlessAborted<T>(work: Promise<T>, signal?: CancelSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const off = signal.onAbort(() => reject(abortError(signal)));
    work.then(resolve, reject).finally(off);
  });
}

export const STOPPED_MESSAGE = 'the model is unloading; it takes no new requests';
