/**
 * A/B of two tsserve builds (or one build under two sets of flags) on the hot-path points of
 * issue 16, alternating A and B in each round so both see the same machine load, then
 * medians over the rounds. Meant for a shared, loaded machine where one run of either means
 * little.
 *
 *   node dist/bench/ab.js --a dist-before/src/cli.js --b dist/src/cli.js [--rounds 3] [--duration 5]
 *   node dist/bench/ab.js --a dist/src/cli.js --b dist/src/cli.js --b-flags '--workers 1' --b-node '--max-semi-space-size=16'
 *
 * Points, batch-1 on models/classifier without batching: REST JSON at 1 and 8 connections,
 * REST binary at 16, gRPC unary at 1 and 16 (bench/grpc-load.ts, one HTTP/2 connection);
 * `--points 'JSON c=1,gRPC c=1'` picks some. When h2load (C; Debian's nghttp2-client) is
 * installed, 'JSON c=1 h2load' and 'gRPC c=1 h2load' are there too: one connection warmed for
 * 2 s before its measured period, by a client with no JIT or GC of its own, for the c=1 tail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, freePort, spawnServer, tsserveArgs } from './lib/child-server.js';
import { type LoadResult, cpuSeconds, drive, grpcLoad } from './lib/load.js';
import { GRPC_HEADERS, grpcFrame, inferMessage, methodPath } from './grpc-wire.js';
import { fromH2load, h2load, h2loadVersion } from './h2load.js';
import { binaryRequest } from './payload.js';

interface Side {
  cli: string;
  flags: string[];
  node: string[];
}

function arg(name: string, fallback = ''): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const words = (s: string) => s.split(' ').filter(Boolean);
const sides: Record<'A' | 'B', Side> = {
  A: { cli: arg('a', 'dist/src/cli.js'), flags: words(arg('a-flags')), node: words(arg('a-node')) },
  B: { cli: arg('b', 'dist/src/cli.js'), flags: words(arg('b-flags')), node: words(arg('b-node')) },
};
const rounds = Number(arg('rounds', '3'));
const duration = Number(arg('duration', '5'));
const model = 'classifier';
const modelDir = join(ROOT, 'models');
const rows = (JSON.parse(readFileSync(join(modelDir, model, 'cases.json'), 'utf8')) as { inputs: number[][] }).inputs;

type Point = { name: string; run: (url: string, grpc: string, input: string) => Promise<LoadResult> };
const path = `/v2/models/${model}/infer`;
const json = (input: string) =>
  rows.map((r) => ({
    body: Buffer.from(JSON.stringify({ inputs: [{ name: input, datatype: 'FP32', shape: [1, r.length], data: r }] })),
    headers: { 'content-type': 'application/json' },
  }));
const binary = (input: string) => rows.map((r) => binaryRequest({ name: input, datatype: 'FP32' }, [1, r.length], Float32Array.from(r)));
const allPoints: Point[] = [
  { name: 'JSON c=1', run: (url, _g, input) => drive(url, path, json(input), 1, duration) },
  { name: 'JSON c=8', run: (url, _g, input) => drive(url, path, json(input), 8, duration) },
  { name: 'binary c=16', run: (url, _g, input) => drive(url, path, binary(input), 16, duration) },
  { name: 'gRPC c=1', run: (_u, grpc, input) => grpcLoad(grpc, { model, input, rows }, 1, { warmup: 1, duration }) },
  { name: 'gRPC c=16', run: (_u, grpc, input) => grpcLoad(grpc, { model, input, rows }, 16, { warmup: 1, duration }) },
];
if (h2loadVersion()) {
  const warmed = { connections: 1, streams: 1, warmup: 2, seconds: duration };
  allPoints.push(
    {
      name: 'JSON c=1 h2load',
      run: async (url, _g, input) => fromH2load(await h2load({ url: url + path, ...json(input)[0]!, http1: true, ...warmed })),
    },
    {
      name: 'gRPC c=1 h2load',
      run: async (_u, grpc, input) => {
        const body = grpcFrame(inferMessage(model, input, [1, rows[0]!.length], Float32Array.from(rows[0]!)));
        const url = `http://${grpc}${methodPath('ModelInfer')}`;
        return fromH2load(await h2load({ url, body, headers: GRPC_HEADERS, http1: false, ...warmed }));
      },
    },
  );
}
// --points 'JSON c=1,gRPC c=1' measures only those.
const only = arg('points');
const points = only ? allPoints.filter((p) => only.split(',').includes(p.name)) : allPoints;

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}
const samples = new Map<string, Sample[]>();

async function measure(label: 'A' | 'B'): Promise<void> {
  const side = sides[label];
  const port = await freePort();
  const grpcPort = await freePort();
  const server = await spawnServer(
    [...side.node, ...tsserveArgs(modelDir, port, grpcPort, side.cli), ...side.flags],
    port,
    '/v2/health/ready',
  );
  try {
    const input = ((await (await fetch(`${server.url}/v2/models/${model}`)).json()) as { inputs: { name: string }[] }).inputs[0]!.name;
    await drive(server.url, path, json(input), 8, 2); // JIT and pools warm before anything counts
    for (const point of points) {
      const before = cpuSeconds(server.child.pid);
      const r = await point.run(server.url, `127.0.0.1:${grpcPort}`, input);
      const cpuUs = ((cpuSeconds(server.child.pid) - before) / r.count) * 1e6;
      if (r.errors || r.non2xx) process.stderr.write(`${label} ${point.name}: ${r.errors} errors, ${r.non2xx} non-2xx\n`);
      const key = `${label}|${point.name}`;
      samples.set(key, [...(samples.get(key) ?? []), { rps: r.perSecond, p50: r.p50, p99: r.p99, cpuUs }]);
      process.stderr.write(
        `${label} ${point.name}: ${Math.round(r.perSecond)} req/s p50 ${r.p50.toFixed(3)} p99 ${r.p99.toFixed(3)} ms, ${cpuUs.toFixed(0)} us CPU/req\n`,
      );
    }
  } finally {
    await server.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

for (let round = 0; round < rounds; round++) {
  // Alternate which side goes first, so neither always meets the same moment of load.
  for (const label of round % 2 ? (['B', 'A'] as const) : (['A', 'B'] as const)) await measure(label);
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const lines = [
  `A: ${JSON.stringify(sides.A)}`,
  `B: ${JSON.stringify(sides.B)}`,
  `medians of ${rounds} rounds of ${duration} s, load average at the end ${load}`,
  '',
  '| point | A req/s | B req/s | A p50 | B p50 | A p99 | B p99 | A CPU us/req | B CPU us/req |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const point of points) {
  const a = samples.get(`A|${point.name}`) ?? [];
  const b = samples.get(`B|${point.name}`) ?? [];
  const m = (xs: Sample[], k: keyof Sample, digits: number) => median(xs.map((x) => x[k])).toFixed(digits);
  lines.push(
    `| ${point.name} | ${m(a, 'rps', 0)} | ${m(b, 'rps', 0)} | ${m(a, 'p50', 3)} | ${m(b, 'p50', 3)} | ${m(a, 'p99', 3)} | ${m(b, 'p99', 3)} | ${m(a, 'cpuUs', 0)} | ${m(b, 'cpuUs', 0)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
