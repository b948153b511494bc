/** The worker of bench/handoff-micro.ts: answers a batch-1 row as the pool's worker does, with or without a transfer list. */
import { Piscina } from 'piscina';

interface Task {
  data: Float32Array;
  transfer: boolean;
}

export default function echo(task: Task): unknown {
  const out = new Float32Array(new ArrayBuffer(task.data.byteLength));
  out.set(task.data);
  const reply = { ok: true, outputs: [{ name: 'y', datatype: 'FP32', shape: [1, out.length], data: out }] };
  if (!task.transfer) return reply;
  return Piscina.move({ [Piscina.transferableSymbol]: [out.buffer], [Piscina.valueSymbol]: reply } as never);
}
