/**
 * A second copy of a CPU model, loaded on the serving thread, for runs that take microseconds.
 *
 * Why: a tree or linear model runs a row in 10-20 us, while the hop to a worker thread costs
 * 30-60 us of CPU and four thread wake-ups per request (bench/README.md, "What remains on the
 * hot path"); each wake-up can wait a scheduler slice on a busy pod, which is what puts the p99
 * of one connection at several times its p50. Run inline, such a request never leaves the
 * thread that parsed it.
 *
 * Why it is safe: the event loop must never stall, so a model qualifies only after a
 * calibration at load shows that a run as large as the ones it will be given takes at most
 * `maxUs` (the median of the timed runs: on a shared node the tail of a
 * few dozen runs measures the node's other tenants, not the model), with one intra-op thread; a larger run (more input elements
 * than calibrated) goes to the workers as before. Loading runs on this thread too (onnxruntime
 * builds a session synchronously), so only model files up to MAX_FILE_BYTES are tried: a model
 * that runs in microseconds is small, and its load takes milliseconds. Text models, BYTES
 * inputs, GPU placement and inputs with free dimensions beyond the batch dimension never qualify.
 *
 * Zeros time a model well only if its run time follows the size of its inputs, not their values.
 * A graph that loops over an integer input does not (a count of 0 is instant, of 10^6 is not), so
 * only models whose inputs are all floating point are tried; and any inline run that takes
 * longer than DEMOTE_AFTER_US sends the model back to its workers for good, so a surprise costs
 * one slow run, not every one after it. That bound is far above a microsecond model's run because
 * what is timed is the promise onnxruntime-node settles from setImmediate: it includes whatever
 * else the event loop ran meanwhile (other requests, a scavenge, a preemption on a busy node:
 * 1-50 ms were seen), and well below the 250 ms a health check may wait.
 */
import { stat } from 'node:fs/promises';
import { ServingError } from '../core/errors.js';
import type { RunRequest } from '../core/inference.js';
import type { LoadedModel, ModelMetadata, Runtime } from '../core/runtime.js';
import { type NumericDataType, type Tensor, type TensorSpec, allocate, elementCount } from '../core/tensor.js';
import type { RunResult } from '../scheduler/scheduler.js';
import type { WorkerConfig } from './worker-protocol.js';

const WARMUP_RUNS = 5;
const TIMED_RUNS = 40;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const FLOATING = new Set(['FP16', 'FP32', 'FP64', 'BF16']);
const DEMOTE_AFTER_US = 100_000;

export interface InlineCalibration {
  /** Rows of the calibration run (dim 0). */
  rows: number;
  /** The median of the timed runs, in microseconds. */
  medianUs: number;
}

export class InlineModel {
  private demoted = false;

  private constructor(
    private readonly model: LoadedModel,
    /** Most input elements (all inputs together) a run may hold to run here. */
    private readonly maxElements: number,
    readonly calibration: InlineCalibration,
    private readonly onDemoted: (runUs: number) => void,
  ) {}

  /**
   * Loads the model in this thread and times it at `rows` rows, then at one row; returns the
   * inline copy when the largest size that fits `maxUs` exists, else unloads it. `inputsOf` gives
   * the inputs as clients send them (the batch dimension free for batching models).
   */
  static async calibrate(
    config: WorkerConfig,
    inputsOf: (metadata: ModelMetadata) => TensorSpec[],
    rows: number,
    maxUs: number,
    onDemoted: (runUs: number) => void,
  ): Promise<InlineModel | undefined> {
    if (maxUs <= 0 || config.options.executionProvider !== 'cpu' || !(await smallFile(config.modelPath))) return undefined;
    let model: LoadedModel;
    try {
      model = await loadHere(config);
    } catch {
      return undefined; // the workers load it next, and report why it fails
    }
    try {
      const specs = inputsOf(model.metadata);
      if (!model.metadata.text && sampleInputs(specs, 1)) {
        const outputNames = model.metadata.outputs.map((o) => o.name);
        for (const tryRows of rows > 1 ? [rows, 1] : [1]) {
          const inputs = sampleInputs(specs, tryRows)!;
          const medianUs = await medianRunUs(model, { inputs, outputNames, parameters: {} });
          if (medianUs <= maxUs) {
            const elements = inputs.reduce((n, t) => n + elementCount(t.shape), 0);
            return new InlineModel(model, elements, { rows: tryRows, medianUs }, onDemoted);
          }
        }
      }
    } catch {
      // A model that cannot run on zeros (or at all here) simply stays in its workers.
    }
    await model.unload();
    return undefined;
  }

  /** Whether `run` is no larger than what was calibrated. */
  fits(run: RunRequest): boolean {
    if (this.demoted) return false;
    let elements = 0;
    for (const input of run.inputs) {
      if (input.datatype === 'BYTES') return false;
      elements += elementCount(input.shape);
    }
    return elements <= this.maxElements;
  }

  async run(run: RunRequest): Promise<RunResult> {
    const started = performance.now();
    let outputs: Tensor[];
    try {
      outputs = await this.model.infer(run);
    } catch (error) {
      // As a worker answers it (src/pool/worker.ts): the runtime's own error, or INTERNAL with its message.
      throw error instanceof ServingError ? error : new ServingError('INTERNAL', error instanceof Error ? error.message : String(error));
    }
    const inferNs = (performance.now() - started) * 1e6;
    if (inferNs / 1000 > DEMOTE_AFTER_US && !this.demoted) {
      this.demoted = true;
      this.onDemoted(inferNs / 1000);
    }
    return { outputs, timing: { queueNs: 0, inputNs: 0, inferNs, outputNs: 0 } };
  }

  unload(): Promise<void> {
    return this.model.unload();
  }
}

async function loadHere(config: WorkerConfig): Promise<LoadedModel> {
  const exports = (await import(config.runtimeModule)) as Record<string, Runtime | undefined>;
  const runtime = exports[config.runtimeExport];
  if (!runtime) throw new Error(`runtime '${config.runtime}': ${config.runtimeModule} has no export '${config.runtimeExport}'`);
  // One thread: an intra-op pool would be woken per run, the very cost this copy avoids.
  return runtime.load(config.modelPath, { ...config.options, intraOpThreads: 1, interOpThreads: 1 });
}

/** Zeros shaped as the model's inputs with `rows` for a free first dimension; undefined if any other is free or not floating point. */
function sampleInputs(specs: readonly TensorSpec[], rows: number): Tensor[] | undefined {
  const inputs: Tensor[] = [];
  for (const spec of specs) {
    if (!FLOATING.has(spec.datatype)) return undefined;
    const shape = spec.shape.map((d, i) => (d >= 0 ? d : i === 0 ? rows : -1));
    if (shape.includes(-1)) return undefined;
    inputs.push({ name: spec.name, datatype: spec.datatype, shape, data: allocate(spec.datatype as NumericDataType, elementCount(shape)) });
  }
  return inputs;
}

async function medianRunUs(model: LoadedModel, run: RunRequest): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < WARMUP_RUNS + TIMED_RUNS; i++) {
    const started = performance.now();
    await model.infer(run);
    if (i >= WARMUP_RUNS) times.push((performance.now() - started) * 1000);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/** A model file (not a folder: those hold text models and their tokenizers) of at most MAX_FILE_BYTES. */
async function smallFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size <= MAX_FILE_BYTES;
  } catch {
    return false;
  }
}
