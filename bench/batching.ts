/**
 * The dynamic-batching benchmark (`npm run bench`): tsserve as a child process serving the tree
 * model (100 trees, depth 6, 20 features) twice, with the dynamic batcher and without, swept over
 * concurrency 1, 4, 16, 64 and request kinds (JSON batch-1, binary batch-1, binary batch-64,
 * gRPC batch-1), against in-process onnxruntime-node on the same model and threads at every batch
 * size (the ceiling). Writes bench/results/batching.md and batching.svg.
 *
 *   node dist/bench/batching.js [--quick] [--delay_us 500] [--duration S] [--no-sizing]
 *
 * The default mode also measures worker sizing (instances x intra-op threads) on 2 cores.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { binaryRequest } from './payload.js';
import { ROOT, type ChildServer, freePort, spawnServer, tsserveArgs } from './lib/child-server.js';
import { type LoadRequest, type LoadResult, drive, grpcLoad } from './lib/load.js';
import { percentile } from './lib/stats.js';
import { renderChart } from './lib/svg-chart.js';
import { resultsDir } from './lib/results-dir.js';

interface Options {
  quick: boolean;
  duration: number;
  warmup: number;
  delayUs: number;
  sizing: boolean;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  return {
    quick,
    duration: value('--duration') ?? (quick ? 2 : 5),
    warmup: quick ? 0.5 : 1,
    delayUs: value('--delay_us') ?? 500,
    sizing: !quick && !argv.includes('--no-sizing'),
  };
}

const MODEL_FILE = join(ROOT, 'bench/models/trees/1/model.onnx');
const CASES = JSON.parse(readFileSync(join(ROOT, 'bench/models/trees/cases.json'), 'utf8')) as { inputs: number[][] };
const ROWS = CASES.inputs.map((r) => r.map((v) => (v === null ? NaN : v)));
const CONCURRENCY = [1, 4, 16, 64];
const BATCHES = [1, 2, 4, 8, 16, 32, 64];

/** A model repository with the tree model batched (`trees`) and not (`trees_nobatch`). */
function makeRepository(delayUs: number): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'tsserve-bench-'));
  for (const [name, config] of [
    ['trees', `max_batch_size: 64\ndynamic_batching { max_queue_delay_microseconds: ${delayUs} }\n`],
    ['trees_nobatch', 'max_batch_size: 64\n'],
  ] as const) {
    mkdirSync(join(dir, name, '1'), { recursive: true });
    copyFileSync(MODEL_FILE, join(dir, name, '1', 'model.onnx'));
    writeFileSync(join(dir, name, 'config.pbtxt'), config);
  }
  return dir;
}

async function startServer(repo: string, workers: number, nthread: number): Promise<ChildServer> {
  const port = await freePort();
  const grpcPort = await freePort();
  const args = [
    ...tsserveArgs(repo, port, grpcPort),
    '--enable_latency_logging',
    'false',
    '--workers',
    String(workers),
    '--nthread',
    String(nthread),
  ];
  return { ...(await spawnServer(args, port, '/v2/health/ready')), grpcAddress: `127.0.0.1:${grpcPort}` };
}

const json = (rows: number[][]): LoadRequest => ({
  body: Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 20], data: rows }] })),
  headers: { 'content-type': 'application/json' },
});
const binary = (rows: number[][]): LoadRequest =>
  binaryRequest({ name: 'input', datatype: 'FP32' }, [rows.length, 20], new Float32Array(rows.flat()));
const batchOf = (n: number, offset: number) => Array.from({ length: n }, (_, i) => ROWS[(offset + i) % ROWS.length]!);

interface Kind {
  label: string;
  model: string;
  rowsPerRequest: number;
  run(server: ChildServer, c: number, opts: Options): Promise<LoadResult>;
}

const rest = (label: string, model: string, rowsPerRequest: number, make: (rows: number[][]) => LoadRequest): Kind => ({
  label,
  model,
  rowsPerRequest,
  async run(server, c, opts) {
    const requests = ROWS.map((_, i) => make(batchOf(rowsPerRequest, i)));
    const path = `/v2/models/${model}/infer`;
    await drive(server.url, path, requests, c, opts.warmup);
    return drive(server.url, path, requests, c, opts.duration);
  },
});

const KINDS: Kind[] = [
  rest('JSON batch-1, batching on', 'trees', 1, json),
  rest('JSON batch-1, batching off', 'trees_nobatch', 1, json),
  rest('binary batch-1, batching on', 'trees', 1, binary),
  rest('binary batch-64, batching on', 'trees', 64, binary),
  {
    label: 'gRPC batch-1, batching on',
    model: 'trees',
    rowsPerRequest: 1,
    run: (server, c, opts) => grpcLoad(server.grpcAddress!, { model: 'trees', input: 'input', rows: ROWS }, c, opts),
  },
];

