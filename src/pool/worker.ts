/**
 * A pool worker: loads one model version when the thread starts and runs it for every task.
 * A load failure is kept and answered to every task, so the pool learns why instead of
 * watching a thread die.
 */
import { Piscina } from 'piscina';
import { ServingError } from '../core/errors.js';
import { transferList } from '../core/transfer.js';
import { runtimeByName } from '../../runtimes/index.js';
import type { LoadedModel } from '../../runtimes/runtime.js';
import type { InferReply, MetadataReply, WorkerConfig, WorkerFailure, WorkerTask } from './worker-protocol.js';

const config = Piscina.workerData as WorkerConfig;

async function load(): Promise<LoadedModel> {
  const entry = runtimeByName(config.runtime);
  if (!entry) throw new Error(`unknown runtime '${config.runtime}'`);
  const runtime = await entry.importRuntime();
  return runtime.load(config.modelPath, config.options);
}

const loading = load();
loading.catch(() => {}); // answered per task below

function failure(error: unknown): WorkerFailure {
  if (error instanceof ServingError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

export default async function handle(task: WorkerTask): Promise<MetadataReply | InferReply> {
  let model: LoadedModel;
  try {
    model = await loading;
  } catch (error) {
    return { ...failure(error), code: 'UNAVAILABLE' };
  }
  if (task.op === 'metadata') return { ok: true, metadata: model.metadata };
  try {
    const started = performance.timeOrigin + performance.now();
    const inferStart = performance.now();
    const outputs = await model.infer(task.run);
    const inferEnd = performance.now();
    const transfers = transferList(outputs);
    const timing = {
      queueNs: (started - task.submittedAt) * 1e6,
      inputNs: (inferStart - (started - performance.timeOrigin)) * 1e6,
      inferNs: (inferEnd - inferStart) * 1e6,
      outputNs: (performance.now() - inferEnd) * 1e6,
    };
    const reply: InferReply = { ok: true, outputs, timing };
    // Piscina's transferable shape: the reply, plus the output buffers to move rather than copy.
    const movable = { [Piscina.transferableSymbol]: transfers, [Piscina.valueSymbol]: reply };
    return Piscina.move(movable as never) as unknown as InferReply;
  } catch (error) {
    return failure(error);
  }
}
