/**
 * The worker threads that run one model version. Each thread holds its own session, so a
 * pool of N threads is N model instances; requests queue in piscina until one is free.
 */
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { CancelSignal } from '../core/cancel.js';
import { InferenceError, ServingError } from '../core/errors.js';
import type { RunRequest } from '../core/inference.js';
import type { ExecutionTiming } from '../core/statistics.js';
import type { Tensor } from '../core/tensor.js';
import { receivedTensors, transferList } from '../core/transfer.js';
import { EngineGauges } from '../core/engine-gauges.js';
import { MessageChannel } from 'node:worker_threads';
import { sharedAbortFlag } from './abort-flag.js';
import type {
  EmbedResult,
  EnginePlan,
  GenerateChunk,
  GenerateRequest,
  GenerateResult,
  GenerationStats,
  ModelMetadata,
} from '../core/runtime.js';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type {
  EmbedReply,
  GenerateMessage,
  GenerateReply,
  InferReply,
  MetadataReply,
  WorkerConfig,
  WorkerFailure,
  WorkerTask,
} from './worker-protocol.js';

export interface PoolSpec extends WorkerConfig {
  /** How the model is named in errors, e.g. "classifier version 1". */
  label: string;
  instances: number;
  /** JavaScript heap limit of each worker in MiB; 0 leaves V8's default. */
  maxHeapMb: number;
  /** The runtime's say on running a generation engine (RuntimeEntry.enginePlan). */
  enginePlan?: (modelPath: string, parameters: Record<string, string>) => Promise<EnginePlan | undefined>;
  /** Told of every generation a worker's engine finishes (vLLM's counters and histograms). */
  onGeneration?: (stats: GenerationStats) => void;
}

function listen(channel: string, onGeneration?: (stats: GenerationStats) => void): BroadcastChannel {
  const reports = new BroadcastChannel(channel);
  reports.onmessage = (event) => onGeneration?.((event as { data: GenerationStats }).data);
  reports.unref(); // metrics must not keep the process alive
  return reports;
}

const NO_OPTIONS = {};
const WORKER_FILE = new URL('./worker.js', import.meta.url).href;

/** Requests one engine worker holds at once: its own queue limit answers before this. */
const ENGINE_TASKS = 1 << 20;

/**
 * A model that runs a generation engine gets one worker with all the threads its instances
 * would have shared (one copy of the weights), unless max_num_seqs 1 turns batching off: then
 * each instance is an engine of one sequence, as a worker was before engines.
 */
async function planEngines(
  config: WorkerConfig & { instances: number },
  enginePlan?: PoolSpec['enginePlan'],
): Promise<{ instances: number; gauges?: EngineGauges; channel?: string }> {
  const plan = await enginePlan?.(config.modelPath, config.options.parameters);
  if (!plan) return { instances: config.instances };
  let instances = config.instances;
  if (plan.maxNumSeqs > 1 && instances > 1) {
    config.options = { ...config.options, intraOpThreads: config.options.intraOpThreads * instances };
    instances = 1;
  }
  const gauges = EngineGauges.create(instances);
  const channel = `tsserve-engine-${randomUUID()}`;
  config.options = { ...config.options, engineLink: { buffer: gauges.buffer, slot: 0, channel } };
  return { instances, gauges, channel };
}

function toError(failure: WorkerFailure): ServingError {
  return new ServingError(failure.code, failure.message);
}

export class ModelPool {
  private constructor(
    private readonly piscina: Piscina,
    private readonly label: string,
    readonly metadata: ModelMetadata,
    /** Worker threads: as asked, or one for a generation engine that batches itself. */
    readonly instances: number,
    /** Set when the workers run generation engines: what they are doing now. */
    readonly engineGauges?: EngineGauges,
    private readonly reports?: BroadcastChannel,
  ) {}