/** Samples per model run while a point ran, from the statistics extension. */
async function counts(url: string, model: string): Promise<{ inferences: number; executions: number }> {
  const body = (await (await fetch(`${url}/v2/models/${model}/stats`)).json()) as {
    model_stats: { inference_count: number; execution_count: number }[];
  };
  const s = body.model_stats[0]!;
  return { inferences: s.inference_count, executions: s.execution_count };
}

interface Point {
  kind: string;
  c: number;
  rowsPerSecond: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  formedBatch: number;
}

/**
 * Counts once the model is quiet. A load generator returns when its time is up, with requests
 * still in flight; read at once, the next point's "before" missed them and its "after" counted
 * them: 64-row requests left over from binary batch-64 then inflate gRPC c=1's rows per run
 * (issue 15 saw 5.1, which one call at a time cannot form).
 */
async function settledCounts(url: string, model: string): Promise<{ inferences: number; executions: number }> {
  let last = await counts(url, model);
  for (const deadline = performance.now() + 10_000; performance.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await counts(url, model);
    if (now.executions === last.executions && now.inferences === last.inferences) return now;
    last = now;
  }
  return last;
}

async function measure(server: ChildServer, kind: Kind, c: number, opts: Options): Promise<Point> {
  const before = await settledCounts(server.url, kind.model);
  const result = await kind.run(server, c, opts);
  const after = await settledCounts(server.url, kind.model);
  const runs = after.executions - before.executions;
  return {
    kind: kind.label,
    c,
    requestsPerSecond: result.perSecond,
    rowsPerSecond: result.perSecond * kind.rowsPerRequest,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors + result.non2xx,
    formedBatch: runs > 0 ? (after.inferences - before.inferences) / runs : NaN,
  };
}

