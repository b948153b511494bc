/**
 * A 64 MiB FP32 round trip through an identity model: over REST with the binary tensor
 * extension (the bytes cross the socket both ways), and with Triton's system shared memory (the
 * request names a region; the server reads the input from it and writes the output into it).
 * Each figure is the median of the rounds of one request at a time, measured in the same run.
 *
 *   npm run bench:shm [-- --rounds 7 --mib 64 --update-results]
 * Writes bench/out/shared-memory.md (bench/results/ with --update-results).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT, freePort, spawnServer } from './lib/child-server.js';
import { resultsFile } from './lib/results-dir.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    mib: { type: 'string', default: '64' },
    'update-results': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const bytes = Number(values.mib) * 1024 * 1024;
const cols = 1024;
const rowsOf = bytes / 4 / cols;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(work: () => Promise<void>): Promise<number[]> {
  await work(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times;
}

async function main(): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), 'tsserve-shm-bench-'));
  mkdirSync(join(repo, 'identity/1'), { recursive: true });
  copyFileSync(join(ROOT, 'test/fixtures/dtypes/fp32/1/model.onnx'), join(repo, 'identity/1/model.onnx'));
  const key = `tsserve-bench-${process.pid}`;
  const shmIn = `/dev/shm/${key}-in`;
  const shmOut = `/dev/shm/${key}-out`;
  const input = new Float32Array(bytes / 4).map((_, i) => i % 977);
  writeFileSync(shmIn, new Uint8Array(input.buffer));
  writeFileSync(shmOut, Buffer.alloc(bytes));
  const port = await freePort();
  const server = await spawnServer(
    [
      CLI,
      '--model_dir',
      repo,
      '--http_port',
      String(port),
      '--enable_grpc',
      'false',
      '--http_max_input_size',
      String(bytes * 2),
      '--workers',
      '1',
    ],
    port,
    '/v2/health/ready',
  );
  try {
    const post = async (path: string, body: object) => {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res;
    };
    await post('/v2/systemsharedmemory/region/in/register', { key: `/${key}-in`, offset: 0, byte_size: bytes });
    await post('/v2/systemsharedmemory/region/out/register', { key: `/${key}-out`, offset: 0, byte_size: bytes });

    const header = JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [rowsOf, cols], parameters: { binary_data_size: bytes } }],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    });
    const binaryBody = Buffer.concat([Buffer.from(header), Buffer.from(input.buffer)]);
    const binary = await timed(async () => {
      const res = await fetch(`${server.url}/v2/models/identity/infer`, {
        method: 'POST',
        body: binaryBody,
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(Buffer.byteLength(header)) },
      });
      const got = new Uint8Array(await res.arrayBuffer());
      if (!res.ok || got.byteLength < bytes) throw new Error(`binary round trip failed: ${res.status}`);
    });
    const shm = await timed(async () => {
      const res = await post('/v2/models/identity/infer', {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [rowsOf, cols],
            parameters: { shared_memory_region: 'in', shared_memory_byte_size: bytes },
          },
        ],
        outputs: [{ name: 'y', parameters: { shared_memory_region: 'out', shared_memory_byte_size: bytes } }],
      });
      await res.arrayBuffer();
    });
    const b = median(binary);
    const s = median(shm);
    const report = [
      `# Shared memory vs the binary extension: ${values.mib} MiB FP32 round trip`,
      '',
      `Identity model (FP32 [${rowsOf}, ${cols}]), one request at a time, ${rounds} rounds after a warm-up, one worker; median wall time per request.`,
      '',
      '| path | median ms | min ms | max ms | MiB/s each way |',
      '|---|---|---|---|---|',
      `| REST binary extension | ${b.toFixed(1)} | ${Math.min(...binary).toFixed(1)} | ${Math.max(...binary).toFixed(1)} | ${(bytes / 2 ** 20 / (b / 1000)).toFixed(0)} |`,
      `| system shared memory | ${s.toFixed(1)} | ${Math.min(...shm).toFixed(1)} | ${Math.max(...shm).toFixed(1)} | ${(bytes / 2 ** 20 / (s / 1000)).toFixed(0)} |`,
      '',
      `Shared memory takes ${(s / b).toFixed(2)}x the time of the binary extension.`,
      '',
    ].join('\n');
    process.stdout.write(report);
    writeFileSync(resultsFile('shared-memory.md'), report);
  } finally {
    await server.stop();
    rmSync(shmIn, { force: true });
    rmSync(shmOut, { force: true });
    rmSync(repo, { recursive: true, force: true });
  }
}

await main();
