/**
 * A pool worker: loads one model version when the thread starts and runs it for every task.
 * A load failure is kept and answered to every task, so the pool learns why instead of
 * watching a thread die.
 */
import '../no-telemetry.js'; // first: before onnxruntime loads
import { Piscina } from 'piscina';
import { CancelledError, NotImplementedError, ServingError } from '../core/errors.js';
import { readAbortFlag } from './abort-flag.js';
import { receivedTensors, transferList } from '../core/transfer.js';
import { EngineGauges } from '../core/engine-gauges.js';
import type { LoadedModel, Runtime } from '../core/runtime.js';
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

import { lowerThreadPriority } from './thread-priority.js';

lowerThreadPriority();
const config = Piscina.workerData as WorkerConfig;
const link = config.options.engineLink;
if (link) link.slot = EngineGauges.claimSlot(link.buffer);

async function load(): Promise<LoadedModel> {
  const exports = (await import(config.runtimeModule)) as Record<string, Runtime | undefined>;
  const runtime = exports[config.runtimeExport];
  if (!runtime) throw new Error(`runtime '${config.runtime}': ${config.runtimeModule} has no export '${config.runtimeExport}'`);
  return runtime.load(config.modelPath, config.options);
}

const loading = load();
loading.catch(() => {}); // answered per task below

function failure(error: unknown): WorkerFailure {
  if (error instanceof ServingError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

async function infer(model: LoadedModel, task: Extract<WorkerTask, { op: 'infer' }>): Promise<InferReply> {
  const signal = readAbortFlag(task.abort);
  // Its caller left while it waited in the pool's queue: nobody would read the answer.
  if (signal.aborted) throw new CancelledError();
  const started = performance.timeOrigin + performance.now();
  const inferStart = performance.now();
  receivedTensors(task.run.inputs);
  const outputs = await model.infer(task.run, signal);
  const inferEnd = performance.now();
  const transfers = transferList(outputs);
  const timing = {
    queueNs: (started - task.submittedAt) * 1e6,
    inputNs: (inferStart - (started - performance.timeOrigin)) * 1e6,
    inferNs: (inferEnd - inferStart) * 1e6,
    outputNs: (performance.now() - inferEnd) * 1e6,
  };
  const reply: InferReply = { ok: true, outputs, timing };
  if (!transfers.length) return reply;
  // Piscina's transferable shape: the reply, plus the output buffers to move rather than copy.
  const movable = { [Piscina.transferableSymbol]: transfers, [Piscina.valueSymbol]: reply };
  return Piscina.move(movable as never) as unknown as InferReply;
}

async function generate(model: LoadedModel, task: Extract<WorkerTask, { op: 'generate' }>): Promise<GenerateReply> {
  const flag = new Int32Array(task.abort);
  const signal = {
    get aborted() {
      return Atomics.load(flag, 0) !== 0;
    },
  };
  const post = (message: GenerateMessage) => task.port.postMessage(message);
  try {
    const result = await textModel(model).generate(task.request, (chunk) => post({ kind: 'chunk', chunk }), signal);
    post({ kind: 'done', result });
    return { ok: true };
  } finally {
    task.port.close();
  }
}

async function embed(model: LoadedModel, texts: string[]): Promise<EmbedReply> {
  const result = await textModel(model).embed(texts);
  const reply: EmbedReply = { ok: true, ...result };
  const movable = { [Piscina.transferableSymbol]: [result.embeddings.buffer], [Piscina.valueSymbol]: reply };
  return Piscina.move(movable as never) as unknown as EmbedReply;
}

function textModel(model: LoadedModel) {
  if (!model.text) throw new NotImplementedError('this model does not take text');
  return model.text;
}

type Reply = MetadataReply | InferReply | EmbedReply | GenerateReply;

export default async function handle(task: WorkerTask): Promise<Reply> {
  let model: LoadedModel;
  try {
    model = await loading;
  } catch (error) {
    return { ...failure(error), code: 'UNAVAILABLE' };
  }
  if (task.op === 'metadata') return { ok: true, metadata: model.metadata };
  try {
    switch (task.op) {
      case 'infer':
        return await infer(model, task);
      case 'embed':
        return await embed(model, task.texts);
      case 'generate':
        return await generate(model, task);
    }
  } catch (error) {
    return failure(error);
  }
}
