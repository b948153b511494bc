/**
 * The timing of one inference request through decode (preprocess), model (predict) and encode
 * (postprocess), as every frontend records it for KServe's histograms and the request counters.
 */
import type { Metrics, Protocol } from './metrics.js';

type Phase = 'preprocess' | 'predict' | 'postprocess';

/** Timing of one inference request through decode, model and encode. */
export class InferenceTrace {
  readonly ms: Partial<Record<Phase, number>> = {};
  private last = performance.now();

  constructor(
    readonly model: string,
    readonly protocol: Protocol,
  ) {}

  /** Ends `phase` now: its time is from the previous mark. */
  mark(phase: Phase): void {
    const now = performance.now();
    this.ms[phase] = now - this.last;
    this.last = now;
  }
}

/** Records a finished inference's phase times and its answer; a model never loaded counts as `_unknown`. */
export function recordTrace(
  metrics: Metrics,
  trace: InferenceTrace,
  name: string,
  status: string | number,
  requestBytes?: number,
  responseBytes?: number,
): void {
  const model = metrics.modelLabel(name);
  for (const phase of ['preprocess', 'predict', 'postprocess'] as const) {
    const ms = trace.ms[phase];
    if (ms !== undefined) metrics[phase].observe(ms / 1000, model);
  }
  metrics.answered(model, trace.protocol, status, requestBytes, responseBytes);
}
