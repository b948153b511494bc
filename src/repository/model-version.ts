/**
 * One loaded version of a model: its worker pool, its state as the ready endpoints report it,
 * and the requests in flight, so an unload can finish what it accepted before it stops.
 */
import { InvalidInputError, ModelNotReadyError } from '../core/errors.js';
import { PANDAS_CONTENT_TYPE, assembleColumns } from '../core/columns.js';
import type { InferRequest, InferResponse } from '../core/inference.js';
import { resolveOutputs, validateInputs } from '../core/validate.js';
import type { Tensor, TensorSpec } from '../core/tensor.js';
import { ModelPool, type PoolSpec } from '../pool/model-pool.js';
import type { ModelMetadata } from '../../runtimes/runtime.js';
import type { ModelConfig } from './model-config.js';

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/** A request's only input, named as the model's only input (KServe takes inputs[0]). */
function byPosition(inputs: Tensor[], specs: readonly TensorSpec[]): Tensor[] {
  if (inputs.length !== 1 || specs.length !== 1 || inputs[0]!.name === specs[0]!.name) return inputs;
  return [{ ...inputs[0]!, name: specs[0]!.name }];
}

export class ModelVersion {
  state: ModelState = 'LOADING';
  /** Why the version is not ready, when it is not. */
  reason = '';
  private pool?: ModelPool;
  private inFlight = 0;
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

  /** The request's inputs, with the columns of a `content_type: "pd"` request joined into one. */
  private tableInputs(request: InferRequest): Tensor[] {
    if (request.parameters['content_type'] !== PANDAS_CONTENT_TYPE) return request.inputs;
    const { inputs } = this.specs();
    if (inputs.length !== 1) {
      throw new InvalidInputError(`content_type "pd" needs a model with one input; '${this.name}' has ${inputs.length}`);
    }
    return [assembleColumns(this.name, inputs[0]!, this.metadata?.featureNames, request.inputs)];
  }

  async infer(request: InferRequest): Promise<InferResponse> {
    const pool = this.pool;
    if (this.state !== 'READY' || !pool) throw new ModelNotReadyError(this.name, this.reason || this.state.toLowerCase());
    const { inputs: inputSpecs, outputs: outputSpecs } = this.specs();
    const meta = pool.metadata;
    const given = this.tableInputs(request);
    const inputs = validateInputs(this.name, inputSpecs, this.config.maxBatchSize, meta.numpyInput ? byPosition(given, inputSpecs) : given, meta.numpyInput);
    const outputNames = resolveOutputs(this.name, outputSpecs, request.outputs, meta.defaultOutputs);
    this.inFlight++;
    try {
      const { outputs } = await pool.infer({ inputs, outputNames, parameters: request.parameters });
      return { modelName: this.name, modelVersion: this.version, id: request.id, outputs };
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }
}
