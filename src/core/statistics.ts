/**
 * Per-model-version statistics in the shape of Triton's statistics extension, which
 * perf_analyzer and Model Analyzer read for their server-side breakdown. Durations are
 * nanoseconds; counts are requests, except `execution_count` (runs of the model) and
 * `inference_count` (samples, so a batch of 8 counts 8).
 */

export interface Duration {
  count: number;
  ns: number;
}

export interface InferStats {
  success: Duration;
  fail: Duration;
  queue: Duration;
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
  cache_hit: Duration;
  cache_miss: Duration;
}

export interface BatchStats {
  batch_size: number;
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
}

export interface ModelStats {
  name: string;
  version: string;
  /** Milliseconds since the epoch of the last successful inference; 0 if none. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: InferStats;
  batch_stats: BatchStats[];
}

/** Where one run of the model spent its time, as the worker measured it. */
export interface ExecutionTiming {
  queueNs: number;
  inputNs: number;
  inferNs: number;
  outputNs: number;
}

const zero = (): Duration => ({ count: 0, ns: 0 });

function add(d: Duration, ns: number): void {
  d.count++;
  d.ns += Math.max(0, Math.round(ns));
}

export class StatisticsRecorder {
  private lastInference = 0;
  private inferences = 0;
  private executions = 0;
  private readonly stats: InferStats = {
    success: zero(),
    fail: zero(),
    queue: zero(),
    compute_input: zero(),
    compute_infer: zero(),
    compute_output: zero(),
    cache_hit: zero(),
    cache_miss: zero(),
  };
  private readonly batches = new Map<number, BatchStats>();

  /** One run of the model over `batchSize` samples (one or several requests). */
  recordExecution(batchSize: number, timing: ExecutionTiming): void {
    this.executions++;
    this.inferences += batchSize;
    let batch = this.batches.get(batchSize);
    if (!batch) {
      batch = { batch_size: batchSize, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      this.batches.set(batchSize, batch);
    }
    add(batch.compute_input, timing.inputNs);
    add(batch.compute_infer, timing.inferNs);
    add(batch.compute_output, timing.outputNs);
  }

  /** One request that succeeded: its share of the execution it ran in, and its total time. */
  recordSuccess(totalNs: number, timing: ExecutionTiming): void {
    this.lastInference = Date.now();
    add(this.stats.success, totalNs);
    add(this.stats.queue, timing.queueNs);
    add(this.stats.compute_input, timing.inputNs);
    add(this.stats.compute_infer, timing.inferNs);
    add(this.stats.compute_output, timing.outputNs);
  }

  recordFailure(totalNs: number): void {
    add(this.stats.fail, totalNs);
  }

  snapshot(name: string, version: string): ModelStats {
    const copy = (d: Duration): Duration => ({ ...d });
    const s = this.stats;
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: this.inferences,
      execution_count: this.executions,
      inference_stats: {
        success: copy(s.success),
        fail: copy(s.fail),
        queue: copy(s.queue),
        compute_input: copy(s.compute_input),
        compute_infer: copy(s.compute_infer),
        compute_output: copy(s.compute_output),
        cache_hit: copy(s.cache_hit),
        cache_miss: copy(s.cache_miss),
      },
      batch_stats: [...this.batches.values()]
        .sort((a, b) => a.batch_size - b.batch_size)
        .map((b) => ({
          batch_size: b.batch_size,
          compute_input: copy(b.compute_input),
          compute_infer: copy(b.compute_infer),
          compute_output: copy(b.compute_output),
        })),
    };
  }
}
