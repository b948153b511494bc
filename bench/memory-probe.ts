/**
 * One onnxruntime-node configuration in a fresh process, so its RSS is its own:
 *
 *   node dist/bench/memory-probe.js MODEL.onnx OPTIONS_JSON SECONDS
 *
 * OPTIONS_JSON: {"sessions": K, "threads": T, "batch": B, "seq": S, "arena": bool,
 * "memPattern": bool, "prepacking": bool}. K sessions of T intra-op threads each are opened
 * (K model instances, as K server workers), then each runs batch-B inputs back to back for
 * SECONDS, all K at once. Inputs are synthetic, from the model's own metadata: the first
 * symbolic dimension is the batch, others are S. Prints JSON: RSS (MiB) before load, after
 * load, after the runs, the peak (VmHWM), and rows per second.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

interface ProbeOptions {
  sessions: number;
  threads: number;
  batch: number;
  seq: number;
  arena: boolean;
  memPattern: boolean;
  prepacking: boolean;
}

const rss = (field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

function feeds(session: ort.InferenceSession, batch: number, seq: number): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`input ${meta.name} is not a tensor`);
    let symbolic = 0;
    const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : symbolic++ === 0 ? batch : seq));
    const n = shape.reduce((a, b) => a * b, 1);
    if (meta.type === 'int64')
      out[meta.name] = new ort.Tensor(
        'int64',
        new BigInt64Array(n).map((_, i) => BigInt(meta.name.includes('mask') ? 1 : meta.name.includes('type') ? 0 : 5 + (i % 80))),
        shape,
      );
    else if (meta.type === 'float32')
      out[meta.name] = new ort.Tensor(
        'float32',
        new Float32Array(n).map((_, i) => ((i * 7919) % 1000) / 1000),
        shape,
      );
    else throw new Error(`input ${meta.name}: type ${meta.type} is not synthesised`);
  }
  return out;
}

async function main(): Promise<void> {
  const [file, json, secondsArg] = process.argv.slice(2);
  const o = JSON.parse(json!) as ProbeOptions;
  const before = rss('VmRSS');
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    enableCpuMemArena: o.arena,
    enableMemPattern: o.memPattern,
    extra: { session: { disable_prepacking: o.prepacking ? '0' : '1' } },
  };
  const sessions: ort.InferenceSession[] = [];
  for (let i = 0; i < o.sessions; i++) sessions.push(await ort.InferenceSession.create(file!, options));
  const loaded = rss('VmRSS');
  const inputs = sessions.map((s) => feeds(s, o.batch, o.seq));
  for (let i = 0; i < 3; i++) await Promise.all(sessions.map((s, k) => s.run(inputs[k]!)));
  let runs = 0;
  const start = performance.now();
  const end = start + Number(secondsArg) * 1000;
  await Promise.all(
    sessions.map(async (s, k) => {
      while (performance.now() < end || runs < o.sessions * 2) {
        await s.run(inputs[k]!);
        runs++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    JSON.stringify({
      beforeMiB: before,
      loadedMiB: loaded,
      afterRunsMiB: rss('VmRSS'),
      peakMiB: rss('VmHWM'),
      rowsPerSecond: (runs * o.batch) / seconds,
    }),
  );
  for (const s of sessions) await s.release();
}

main().catch((error: unknown) => {
  process.stderr.write(`memory probe failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
