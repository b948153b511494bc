/**
 * Model workers run below the serving thread's priority. Inference keeps every core busy (each
 * worker's onnxruntime threads), and at equal priority the serving thread queues behind it for
 * a core: a burst of 16 generation requests took ~25 ms to pass from the sockets to the engine,
 * one request at a time, and health checks and streamed tokens wait the same way. Lowered, the
 * inference threads yield the core whenever the serving thread has work, which is briefly; they
 * keep it the rest of the time.
 *
 * Linux sets priority per thread, and threads inherit it from the thread that creates them, so
 * a worker lowers itself before it loads its model and onnxruntime's threads follow.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Niceness added to model workers' threads (0-19: higher yields more). */
export const WORKER_NICENESS = 5;

/** Lowers the calling thread's priority where the OS sets it per thread; says whether it did. */
export function lowerThreadPriority(niceness = WORKER_NICENESS): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // '/proc/thread-self' links to '<pid>/task/<tid>'.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    setPriority(tid, niceness);
    return true;
  } catch {
    return false;
  }
}
