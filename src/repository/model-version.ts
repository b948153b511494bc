/**
 * One loaded version of a model: its worker pool, its state as the ready endpoints report it,
 * and the requests in flight, so an unload can finish what it accepted before it stops.
 */
import { ModelNotReadyError } from '../core/errors.js';
import type { InferRequest, InferResponse } from '../core/inference.js';
import { resolveOutputs, validateInputs } from '../core/validate.js';
import { type ModelStats, StatisticsRecorder } from '../core/statistics.js';
import type { Tensor, TensorSpec } from '../core/tensor.js';
import { ModelPool, type PoolSpec } from '../pool/model-pool.js';
import type { ModelMetadata } from '../../runtimes/runtime.js';
import type { ModelConfig } from './model-config.js';

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

export class ModelVersion {
  state: ModelState = 'LOADING';
  /** Why the version is not ready, when it is not. */
  reason = '';
  /** Model instances (worker threads) serving this version. */
  instances = 0;
  private pool?: ModelPool;
  private inFlight = 0;
  private readonly statistics = new StatisticsRecorder();
  private drained?: () => void;

  constructor(
    readonly name: string,
    readonly version: string,
    readonly config: ModelConfig,
  ) {}

  get metadata(): ModelMetadata | undefined {
    return this.pool?.metadata;
  }

  /** Input and output specs as clients see them: -1 for the batch dim of batching models. */
  specs(): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
    const meta = this.metadata ?? { inputs: [], outputs: [] };
    if (this.config.maxBatchSize <= 0) return meta;
    const batched = (s: TensorSpec): TensorSpec => ({ ...s, shape: s.shape.length ? [-1, ...s.shape.slice(1)] : s.shape });
    return { inputs: meta.inputs.map(batched), outputs: meta.outputs.map(batched) };
  }

  async load(spec: Omit<PoolSpec, 'label'>): Promise<void> {
    this.state = 'LOADING';
    this.reason = '';
    this.instances = spec.instances;
    try {
      this.pool = await ModelPool.start({ ...spec, label: `model '${this.name}' version ${this.version}` });
      this.state = 'READY';
    } catch (error) {
      this.state = 'UNAVAILABLE';
      this.reason = error instanceof Error ? error.message : String(error);
    }
  }

  async unload(): Promise<void> {
    if (this.state === 'UNAVAILABLE' && !this.pool) return;
    this.state = 'UNLOADING';
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.pool?.close();
    this.pool = undefined;
    this.state = 'UNAVAILABLE';
    this.reason = 'unloaded';
  }

  async infer(request: InferRequest): Promise<InferResponse> {
    const pool = this.pool;
    if (this.state !== 'READY' || !pool) throw new ModelNotReadyError(this.name, this.reason || this.state.toLowerCase());
    const start = performance.now();
    this.inFlight++;
    try {
      const { inputs: inputSpecs, outputs: outputSpecs } = this.specs();
      const inputs = validateInputs(this.name, inputSpecs, this.config.maxBatchSize, request.inputs);
      const outputNames = resolveOutputs(this.name, outputSpecs, request.outputs);
      const { outputs, timing } = await pool.infer({ inputs, outputNames, parameters: request.parameters });
      this.statistics.recordExecution(this.batchSize(inputs), timing);
      this.statistics.recordSuccess((performance.now() - start) * 1e6, timing);
      return { modelName: this.name, modelVersion: this.version, id: request.id, outputs };
    } catch (error) {
      this.statistics.recordFailure((performance.now() - start) * 1e6);
      throw error;
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  /** Samples in a run: dim 0 for batching models, else one. */
  private batchSize(inputs: readonly Tensor[]): number {
    return this.config.maxBatchSize > 0 ? (inputs[0]?.shape[0] ?? 1) : 1;
  }

  stats(): ModelStats {
    return this.statistics.snapshot(this.name, this.version);
  }
}
