/**
 * The client for the large-body points of bench/run.ts, run as its own lean process:
 *
 *   node dist/bench/post-loop.js URL PATH WARMUP_SECONDS SECONDS
 *
 * POSTs the 4 MiB FP32 binary body (bench/payload.ts) to URL+PATH one request at a time on a
 * keep-alive connection, discards WARMUP_SECONDS of requests, then times SECONDS of them and
 * prints {"latenciesMs": [...], "seconds": S} on stdout.
 *
 * Why not autocannon: its client appends every response chunk to a JS string
 * (PipelinedRequestsQueue.addBody), about 10 ms per 4 MiB binary response on its own.
 * Why not in the bench process: there, with its larger heap and history, V8 ran about one
 * full mark-compact per 4 MiB round trip, which inflated p50 by several ms; this process
 * does not show that.
 */
import * as http from 'node:http';
import { TENSOR_BYTES, TENSOR_SHAPE, bigTensor, binaryRequest } from './payload.js';

const [url, path, warmupArg, secondsArg] = process.argv.slice(2);
if (!url || !path || !warmupArg || !secondsArg) {
  process.stderr.write('usage: node dist/bench/post-loop.js URL PATH WARMUP_SECONDS SECONDS\n');
  process.exit(2);
}

const { hostname, port } = new URL(url);
const req = binaryRequest({ name: 'x', datatype: 'FP32' }, TENSOR_SHAPE, bigTensor());
const headers = { ...req.headers, 'content-length': String(req.body.byteLength) };
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const r = http.request({ hostname, port, path, method: 'POST', agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.statusCode !== 200) reject(new Error(`${path} answered ${res.statusCode}`));
        else if (bytes < TENSOR_BYTES) reject(new Error(`${path} answered ${bytes} bytes, expected at least ${TENSOR_BYTES}`));
        else resolve(ms);
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

async function loop(seconds: number): Promise<{ latenciesMs: number[]; seconds: number }> {
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    latenciesMs.push(await once());
    now = process.hrtime.bigint();
  }
  return { latenciesMs, seconds: Number(now - start) / 1e9 };
}

try {
  await loop(Number(warmupArg));
  const result = await loop(Number(secondsArg));
  process.stdout.write(JSON.stringify(result));
} catch (error) {
  process.stderr.write(`post-loop: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  agent.destroy();
}