  /** Starts the threads and waits for the model to load; rejects with the load error. */
  static async start(spec: PoolSpec): Promise<ModelPool> {
    const { label, maxHeapMb, onGeneration, enginePlan, ...workerData } = spec;
    const { instances, gauges, channel } = await planEngines(workerData, enginePlan);
    const reports = channel ? listen(channel, onGeneration) : undefined;
    const piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: instances,
      maxThreads: instances,
      idleTimeout: Number.POSITIVE_INFINITY,
      // First come, first served, as Triton's schedulers are: by default piscina sends a queued
      // task it cannot place to the back of its queue every time a worker frees up, so under
      // load one request could wait behind dozens that came after it (test/scheduling-order).
      stricterFIFO: true,
      // Nothing reads piscina's run and wait histograms; the scheduler keeps its own timings.
      recordTiming: false,
      // A generation engine takes every request at once and schedules them per step itself.
      concurrentTasksPerWorker: gauges ? ENGINE_TASKS : 1,
      // A worker past its heap limit dies alone: its request fails, piscina starts a new one.
      resourceLimits: maxHeapMb > 0 ? { maxOldGenerationSizeMb: maxHeapMb } : undefined,
      workerData,
    });
    piscina.on('error', () => {}); // a dead thread fails only its task; piscina replaces it
    try {
      const reply = (await piscina.run({ op: 'metadata' } satisfies WorkerTask)) as MetadataReply;
      // The runtime's reason alone: the version it belongs to reports it under its own name.
      if (!reply.ok) throw new Error(reply.message);
      return new ModelPool(piscina, label, reply.metadata, instances, gauges, reports);
    } catch (error) {
      reports?.close();
      await piscina.destroy();
      throw error;
    }
  }

  /** Runs a model run; once `signal` aborts, a task still queued is skipped and a generation stops at its next step. */
  async infer(run: RunRequest, signal?: CancelSignal): Promise<{ outputs: Tensor[]; timing: ExecutionTiming }> {
    const submittedAt = performance.timeOrigin + performance.now();
    // A SharedArrayBuffer per task halves the throughput of microsecond tensor models (bench:quick),
    // so only text models, whose runs take long enough to be worth stopping, get the flag; a tensor
    // run whose caller left is still answered to no one, its result dropped by the scheduler.
    const abort = signal && this.metadata.text ? sharedAbortFlag(signal) : undefined;
    try {
      const reply = await this.run<InferReply>({ op: 'infer', run, submittedAt, abort: abort?.buffer }, transferList(run.inputs));
      if (!reply.ok) throw toError(reply);
      receivedTensors(reply.outputs);
      return reply;
    } finally {
      abort?.detach();
    }
  }

  async embed(texts: string[]): Promise<EmbedResult> {
    const reply = await this.run<EmbedReply>({ op: 'embed', texts });
    if (!reply.ok) throw toError(reply);
    return reply;
  }

  /**
   * Generates in a worker, calling `onChunk` as tokens arrive. Aborting `signal` stops the
   * generation between two steps (or before it starts, if it is still queued); the result
   * then has finishReason 'cancelled'.
   */
  async generate(request: GenerateRequest, onChunk: (chunk: GenerateChunk) => void, signal: CancelSignal): Promise<GenerateResult> {
    const abort = sharedAbortFlag(signal);
    const { port1, port2 } = new MessageChannel();
    const done = new Promise<GenerateResult>((resolve) => {
      port1.on('message', (message: GenerateMessage) => {
        if (message.kind === 'chunk') onChunk(message.chunk);
        else resolve(message.result);
      });
    });
    try {
      const reply = await this.run<GenerateReply>({ op: 'generate', request, port: port2, abort: abort.buffer }, [port2 as never]);
      if (!reply.ok) throw toError(reply);
      return await done;
    } finally {
      abort.detach();
      port1.close();
    }
  }

  private async run<R>(task: WorkerTask, transfer?: ArrayBuffer[]): Promise<R> {
    try {
      return (await this.piscina.run(task, transfer?.length ? { transferList: transfer } : NO_OPTIONS)) as R;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InferenceError(`the worker running ${this.label} failed: ${reason}`);
    }
  }

  /** The live worker threads, for diagnostics and fault-injection tests. */
  threads(): readonly Worker[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    this.reports?.close();
    await this.piscina.destroy();
  }
}
