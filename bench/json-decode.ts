/**
 * Micro-benchmark of v2 JSON request decoding (body bytes -> InferRequest) on the main thread,
 * the path every JSON infer request takes before it reaches a model:
 *
 *   npx tsc -p . && node dist/bench/json-decode.js [--rounds N]
 *
 * Cases: a small FP32 request (4 features, as the iris classifier gets), a large FP32 one
 * (64 x 1024 values written as Python's json writes float32s), and an INT64 one with values
 * beyond 2^53 (the exact path). Reports the median time per decode over N rounds.
 */
import { performance } from 'node:perf_hooks';
import { decodeInferBody } from '../src/http/v2-request.js';

function body(json: string): Uint8Array {
  return new Uint8Array(Buffer.from(json));
}

function fp32Request(rows: number, cols: number): Uint8Array {
  const data: string[] = [];
  // Python's json writes a float32 widened to float64: 17 significant digits, as here.
  for (let i = 0; i < rows * cols; i++) data.push(String(Math.fround(Math.sin(i) * 3.7)));
  return body(`{"id":"bench","inputs":[{"name":"x","datatype":"FP32","shape":[${rows},${cols}],"data":[${data.join(',')}]}]}`);
}

function int64Request(count: number): Uint8Array {
  const data: string[] = [];
  for (let i = 0; i < count; i++) data.push(String(9007199254740993n + BigInt(i) * 1234567891n));
  return body(`{"inputs":[{"name":"x","datatype":"INT64","shape":[${count}],"data":[${data.join(',')}]}]}`);
}

const CASES: [string, Uint8Array, number][] = [
  ['FP32 [1,4] (iris)', body('{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[[5.1,3.5,1.4,0.2]]}]}'), 20000],
  ['FP32 [64,1024]', fp32Request(64, 1024), 60],
  ['INT64 [4096] beyond 2^53', int64Request(4096), 200],
];

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 15;
const ctx = { model: 'bench', inputSpecs: () => [] };

console.log(`| case | body bytes | median µs per decode (${rounds} rounds) |`);
console.log('|---|---:|---:|');
for (const [name, bytes, iterations] of CASES) {
  const times: number[] = [];
  try {
    decodeInferBody(bytes, undefined, ctx);
  } catch (error) {
    console.log(`| ${name} | ${bytes.byteLength} | refused: ${(error as Error).message.slice(0, 60)}… |`);
    continue;
  }
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) decodeInferBody(bytes, undefined, ctx);
    times.push(((performance.now() - start) * 1000) / iterations);
  }
  times.sort((a, b) => a - b);
  console.log(`| ${name} | ${bytes.byteLength} | ${times[Math.floor(rounds / 2)]!.toFixed(2)} |`);
}
