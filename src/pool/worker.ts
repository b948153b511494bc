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
    const start = process.hrtime.bigint();
    const outputs = await model.infer(task.run);
    const computeNs = Number(process.hrtime.bigint() - start);
    const reply: InferReply = { ok: true, outputs, computeNs };
    // Piscina's transferable shape: the reply, plus the output buffers to move rather than copy.
    const movable = { [Piscina.transferableSymbol]: transferList(outputs), [Piscina.valueSymbol]: reply };
    return Piscina.move(movable as never) as unknown as InferReply;
  } catch (error) {
    return failure(error);
  }
}
