/**
 * The generation engine's sampler on a 151,936-token vocabulary (Qwen2's): milliseconds per row
 * of logits, per step, for the settings models recommend (top_k, top_p), against the plain
 * definition measured in the same run (sort every token by weight, keep the k likeliest, then
 * top_p of them). The logits are Gaussian with a few dozen tokens well above the rest, as a
 * language model's mostly are. That both draw the same tokens is test/unit/sampler.test.ts's job.
 *
 *   npx tsc -p . && node dist/bench/sampler.js
 */
import { Sampler, type SamplingParams } from '../runtimes/huggingface/engine/sampler.js';

const VOCAB = 151_936;
const ROWS = 8;
const REPEAT = 5;

let state = 7;
const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const rows = Array.from({ length: ROWS }, () =>
  Float32Array.from({ length: VOCAB }, () => gauss() * 2.5 + (random() < 0.0002 ? 8 + random() * 8 : 0)),
);

/** The definition: a full sort of the vocabulary per row. */
function fullSort(logits: Float32Array, p: SamplingParams, u: number): number {
  const { temperature: t, topP, topK = 0, minP = 0 } = p;
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  const weights = Float64Array.from(logits, (l) => {
    const w = Math.exp((l - max) / t);
    return w < minP ? 0 : w;
  });
  let order = Array.from(weights.keys()).sort((a, b) => weights[b]! - weights[a]! || a - b);
  if (topK > 0) order = order.slice(0, topK);
  const base = order.reduce((s, i) => s + weights[i]!, 0);
  let kept = 0;
  let k = 0;
  while (k < order.length && kept < topP * base) kept += weights[order[k++]!]!;
  order = order.slice(0, Math.max(k, 1));
  let target = u * order.reduce((s, i) => s + weights[i]!, 0);
  for (const i of order) if ((target -= weights[i]!) < 0) return i;
  return order.at(-1)!;
}

function msPerRow(pick: (row: Float32Array) => number): { ms: number } {
  const started = performance.now();
  for (let r = 0; r < REPEAT; r++) for (const row of rows) pick(row);
  return { ms: (performance.now() - started) / (REPEAT * ROWS) };
}

const settings: SamplingParams[] = [
  { temperature: 0.7, topP: 0.8, topK: 20 }, // Qwen2.5-Instruct's generation_config
  { temperature: 0.6, topP: 0.95 },
  { temperature: 1, topP: 1, topK: 50 },
  { temperature: 1, topP: 1 },
];
for (const params of settings) {
  const sampler = new Sampler({ ...params, seed: 3 });
  msPerRow((row) => sampler.next(row)); // warm-up
  const engine = msPerRow((row) => sampler.next(row));
  const definition = msPerRow((row) => fullSort(row, params, random()));
  console.log(
    JSON.stringify({
      params,
      samplerMsPerRow: +engine.ms.toFixed(2),
      fullSortMsPerRow: +definition.ms.toFixed(2),
      speedup: +(definition.ms / engine.ms).toFixed(1),
    }),
  );
}