/** In-process onnxruntime rows/s at each batch size: the ceiling the server is held to. */
async function ceiling(threads: number, seconds: number): Promise<Map<number, { rowsPerSecond: number; p50: number }>> {
  const session = await ort.InferenceSession.create(MODEL_FILE, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const out = new Map<number, { rowsPerSecond: number; p50: number }>();
  for (const b of BATCHES) {
    const feeds = { input: new ort.Tensor('float32', new Float32Array(batchOf(b, 0).flat()), [b, 20]) };
    for (let i = 0; i < 50; i++) await session.run(feeds);
    const times: number[] = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    const total = times.reduce((a, x) => a + x, 0) / 1000;
    out.set(b, {
      rowsPerSecond: (times.length * b) / total,
      p50: percentile(
        times.sort((x, y) => x - y),
        50,
      ),
    });
  }
  await session.release();
  return out;
}

/** Ceiling rows/s at a (fractional) batch size, by linear interpolation between measured sizes. */
function ceilingAt(table: Map<number, { rowsPerSecond: number }>, batch: number): number {
  const sizes = [...table.keys()];
  const lo = sizes.filter((b) => b <= batch).at(-1) ?? sizes[0]!;
  const hi = sizes.find((b) => b >= batch) ?? sizes.at(-1)!;
  const a = table.get(lo)!.rowsPerSecond;
  const b = table.get(hi)!.rowsPerSecond;
  return hi === lo ? a : a + ((b - a) * (batch - lo)) / (hi - lo);
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const fi = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

async function sizing(repo: string, opts: Options, cpus: number): Promise<string[]> {
  const configs = [
    { workers: 1, nthread: cpus },
    { workers: cpus, nthread: 1 },
    { workers: 1, nthread: 1 },
  ];
  const lines = [
    '| instances x intra-op threads | c=64 JSON b1 batched req/s | p99 ms | c=1 JSON b1 batched p50 ms | c=64 JSON b1 unbatched req/s |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const cfg of configs) {
    const server = await startServer(repo, cfg.workers, cfg.nthread);
    try {
      const on64 = await measure(server, KINDS[0]!, 64, opts);
      const on1 = await measure(server, KINDS[0]!, 1, opts);
      const off64 = await measure(server, KINDS[1]!, 64, opts);
      lines.push(
        `| ${cfg.workers} x ${cfg.nthread} | ${fi(on64.requestsPerSecond)} | ${f(on64.p99)} | ${f(on1.p50, 3)} | ${fi(off64.requestsPerSecond)} |`,
      );
      console.error(`[sizing] ${cfg.workers}x${cfg.nthread}: ${fi(on64.requestsPerSecond)} req/s batched at c=64`);
    } finally {
      await server.stop();
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const cpus = cpuLimit();
  const repo = makeRepository(opts.delayUs);
  const server = await startServer(repo, 1, 0);
  const points: Point[] = [];
  let table: Map<number, { rowsPerSecond: number; p50: number }>;
  let sizingLines: string[] = [];
  try {
    for (const kind of KINDS) {
      for (const c of CONCURRENCY) {
        const p = await measure(server, kind, c, opts);
        points.push(p);
        console.error(
          `[batching] ${kind.label} c=${c}: ${fi(p.requestsPerSecond)} req/s, p50 ${f(p.p50)} ms, p99 ${f(p.p99)} ms, batch ${f(p.formedBatch, 1)}`,
        );
      }
    }
    await server.stop();
    table = await ceiling(cpus, opts.quick ? 0.5 : 1.5);
    if (opts.sizing) sizingLines = await sizing(repo, opts, cpus);
  } finally {
    await server.stop();
    rmSync(repo, { recursive: true, force: true });
  }
  const find = (label: string, c: number) => points.find((p) => p.kind.startsWith(label) && p.c === c)!;
  const on64 = find('JSON batch-1, batching on', 64);
  const off64 = find('JSON batch-1, batching off', 64);
  const on1 = find('JSON batch-1, batching on', 1);
  const off1 = find('JSON batch-1, batching off', 1);
  const ceilingRows = ceilingAt(table, on64.formedBatch);
  const speedUp = on64.requestsPerSecond / off64.requestsPerSecond;
  const share = (100 * on64.rowsPerSecond) / ceilingRows;
  const added = on1.p99 - off1.p99;
  const budget = opts.delayUs / 1000 + 1;
  const lines = [
    '# Dynamic batching benchmark: tree model (100 trees, depth 6, 20 features)',
    '',
    `- date: ${new Date().toISOString()}; node ${process.version}; CPU ${os.cpus()[0]?.model ?? '?'}, ${cpus} usable cores; load average before end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    `- command: \`node dist/bench/batching.js${opts.quick ? ' --quick' : ''}\` (${opts.duration} s per point after ${opts.warmup} s warmup); server: 1 instance, ${cpus} intra-op threads, \`max_queue_delay_microseconds: ${opts.delayUs}\``,
    '- load: autocannon (REST) and bench/grpc-load.ts (gRPC), one connection or call in flight per unit of concurrency; rows cycle through bench/models/trees/cases.json',
    '',
    '## Against concurrency',
    '',
    '| kind | concurrency | req/s | rows/s | p50 ms | p99 ms | rows per model run | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...points.map(
      (p) =>
        `| ${p.kind} | ${p.c} | ${fi(p.requestsPerSecond)} | ${fi(p.rowsPerSecond)} | ${f(p.p50)} | ${f(p.p99)} | ${f(p.formedBatch, 1)} | ${p.errors} |`,
    ),
    '',
    '## Ceiling: in-process onnxruntime-node, same model and threads, sequential runs',
    '',
    '| batch size | rows/s | p50 ms per run |',
    '|---:|---:|---:|',
    ...[...table].map(([b, v]) => `| ${b} | ${fi(v.rowsPerSecond)} | ${f(v.p50, 3)} |`),
    '',
    '## Targets',
    '',
    'The goals the batching work was given, each checked against this run. Speed-up: batching must',
    'multiply what many small concurrent requests get through. Share of the ceiling: the server',
    'against onnxruntime alone running batches of the size the server formed, so it measures',
    'what HTTP, JSON and queueing cost per row; a tree model runs a row in microseconds, so this',
    'share is dominated by per-request overhead and is far lower than for a heavier model.',
    'Latency budget: at c=1 batching may add at most its queue delay plus 1 ms to p99.',
    '',
    `- speed-up at c=64, JSON batch-1: batching on ${fi(on64.requestsPerSecond)} req/s vs off ${fi(off64.requestsPerSecond)} req/s = **${f(speedUp)}x** (target 5x: ${speedUp >= 5 ? 'met' : 'missed'}).`,
    `- share of the ceiling at c=64, JSON batch-1: batches of ${f(on64.formedBatch, 1)} rows; in-process onnxruntime at that batch size does ${fi(ceilingRows)} rows/s, so the server reaches **${f(share, 1)}%** of it (target 60%: ${share >= 60 ? 'met' : 'missed'}).`,
    `- latency at c=1, JSON batch-1: p99 with batching ${f(on1.p99)} ms vs without ${f(off1.p99)} ms: **+${f(added)} ms** (budget ${f(budget)} ms = max_queue_delay ${f(opts.delayUs / 1000)} ms + 1 ms: ${added <= budget ? 'met' : 'missed'}).`,
    ...(sizingLines.length ? ['', '## Worker sizing (2 cores)', '', ...sizingLines] : []),
    '',
    `Total bench time: ${f((performance.now() - started) / 1000, 1)} s.`,
  ];
  const outDir = resultsDir();
  writeFileSync(join(outDir, 'batching.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(outDir, 'batching.svg'), renderChart(points, Math.max(...[...table.values()].map((v) => v.rowsPerSecond))));
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
