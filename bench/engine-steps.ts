/**
 * In-process decoder steps per second of the generation engine at batch 1 and batch 16 (and
 * whatever --batches lists): B greedy requests of --tokens tokens start together, so every
 * engine step runs all B sequences. No server, no worker: the engine's own ceiling.
 *
 *   npx tsc -p . && node dist/bench/engine-steps.js [--model test/hf-models/tiny-gpt2] [--tokens 128] [--batches 1,16] [--threads 2]
 */
import { parseArgs } from 'node:util';
import { huggingfaceRuntime } from '../runtimes/huggingface/hf-runtime.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'test/hf-models/tiny-gpt2' },
    tokens: { type: 'string', default: '128' },
    batches: { type: 'string', default: '1,16' },
    threads: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
  },
});
const tokens = Number(values.tokens);
const model = await huggingfaceRuntime.load(values.model, {
  intraOpThreads: Number(values.threads),
  interOpThreads: 1,
  executionProvider: 'cpu',
  deviceId: 0,
  parameters: { enable_prefix_caching: 'false' },
});
const text = model.text!;
const prompt = (i: number) => `request ${i}: the quick brown fox jumps over the lazy dog`;

async function run(batch: number): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: batch }, (_, i) =>
      text.generate({ prompt: prompt(i), maxTokens: tokens, temperature: 0, topP: 1, stop: [] }, () => {}, { aborted: false }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const steps = Math.max(...results.map((r) => r.tokenIds.length));
  return steps / seconds;
}

await run(1); // warm-up
for (const batch of values.batches.split(',').map(Number)) {
  const rates: number[] = [];
  for (let i = 0; i < Number(values.repeat); i++) rates.push(await run(batch));
  const best = Math.max(...rates);
  console.log(
    JSON.stringify({ model: values.model, batch, tokens, stepsPerSecond: Math.round(best), tokensPerSecond: Math.round(best * batch) }),
  );
}
await model.unload();
