/**
 * Triton's dynamic batcher for one model version: requests queue in arrival order; whenever a
 * model instance is free, the longest run of compatible requests at the head of the queue
 * (never splitting one, never beyond max_batch_size) becomes one model run. It runs at once
 * when it is full, reaches a preferred size, meets an incompatible request, or its oldest
 * request has waited max_queue_delay; each caller then gets exactly its own rows back.
 */
import { type CancelSignal, CancelSource } from '../core/cancel.js';
import { InvalidInputError, UnavailableError } from '../core/errors.js';
import type { Parameters, RunRequest } from '../core/inference.js';
import type { DynamicBatchingConfig } from '../model-config/model-config.js';
import { concatInputs, shapeKey, splitOutputs } from './batch-tensors.js';
import { type ExecutionListener, type Executor, type RunResult, type Scheduler, STOPPED_MESSAGE, abortError } from './scheduler.js';

interface Job {
  run: RunRequest;
  rows: number;
  key: string;
  enqueuedAt: number;
  deadline: number;
  resolve(result: RunResult): void;
  reject(error: Error): void;
  /** Undoes the abort listener once the job leaves the queue. */
  release(): void;
  signal?: CancelSignal;
}

/** Request parameters that shape the transport, not the model run: they do not split batches. */
const TRANSPORT_PARAMETERS = new Set(['binary_data_output', 'timeout', 'priority', 'headers']);

