/**
 * How many instances (worker threads, each with its own copy of the model) a model version
 * gets when neither --workers nor its config.pbtxt's instance_group says. Small models: two
 * single-threaded instances serve unbatched requests faster than one with two threads (README,
 * "Worker sizing"). Large models: every instance holds the whole model again (weights plus
 * onnxruntime's prepacked copies), while one instance with all the CPUs as intra-op threads
 * already keeps the cores busy, so a second copy costs its size in memory for little
 * throughput (bench/results/memory.md). The file size is the measure: it is known before
 * loading and tracks the weights.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of a model file, or of every file in a model folder (Hugging Face layout). */
export function modelBytes(path: string, depth = 0): number {
  try {
    const info = statSync(path);
    if (!info.isDirectory()) return info.size;
    if (depth > 3) return 0;
    return readdirSync(path).reduce((n, name) => n + modelBytes(join(path, name), depth + 1), 0);
  } catch {
    return 0; // the load itself reports a missing file
  }
}

/** The default instance count for a model of `bytes` on `cpus` CPUs. */
export function defaultInstances(cpus: number, bytes: number, singleInstanceMb: number): number {
  if (bytes >= singleInstanceMb * 2 ** 20) return 1;
  return Math.max(1, Math.min(2, cpus));
}
