/**
 * One loaded version of a model: its worker pool and the scheduler in front of it, its state as
 * the ready endpoints report it, its statistics, and the requests in flight, so an unload can
 * finish what it accepted before it stops.
 */
import type { CancelSignal } from '../core/cancel.js';
import type { Worker } from 'node:worker_threads';
import { InvalidInputError } from '../core/errors.js';
import { PANDAS_CONTENT_TYPE, assembleColumns } from '../core/columns.js';
import type { InferRequest, InferResponse, RunRequest } from '../core/inference.js';
import { DynamicBatcher, requestTimeoutUs } from '../scheduler/dynamic-batcher.js';
import { DirectScheduler } from '../scheduler/direct-scheduler.js';
import type { RunResult, Scheduler } from '../scheduler/scheduler.js';
import { resolveOutputs, validateInputs } from '../core/validate.js';
import { classifyOutputs } from '../core/classification.js';
import { type ExecutionTiming, type ModelStats, StatisticsRecorder } from '../core/statistics.js';
import { type ModelObserver, NO_OBSERVER } from '../metrics/metrics.js';
import { type Tensor, type TensorSpec, bytesFromStrings } from '../core/tensor.js';
import { ModelPool, type PoolSpec } from '../pool/model-pool.js';
import { InlineModel } from '../pool/inline-model.js';
import type { EngineSnapshot } from '../core/engine-gauges.js';
import type { EmbedResult, GenerateChunk, GenerateRequest, GenerateResult, ModelMetadata, TextModelInfo } from '../core/runtime.js';
import type { ModelConfig } from '../model-config/model-config.js';
import { completeModelConfig } from '../model-config/complete-config.js';
import { notReadyError } from './readiness.js';

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/**
 * How to load one version: its worker pool, the run time below which it also runs inline, and
 * who hears when an inline run held the serving thread too long (the version then stops running inline).
 */
export type VersionSpec = Omit<PoolSpec, 'label'> & { inline: InlinePlan; onInlineDemoted?: (runUs: number) => void };

/** Inline execution's limit, and the workers a version keeps when it runs inline. */
export interface InlinePlan {
  maxUs: number;
  instances: number;
  intraOpThreads: number;
}

/** A request's only input, named as the model's only input (KServe takes inputs[0]). */
function byPosition(inputs: Tensor[], specs: readonly TensorSpec[]): Tensor[] {
  if (inputs.length !== 1 || specs.length !== 1 || inputs[0]!.name === specs[0]!.name) return inputs;
  return [{ ...inputs[0]!, name: specs[0]!.name }];
}

export class ModelVersion {
  state: ModelState = 'LOADING';
  /** Why the version is not ready, when it is not. */
  reason = '';
  /** Model instances (worker threads) serving this version. */
  instances = 0;
  /** config.pbtxt completed from the loaded model and its placement: what `/config` reports. */
  completedConfig?: Record<string, unknown>;
  private pool?: ModelPool;
  private inline?: InlineModel;
  private scheduler?: Scheduler;
  private specsFor?: ModelMetadata;
  private cachedSpecs?: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  private inFlight = 0;
  private readonly statistics = new StatisticsRecorder();
  private drained?: () => void;

  constructor(
    readonly name: string,
    readonly version: string,
    readonly config: ModelConfig,
    private readonly observer: ModelObserver = NO_OBSERVER,
  ) {}

  /** Requests waiting in this version's scheduler. */
  get queueLength(): number {
    return this.scheduler?.queueDepth ?? 0;
  }

  get metadata(): ModelMetadata | undefined {
    return this.pool?.metadata;
  }

