/** Triton's default scheduler: no queue of its own, each request is one model run on a free worker. */
import type { CancelSignal } from '../core/cancel.js';
import { UnavailableError } from '../core/errors.js';
import type { RunRequest } from '../core/inference.js';
import {
  type ExecutionListener,
  type Executor,
  type RunResult,
  type Scheduler,
  STOPPED_MESSAGE,
  abortError,
  unlessAborted,
} from './scheduler.js';

export class DirectScheduler implements Scheduler {
  private running = 0;
  private stopped = false;
  private idle?: () => void;

  constructor(
    private readonly execute: Executor,
    private readonly onExecution: ExecutionListener,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  /** Requests wait in the worker pool's queue, not here. */
  get queueDepth(): number {
    return 0;
  }

  /** `timeoutUs` bounds a wait in a queue; with none here it has nothing to bound. */
  async submit(run: RunRequest, rows: number, _timeoutUs: number, signal?: CancelSignal): Promise<RunResult> {
    if (this.stopped) throw new UnavailableError(STOPPED_MESSAGE);
    if (signal?.aborted) throw abortError(signal);
    this.running++;
    const execution = this.execute(run, signal)
      .then((result) => {
        this.onExecution(rows, result.timing);
        return result;
      })
      .finally(() => {
        if (--this.running === 0) this.idle?.();
      });
    return unlessAborted(execution, signal);
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }
}