function mergeKey(run: RunRequest): string {
  const params = Object.keys(run.parameters)
    .filter((k) => !TRANSPORT_PARAMETERS.has(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(run.parameters[k])}`);
  return `${shapeKey(run.inputs)}>${run.outputNames.join(',')}?${params.join('&')}`;
}

export interface BatcherOptions extends DynamicBatchingConfig {
  maxBatchSize: number;
  /** Model instances: how many batches may run at once. */
  slots: number;
  execute: Executor;
  onExecution: ExecutionListener;
}

export class DynamicBatcher implements Scheduler {
  private readonly queue: Job[] = [];
  private running = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private stopped = false;
  private idle?: () => void;

  constructor(private readonly options: BatcherOptions) {}

  get queueDepth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running;
  }

  /**
   * Queues a validated run of `rows` samples; `timeoutUs` (0: none) bounds its wait in the
   * queue. An aborted `signal` takes a job still queued out at once; a caller of a batch
   * already running gets the abort error at once, and the batch is told to stop once all of
   * its callers have gone.
   */
  submit(run: RunRequest, rows: number, timeoutUs: number, signal?: CancelSignal): Promise<RunResult> {
    const { maxQueueSize } = this.options;
    if (this.stopped) return Promise.reject(new UnavailableError(STOPPED_MESSAGE));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (maxQueueSize > 0 && this.queue.length >= maxQueueSize) {
      return Promise.reject(new UnavailableError(`Exceeds maximum queue size (${maxQueueSize} requests waiting)`));
    }
    return new Promise((resolve, reject) => {
      const now = performance.now();
      const deadline = timeoutUs > 0 ? now + timeoutUs / 1000 : Number.POSITIVE_INFINITY;
      const job: Job = { run, rows, key: mergeKey(run), enqueuedAt: now, deadline, resolve, reject, release: () => {}, signal };
      if (signal) job.release = signal.onAbort(() => this.withdraw(job, abortError(signal)));
      this.queue.push(job);
      this.pump();
    });
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.running === 0 && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  /** Takes a job out of the queue before it runs; one already dispatched is left to finish. */
  private withdraw(job: Job, error: Error): void {
    const at = this.queue.indexOf(job);
    if (at < 0) return;
    this.queue.splice(at, 1);
    job.release();
    job.reject(error);
    this.pump();
  }

  private pump(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const now = performance.now();
    this.expire(now);
    while (this.running < this.options.slots && this.queue.length) {
      const count = this.formBatch(now);
      if (count === 0) break;
      this.dispatch(this.queue.splice(0, count));
    }
    this.scheduleWake(now);
    if (this.stopped && this.running === 0 && !this.queue.length) this.idle?.();
  }

  /** How many jobs at the head of the queue to run now, or 0 to wait for more. */
  private formBatch(now: number): number {
    const { maxBatchSize, preferredBatchSizes, maxQueueDelayUs } = this.options;
    const head = this.queue[0]!;
    let size = 0;
    let count = 0;
    let closed = false;
    let preferred = 0;
    for (const job of this.queue) {
      if (job.key !== head.key || size + job.rows > maxBatchSize) {
        closed = true; // the batch cannot grow past this job
        break;
      }
      size += job.rows;
      count++;
      if (preferredBatchSizes.includes(size)) preferred = count;
    }
    if (size >= maxBatchSize || closed) return count;
    if (preferred) return preferred;
    if (now - head.enqueuedAt >= maxQueueDelayUs / 1000) return count;
    return 0;
  }

  private dispatch(jobs: Job[]): void {
    this.running++;
    for (const job of jobs) job.release();
    const { signal, detach } = batchSignal(jobs);
    const dispatchedAt = performance.now();
    const first = jobs[0]!.run;
    const run: RunRequest = {
      inputs: concatInputs(jobs.map((j) => j.run.inputs)),
      outputNames: first.outputNames,
      parameters: first.parameters,
    };
    this.options
      .execute(run, signal)
      .then(({ outputs, timing }) => {
        const parts = splitOutputs(
          outputs,
          jobs.map((j) => j.rows),
        );
        this.options.onExecution(
          jobs.reduce((n, j) => n + j.rows, 0),
          timing,
        );
        jobs.forEach((job, i) => {
          const queueNs = timing.queueNs + (dispatchedAt - job.enqueuedAt) * 1e6;
          job.resolve({ outputs: parts[i]!, timing: { ...timing, queueNs } });
        });
      })
      .catch((error: Error) => jobs.forEach((job) => job.reject(error)))
      .finally(() => {
        detach();
        this.running--;
        this.pump();
      });
  }

  /** Rejects queued jobs whose timeout passed: they are never run. */
  private expire(now: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i]!;
      if (job.deadline <= now) {
        this.queue.splice(i, 1);
        job.release();
        job.reject(new UnavailableError('Request timeout expired'));
      }
    }
  }

  /** Wakes up when the oldest job's delay runs out or the next timeout falls due. */
  private scheduleWake(now: number): void {
    if (!this.queue.length) return;
    let wake = Number.POSITIVE_INFINITY;
    for (const job of this.queue) wake = Math.min(wake, job.deadline);
    if (this.running < this.options.slots) wake = Math.min(wake, this.queue[0]!.enqueuedAt + this.options.maxQueueDelayUs / 1000);
    if (!Number.isFinite(wake)) return;
    // Node's timers fire a millisecond late or more, too coarse for delays of a few hundred
    // microseconds: the last stretch is polled with setImmediate, which still lets I/O (new
    // requests) in between checks.
    const remaining = wake - now;
    if (remaining > 2) this.timer = setTimeout(() => this.pump(), remaining - 1.5);
    else this.immediate = setImmediate(() => this.pump());
  }
}

/**
 * While a batch runs, a caller whose signal aborts gets its abort error at once (its rows are
 * dropped when the batch ends); the batch's own signal aborts once every caller has gone.
 */
function batchSignal(jobs: readonly Job[]): { signal: CancelSignal; detach: () => void } {
  const batch = new CancelSource();
  let waiting = jobs.length;
  const undo: (() => void)[] = [];
  for (const job of jobs) {
    const signal = job.signal;
    if (!signal) continue;
    undo.push(
      signal.onAbort(() => {
        job.reject(abortError(signal));
        if (--waiting === 0) batch.abort();
      }),
    );
  }
  return { signal: batch, detach: () => undo.forEach((f) => f()) };
}

/** The request's `timeout` parameter in microseconds, or the model's default. */
export function requestTimeoutUs(parameters: Parameters, defaultUs: number): number {
  const value = parameters['timeout'];
  if (value === undefined) return defaultUs;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidInputError(`parameter 'timeout' must be a non-negative integer of microseconds, got ${JSON.stringify(value)}`);
  }
  return value;
}
