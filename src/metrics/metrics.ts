/**
 * Prometheus metrics on /metrics: KServe's three latency histograms (so existing dashboards
 * keep working) and what KServe's users ask for and lack: requests by model, protocol and
 * status, in-flight requests, queue depth and time, batch sizes, compute time, model load time
 * and state, and request/response sizes. One registry per server, so tests can run several.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LabelledCounter, LabelledGauge, LabelledHistogram } from './labelled-metrics.js';
import type { ExecutionTiming } from '../core/statistics.js';
import type { GenerationStats } from '../core/runtime.js';
import { statusLabel } from './status-label.js';
import { VllmMetrics } from './vllm-metrics.js';

export type Protocol = 'v1' | 'v2' | 'grpc' | 'openai';

/** What the model repository reports as requests run; implemented by Metrics. */
export interface ModelObserver {
  requestStarted(model: string): void;
  requestFinished(model: string, ok: boolean, timing?: ExecutionTiming): void;
  execution(model: string, batchSize: number, timing: ExecutionTiming): void;
  modelLoaded(model: string, version: string, seconds: number, ready: boolean): void;
  modelUnloaded(model: string, version: string): void;
  generationCancelled(model: string): void;
  /** A generation engine finished a sequence (any reason, any route). */
  generationFinished(model: string, stats: GenerationStats): void;
}

/** For servers and tests that keep no metrics. */
export const NO_OBSERVER: ModelObserver = {
  requestStarted() {},
  requestFinished() {},
  execution() {},
  modelLoaded() {},
  modelUnloaded() {},
  generationCancelled() {},
  generationFinished() {},
};

const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The label of requests for a model the server never loaded: a client's text never becomes a label value. */
export const UNKNOWN_MODEL_LABEL = '_unknown';

export class Metrics implements ModelObserver {
  readonly registry = new Registry();
  /** Models a load was attempted for (repository folders, or files a client loaded): the only label values. */
  private readonly knownModels = new Set<string>();
  private queueDepth: () => Iterable<[string, number]> = () => [];

  // Per-request series are LabelledMetrics (cheap to observe); the rest stay prom-client's.
  readonly preprocess = this.histogram('request_preprocess_seconds', 'Time decoding a request (KServe name)');
  readonly predict = this.histogram('request_predict_seconds', 'Time from decoded request to model answer (KServe name)');
  readonly postprocess = this.histogram('request_postprocess_seconds', 'Time encoding a response (KServe name)');
  private readonly requests = new LabelledCounter(
    this.registry,
    'tsserve_inference_requests_total',
    'Inference requests answered, by model, protocol and status (HTTP status; gRPC codes as their HTTP equivalent)',
    ['model_name', 'protocol', 'status'],
  );
  private readonly failures = new LabelledCounter(
    this.registry,
    'tsserve_inference_failures_total',
    'Inference requests that failed inside the server after decoding (validation, queue, model errors)',
    ['model_name'],
  );
  private readonly inFlight = new LabelledGauge(
    this.registry,
    'tsserve_inference_requests_in_flight',
    'Inference requests accepted and not yet answered by the model',
    ['model_name'],
  );
  private readonly queueSize = new Gauge({
    name: 'tsserve_batch_queue_size',
    help: 'Requests waiting in the dynamic batcher',
    labelNames: ['model_name'],
    registers: [this.registry],
    collect: () => {
      this.queueSize.reset();
      for (const [model, depth] of this.queueDepth()) this.queueSize.set({ model_name: model }, depth);
    },
  });
  private readonly queueTime = this.histogram('tsserve_queue_seconds', 'Time from submission to a worker starting the run');
  private readonly computeTime = this.histogram(
    'tsserve_inference_compute_seconds',
    'Time the runtime spent running the model, per model run',
  );
  private readonly batchSize = new LabelledHistogram(
    this.registry,
    'tsserve_batch_size',
    'Samples per model run',
    ['model_name'],
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
  );
  private readonly loadTime = new Gauge({
    name: 'tsserve_model_load_seconds',
    help: 'Time the last load of a model version took',
    labelNames: ['model_name', 'version'],
    registers: [this.registry],
  });
  private readonly modelReady = new Gauge({
    name: 'tsserve_model_ready',
    help: '1 while a model version is ready, 0 when it failed to load or was unloaded',
    labelNames: ['model_name', 'version'],
    registers: [this.registry],
  });
  private readonly cancelled = new Counter({
    name: 'tsserve_generations_cancelled_total',
    help: 'Text generations stopped early because the client went away',
    labelNames: ['model_name'],
    registers: [this.registry],
  });
  private readonly requestsCancelled = new LabelledCounter(
    this.registry,
    'tsserve_requests_cancelled_total',
    'Inference requests whose client went away (disconnect, gRPC cancel) before the answer; their work was dropped',
    ['model_name', 'protocol'],
  );
  private readonly requestBytes = new LabelledHistogram(
    this.registry,
    'tsserve_request_bytes',
    'Inference request body size',
    ['model_name', 'protocol'],
    SIZE_BUCKETS,
  );
  private readonly responseBytes = new LabelledHistogram(
    this.registry,
    'tsserve_response_bytes',
    'Inference response body size',
    ['model_name', 'protocol'],
    SIZE_BUCKETS,
  );