  /** Input and output specs as clients see them: -1 for the batch dim of batching models. */
  specs(): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
    const meta = this.metadata;
    if (!meta) return { inputs: [], outputs: [] };
    // Every request validates against these: derive them once per loaded session.
    if (this.specsFor !== meta) {
      this.cachedSpecs = this.clientSpecs(meta);
      this.specsFor = meta;
    }
    return this.cachedSpecs!;
  }

  private clientSpecs(meta: ModelMetadata): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
    const batched = (s: TensorSpec): TensorSpec => ({ ...s, shape: s.shape.length ? [-1, ...s.shape.slice(1)] : s.shape });
    return this.config.maxBatchSize <= 0 ? meta : { inputs: meta.inputs.map(batched), outputs: meta.outputs.map(batched) };
  }

  async load({ inline, onInlineDemoted = () => {}, ...spec }: VersionSpec): Promise<void> {
    this.state = 'LOADING';
    this.reason = '';
    const started = performance.now();
    this.instances = spec.instances;
    try {
      const rows = Math.max(1, this.config.maxBatchSize);
      const inputsOf = (meta: ModelMetadata) => this.clientSpecs(meta).inputs;
      this.inline = await InlineModel.calibrate(spec, inputsOf, rows, inline.maxUs, onInlineDemoted);
      // Its workers then take only runs larger than calibrated: one, with every thread, is enough unless asked for more.
      const poolSpec = this.inline
        ? { ...spec, instances: inline.instances, options: { ...spec.options, intraOpThreads: inline.intraOpThreads } }
        : spec;
      const pool = await ModelPool.start({
        ...poolSpec,
        label: `model '${this.name}' version ${this.version}`,
        onGeneration: (stats) => this.observer.generationFinished(this.name, stats),
      });
      this.pool = pool;
      // A generation engine may serve with fewer workers than asked (one holding all threads).
      this.instances = pool.instances;
      const { executionProvider, deviceId } = poolSpec.options;
      this.completedConfig = completeModelConfig({
        name: this.name,
        config: this.config,
        metadata: pool.metadata,
        instances: pool.instances,
        placement: { executionProvider, deviceId },
      });
      this.scheduler = this.createScheduler(pool, pool.instances);
      this.state = 'READY';
    } catch (error) {
      this.state = 'UNAVAILABLE';
      this.reason = error instanceof Error ? error.message : String(error);
      await this.inline?.unload();
      this.inline = undefined;
    }
    this.observer.modelLoaded(this.name, this.version, (performance.now() - started) / 1000, this.state === 'READY');
  }

  async unload(): Promise<void> {
    if (this.state === 'UNAVAILABLE' && !this.pool) return;
    this.state = 'UNLOADING';
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.scheduler?.stop();
    await Promise.all([this.pool?.close(), this.inline?.unload()]);
    this.pool = undefined;
    this.inline = undefined;
    this.scheduler = undefined;
    this.state = 'UNAVAILABLE';
    this.reason = 'unloaded';
    this.observer.modelUnloaded(this.name, this.version);
  }

  /** Where the version runs, for its 'model loaded' log line. */
  placementLog(): Record<string, unknown> {
    const inline = this.inline?.calibration;
    return { instances: this.instances, inline: inline ? { rows: inline.rows, median_us: Math.round(inline.medianUs) } : false };
  }

  /** The generation engines' gauges and cache settings, for vLLM's metrics; undefined for other models. */
  get engine(): { gauges: EngineSnapshot; cache: NonNullable<TextModelInfo['cache']> } | undefined {
    const cache = this.metadata?.text?.cache;
    const gauges = this.pool?.engineGauges;
    return cache && gauges ? { gauges: gauges.total(), cache } : undefined;
  }

  /** What a text model (Hugging Face) offers the text routes; undefined for tensor models. */
  get text(): TextModelInfo | undefined {
    return this.metadata?.text;
  }

  /** The request's inputs, with the columns of a `content_type: "pd"` request joined into one. */
  private tableInputs(request: InferRequest): Tensor[] {
    if (request.parameters['content_type'] !== PANDAS_CONTENT_TYPE) return request.inputs;
    const { inputs } = this.specs();
    if (inputs.length !== 1) {
      throw new InvalidInputError(`content_type "pd" needs a model with one input; '${this.name}' has ${inputs.length}`);
    }
    return [assembleColumns(this.name, inputs[0]!, this.metadata?.featureNames, request.inputs)];
  }

  /** Triton's scheduler choice: the dynamic batcher when config.pbtxt asks for one, else direct. */
  private createScheduler(pool: ModelPool, slots: number): Scheduler {
    const inline = this.inline;
    const execute = inline
      ? (run: RunRequest, signal?: CancelSignal) => (inline.fits(run) ? inline.run(run) : pool.infer(run, signal))
      : (run: RunRequest, signal?: CancelSignal) => pool.infer(run, signal);
    const onExecution = (size: number, timing: ExecutionTiming) => this.recordExecution(size, timing);
    const batching = this.config.dynamicBatching;
    if (!batching) return new DirectScheduler(execute, onExecution);
    return new DynamicBatcher({ ...batching, maxBatchSize: this.config.maxBatchSize, slots, execute, onExecution });
  }

  async infer(request: InferRequest, signal?: CancelSignal): Promise<InferResponse> {
    const pool = this.readyPool();
    const start = performance.now();
    try {
      const { outputs: raw, timing } = await this.track(
        () => this.run(pool, request, signal),
        (result) => result.timing,
      );
      const outputs = classifyOutputs(raw, request.outputs, this.config.outputLabels, this.config.maxBatchSize > 0);
      this.statistics.recordSuccess((performance.now() - start) * 1e6, timing);
      return { modelName: this.name, modelVersion: this.version, id: request.id, outputs };
    } catch (error) {
      this.statistics.recordFailure((performance.now() - start) * 1e6);
      throw error;
    }
  }

  /** Embeddings for the OpenAI route: batched with v2 requests when config.pbtxt asks for dynamic batching. */
  async embed(texts: string[], signal?: CancelSignal): Promise<EmbedResult> {
    const pool = this.readyPool();
    // The batcher merges tensor runs, so a batching model embeds as a v2 request does; otherwise
    // the pool's own embed call skips building and splitting tensors.
    const names = this.text?.embedOutputs;
    if (!this.config.dynamicBatching || !names || !texts.length) return this.track(() => pool.embed(texts));
    const input: Tensor = { name: this.specs().inputs[0]!.name, datatype: 'BYTES', shape: [texts.length], data: bytesFromStrings(texts) };
    const outputs = [
      { name: names.embedding, parameters: {} },
      { name: names.tokenCount, parameters: {} },
    ];
    const response = await this.infer({ model: this.name, parameters: {}, inputs: [input], outputs }, signal);
    const [embedding, tokens] = response.outputs as [Tensor, Tensor];
    return {
      embeddings: embedding.data as Float32Array,
      dim: embedding.shape[1]!,
      tokenCounts: Array.from(tokens.data as BigInt64Array, Number),
    };
  }

  generate(request: GenerateRequest, onChunk: (chunk: GenerateChunk) => void, signal: CancelSignal): Promise<GenerateResult> {
    const pool = this.readyPool();
    return this.track(async () => {
      const result = await pool.generate(request, onChunk, signal);
      if (result.finishReason === 'cancelled') this.observer.generationCancelled(this.name);
      return result;
    });
  }

  private readyPool(): ModelPool {
    const pool = this.pool;
    if (this.state !== 'READY' || !pool) throw notReadyError(this);
    return pool;
  }

  /** Validates a request and hands it to the scheduler. */
  private run(pool: ModelPool, request: InferRequest, signal?: CancelSignal): Promise<RunResult> {
    const { inputs: inputSpecs, outputs: outputSpecs } = this.specs();
    const meta = pool.metadata;
    const given = this.tableInputs(request);
    const inputs = validateInputs(
      this.name,
      inputSpecs,
      this.config.maxBatchSize,
      meta.numpyInput ? byPosition(given, inputSpecs) : given,
      meta.numpyInput,
    );
    const outputNames = resolveOutputs(this.name, outputSpecs, request.outputs, meta.defaultOutputs);
    const run = { inputs, outputNames, parameters: request.parameters };
    // Triton reads `timeout` only where there is a queue to time out of: the dynamic batcher's.
    const batching = this.config.dynamicBatching;
    const timeoutUs = batching ? requestTimeoutUs(request.parameters, batching.defaultTimeoutUs) : 0;
    return this.scheduler!.submit(run, this.batchSize(inputs), timeoutUs, signal);
  }

  /** Counts work in flight until it settles (an unload waits for it) and reports it to the observer. */
  private async track<T>(work: () => Promise<T>, timingOf: (result: T) => ExecutionTiming | undefined = () => undefined): Promise<T> {
    this.inFlight++;
    this.observer.requestStarted(this.name);
    let ok = false;
    let timing: ExecutionTiming | undefined;
    try {
      const result = await work();
      ok = true;
      timing = timingOf(result);
      return result;
    } finally {
      this.observer.requestFinished(this.name, ok, timing);
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  private recordExecution(batchSize: number, timing: ExecutionTiming): void {
    this.statistics.recordExecution(batchSize, timing);
    this.observer.execution(this.name, batchSize, timing);
  }

  /** Samples in a run: dim 0 for batching models, else one. */
  private batchSize(inputs: readonly Tensor[]): number {
    return this.config.maxBatchSize > 0 ? (inputs[0]?.shape[0] ?? 1) : 1;
  }

  /** The worker threads running this version (diagnostics; tests kill one to check recovery). */
  workerThreads(): readonly Worker[] {
    return this.pool?.threads() ?? [];
  }

  stats(): ModelStats {
    return this.statistics.snapshot(this.name, this.version);
  }
}
