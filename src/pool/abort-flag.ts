/**
 * A request's cancellation mirrored into shared memory for a worker thread: a worker busy running a model
 * does not turn its event loop, so a message could not reach it in time, but it can read a flag
 * between two steps (or before it starts a task that waited in the pool's queue).
 */
import type { CancelSignal } from '../core/cancel.js';

export interface SharedAbortFlag {
  buffer: SharedArrayBuffer;
  /** Stops mirroring the signal once the task has settled. */
  detach(): void;
}

export function sharedAbortFlag(signal: CancelSignal): SharedAbortFlag {
  const buffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(buffer);
  const detach = signal.onAbort(() => Atomics.store(flag, 0, 1));
  return { buffer, detach };
}

/** The worker's side: a signal-like view of the flag, polled as the runtime sees fit. */
export function readAbortFlag(buffer: SharedArrayBuffer | undefined): { readonly aborted: boolean } {
  if (!buffer) return { aborted: false };
  const flag = new Int32Array(buffer);
  return {
    get aborted() {
      return Atomics.load(flag, 0) !== 0;
    },
  };
}