  /** vLLM's names for the generation engines' state. */
  readonly vllm = new VllmMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  private histogram(name: string, help: string): LabelledHistogram {
    return new LabelledHistogram(this.registry, name, help, ['model_name'], LATENCY_BUCKETS);
  }

  /** Where the queue depth gauge reads from when scraped. */
  watchQueues(source: () => Iterable<[string, number]>): void {
    this.queueDepth = source;
  }

  /** `model` as a label value: its name once the server has loaded it, else UNKNOWN_MODEL_LABEL. */
  modelLabel(model: string): string {
    return this.knownModels.has(model) ? model : UNKNOWN_MODEL_LABEL;
  }

  /** One answered inference request, as its frontend saw it; `model` is a label value (modelLabel). */
  answered(model: string, protocol: Protocol, status: string | number, requestBytes?: number, responseBytes?: number): void {
    this.requests.inc(model, protocol, statusLabel(status));
    if (requestBytes !== undefined) this.requestBytes.observe(requestBytes, model, protocol);
    if (responseBytes !== undefined) this.responseBytes.observe(responseBytes, model, protocol);
  }

  requestStarted(model: string): void {
    this.inFlight.add(1, model);
  }

  requestFinished(model: string, ok: boolean, timing?: ExecutionTiming): void {
    this.inFlight.add(-1, model);
    if (!ok) this.failures.inc(model);
    if (timing) this.queueTime.observe(timing.queueNs / 1e9, model);
  }

  execution(model: string, batchSize: number, timing: ExecutionTiming): void {
    this.batchSize.observe(batchSize, model);
    this.computeTime.observe((timing.inputNs + timing.inferNs + timing.outputNs) / 1e9, model);
  }

  modelLoaded(model: string, version: string, seconds: number, ready: boolean): void {
    this.knownModels.add(model);
    this.loadTime.set({ model_name: model, version }, seconds);
    this.modelReady.set({ model_name: model, version }, ready ? 1 : 0);
  }

  modelUnloaded(model: string, version: string): void {
    this.modelReady.set({ model_name: model, version }, 0);
  }

  /** A client left before its answer; `model` is a loaded model's name or `_unknown`. */
  requestCancelled(model: string, protocol: Protocol): void {
    this.requestsCancelled.inc(model, protocol);
  }

  generationCancelled(model: string): void {
    this.cancelled.inc({ model_name: model });
  }

  generationFinished(model: string, stats: GenerationStats): void {
    this.vllm.finished(model, stats);
  }
}
