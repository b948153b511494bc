/**
 * Micro-benchmark of BYTES tensor decoding on the main thread: a raw length-prefixed body of
 * N elements (binary extension / gRPC raw_input_contents layout) through decodeRaw, then the
 * batcher's concatenation of two such tensors, and the encodings of a binary and of a JSON response.
 *
 *   npx tsc -p . && node --expose-gc dist/bench/bytes-decode.js [--elements N] [--size BYTES_PER_ELEMENT]
 *
 * Prints the wall time of each step and the growth of RSS and V8 heap it caused. The default
 * (4 M empty elements, a 16 MiB body) is the shape of issue 17's event-loop stall.
 */
import { performance } from 'node:perf_hooks';
import { decodeRaw, encodeRaw } from '../src/core/raw-tensor.js';
import { concatInputs } from '../src/scheduler/batch-tensors.js';
import { encodeJsonData } from '../src/http/json-tensor.js';
import type { Tensor } from '../src/core/tensor.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const count = arg('--elements', 4 * 1024 * 1024);
const size = arg('--size', 0);

function rawBody(): Uint8Array {
  const body = new Uint8Array(count * (4 + size));
  const view = new DataView(body.buffer);
  for (let i = 0, offset = 0; i < count; i++, offset += 4 + size) {
    view.setUint32(offset, size, true);
    body.fill(0x61, offset + 4, offset + 4 + size);
  }
  return body;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const MB = 1024 * 1024;

function measure<T>(label: string, fn: () => T): T {
  gc();
  const rss = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  const start = performance.now();
  const result = fn();
  const ms = performance.now() - start;
  const after = process.memoryUsage();
  console.log(`| ${label} | ${ms.toFixed(1)} | ${((after.rss - rss) / MB).toFixed(1)} | ${((after.heapUsed - heap) / MB).toFixed(1)} |`);
  return result;
}

const body = rawBody();
console.log(`BYTES: ${count} elements of ${size} bytes, ${(body.byteLength / MB).toFixed(1)} MiB raw`);
console.log('| step | ms | RSS +MB | heap +MB |');
console.log('|---|---:|---:|---:|');
const data = measure('decodeRaw', () => decodeRaw('BYTES', [count], body, "input 'x'"));
const tensor: Tensor = { name: 'x', datatype: 'BYTES', shape: [count], data };
const batch = measure('concat 2 requests (batcher)', () => concatInputs([[tensor], [tensor]]));
measure('encodeRaw (binary response)', () => encodeRaw(batch[0]!.data).byteLength);
measure('encodeJsonData (JSON response)', () => encodeJsonData(tensor).length);
