/**
 * The worker hand-off alone, with no model and no HTTP: one piscina worker answering a batch-1
 * row (16 floats, as models/classifier takes), one call at a time, under each variant in
 * alternating rounds in one process so machine load hits them alike. Per variant: median over
 * rounds of the p50 and p99 round trip and of the CPU this process (both threads) spent per call.
 *
 *   node dist/bench/handoff-micro.js [--rounds 5] [--calls 3000]
 *
 * Variants: the row's buffer transferred both ways (tsserve before) or cloned (now, under
 * MIN_TRANSFER_BYTES), and piscina's three wake-ups: 'sync' (worker blocks in Atomics.wait,
 * the default), 'async' (Atomics.waitAsync), 'disabled' (message events only).
 */
import { Piscina } from 'piscina';

type Atomics = 'sync' | 'async' | 'disabled';
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const rounds = Number(arg('rounds', '5'));
const calls = Number(arg('calls', '3000'));
const variants: { name: string; atomics: Atomics; transfer: boolean }[] = [
  { name: 'sync, transfer', atomics: 'sync', transfer: true },
  { name: 'sync, clone', atomics: 'sync', transfer: false },
  { name: 'async, clone', atomics: 'async', transfer: false },
  { name: 'disabled, clone', atomics: 'disabled', transfer: false },
];
const filename = new URL('./handoff-worker.js', import.meta.url).href;

async function measure(atomics: Atomics, transfer: boolean): Promise<{ p50: number; p99: number; cpuUs: number }> {
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, idleTimeout: Infinity, atomics });
  const row = () => Float32Array.from({ length: 16 }, (_, i) => i / 16);
  const once = async () => {
    const data = row();
    await pool.run({ data, transfer }, transfer ? { transferList: [data.buffer as ArrayBuffer] } : {});
  };
  for (let i = 0; i < 500; i++) await once(); // JIT and thread warm
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  await pool.destroy();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 1000;
  return { p50: at(0.5), p99: at(0.99), cpuUs: (cpu.user + cpu.system) / calls };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const results = new Map<string, { p50: number; p99: number; cpuUs: number }[]>();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...variants].reverse() : variants;
  for (const v of order) {
    const m = await measure(v.atomics, v.transfer);
    results.set(v.name, [...(results.get(v.name) ?? []), m]);
  }
}
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const lines = [
  `medians of ${rounds} rounds of ${calls} sequential calls; load average ${load}`,
  '',
  '| variant | p50 us | p99 us | CPU us/call |',
  '|---|---:|---:|---:|',
];
for (const v of variants) {
  const xs = results.get(v.name)!;
  lines.push(
    `| ${v.name} | ${median(xs.map((x) => x.p50)).toFixed(1)} | ${median(xs.map((x) => x.p99)).toFixed(1)} | ${median(xs.map((x) => x.cpuUs)).toFixed(1)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
