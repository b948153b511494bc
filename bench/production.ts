/**
 * Production-size models: a BERT-base-shaped encoder served as a plain ONNX model (binary
 * extension) and as text_embedding (OpenAI embeddings route, transformers.js), and ResNet-50
 * (FP32 [N,3,224,224], binary extension and gRPC). Random weights, generated with Debian's
 * python3-torch on first use into bench/.cache/production (git-ignored), never committed.
 *
 *   npm run bench:production -- [--models bert,embed,resnet50] [--requests N] [--duration S]
 *                               [--seq N] [--concurrency 1,4,16,64] [--update-results]
 *
 * For each model, with dynamic batching on and off (one server each, so peak RSS is one
 * model's), batch-1 requests at each concurrency: throughput, p50/p99, the batch size the
 * server formed (statistics extension). Then, with the server stopped, in-process
 * onnxruntime-node (transformers.js for embeddings) on the same file, same thread count, at the
 * batch sizes formed: the ceiling. Results go to bench/out/production.md
 * (git-ignored) unless --update-results (bench/results/production.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { ROOT, type ChildServer, children, freePort, spawnServer, tsserveArgs } from './lib/child-server.js';
import { type LoadRequest, type LoadResult, drive, grpcLoad } from './lib/load.js';
import { stats } from './lib/stats.js';

const CACHE = join(ROOT, 'bench/.cache/production');
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const MODELS = flag('models', 'bert,embed,resnet50').split(',');
const DURATION = Number(flag('duration', '5'));
/** REST points send this many requests per connection (at least MIN_REQUESTS in all), so slow models finish whole batches. */
const PER_CONNECTION = Number(flag('requests', '4'));
/** Enough requests at low concurrency for a p99 that is not simply the slowest of a handful. */
const MIN_REQUESTS = 40;
const WARMUP = 1;
const SEQ = Number(flag('seq', '32'));
const CONCURRENCY = flag('concurrency', '1,4,16,64').split(',').map(Number);
const UPDATE = argv.includes('--update-results');
const OUT = join(ROOT, UPDATE ? 'bench/results/production.md' : 'bench/out/production.md');
const CPUS = cpuLimit();
const MAX_BATCH = 64;
const QUEUE_DELAY_US = 2000;

const log = (msg: string) => process.stderr.write(`[production ${process.uptime().toFixed(0)}s] ${msg}\n`);

// ---------------------------------------------------------------- models

function ensureModels(): void {
  const want = [join(CACHE, 'bert-base.onnx'), join(CACHE, 'bert-base-hf/onnx/model.onnx'), join(CACHE, 'resnet50.onnx')];
  if (want.every(existsSync)) return;
  log(`generating the models into ${relative(ROOT, CACHE)} with /usr/bin/python3 (python3-torch, python3-torchvision); a few minutes`);
  execFileSync('/usr/bin/python3', [join(ROOT, 'bench/production/build_models.py'), CACHE], { stdio: 'inherit' });
}

function link(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  rmSync(to, { force: true });
  linkSync(from, to);
}

/** A one-model repository for the server; batching on or off. */
function repository(model: string, batching: boolean): { dir: string; name: string } {
  const name = batching ? model : `${model}_nobatch`;
  const dir = join(CACHE, 'repo', name);
  const folder = join(dir, name);
  rmSync(dir, { recursive: true, force: true });
  let config = `max_batch_size: ${MAX_BATCH}\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n`;
  if (batching) config += `dynamic_batching { max_queue_delay_microseconds: ${QUEUE_DELAY_US} }\n`;
  if (model === 'embed') {
    const hf = join(CACHE, 'bert-base-hf');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) link(join(hf, f), join(folder, f));
    config += 'parameters { key: "task" value: { string_value: "text_embedding" } }\n';
  } else {
    link(join(CACHE, model === 'bert' ? 'bert-base.onnx' : 'resnet50.onnx'), join(folder, '1', 'model.onnx'));
    config = `platform: "onnxruntime_onnx"\n${config}`;
  }
  writeFileSync(join(folder, 'config.pbtxt'), config);
  return { dir, name };
}

// ---------------------------------------------------------------- requests

const TEXT = 'the cat sat on the mat and it was great '.repeat(3).trim();

function syntheticFloats(n: number): Float32Array {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
  return data;
}

/** BERT's three INT64 [1, SEQ] inputs: token ids below the tokenizer's vocabulary, a full mask. */
function bertInputs(batch: number): { name: string; data: BigInt64Array }[] {
  const ids = new BigInt64Array(batch * SEQ).map((_, i) => BigInt(5 + (i % 80)));
  return [
    { name: 'input_ids', data: ids },
    { name: 'attention_mask', data: new BigInt64Array(batch * SEQ).fill(1n) },
    { name: 'token_type_ids', data: new BigInt64Array(batch * SEQ) },
  ];
}

/** A binary-extension body with several inputs, every output requested as binary. */
function binaryBody(inputs: { name: string; datatype: string; shape: number[]; bytes: Uint8Array }[]): LoadRequest {
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((i) => ({
        name: i.name,
        datatype: i.datatype,
        shape: i.shape,
        parameters: { binary_data_size: i.bytes.byteLength },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return {
    body: Buffer.concat([header, ...inputs.map((i) => Buffer.from(i.bytes.buffer, i.bytes.byteOffset, i.bytes.byteLength))]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  };
}

const IMAGE = [1, 3, 224, 224];

function request(model: string): { path: string; req: LoadRequest } {
  if (model === 'embed') {
    return {
      path: '/openai/v1/embeddings',
      req: { body: Buffer.from(JSON.stringify({ model: '', input: TEXT })), headers: { 'content-type': 'application/json' } },
    };
  }
  if (model === 'bert') {
    const inputs = bertInputs(1).map((i) => ({ name: i.name, datatype: 'INT64', shape: [1, SEQ], bytes: new Uint8Array(i.data.buffer) }));
    return { path: '', req: binaryBody(inputs) };
  }
  const image = syntheticFloats(IMAGE.reduce((a, b) => a * b, 1));
  return { path: '', req: binaryBody([{ name: 'input', datatype: 'FP32', shape: IMAGE, bytes: new Uint8Array(image.buffer) }]) };
}

// ---------------------------------------------------------------- server side

interface Point {
  model: string;
  protocol: string;
  batching: boolean;
  c: number;
  result: LoadResult;
  /** Mean rows per model run, from the statistics extension. */
  batchFormed: number;
}

async function counts(url: string, name: string): Promise<{ inferences: number; executions: number }> {
  const body = (await (await fetch(`${url}/v2/models/${name}/stats`)).json()) as {
    model_stats: { inference_count: number; execution_count: number }[];
  };
  return body.model_stats.reduce(
    (a, s) => ({ inferences: a.inferences + s.inference_count, executions: a.executions + s.execution_count }),
    { inferences: 0, executions: 0 },
  );
}

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface ServerRun {
  points: Point[];
  idleRssMiB: number;
  peakRssMiB: number;
  loadSeconds: number;
}

async function serve(model: string, batching: boolean): Promise<ServerRun> {
  const repo = repository(model, batching);
  let port = 0;
  let grpcPort = 0;
  const t0 = Date.now();
  let server: ChildServer | undefined;
  // The machine is shared: a port found free may be taken before the server binds it.
  for (let attempt = 1; !server; attempt++) {
    port = await freePort();
    grpcPort = await freePort();
    try {
      server = await spawnServer(
        tsserveArgs(repo.dir, port, grpcPort),
        port,
        '/v2/health/ready',
        300_000, // ms: loading 400 MB of weights on a busy machine
      );
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
  const loadSeconds = (Date.now() - t0) / 1000;
  const pid = server.child.pid!;
  try {
    const idleRssMiB = rssMiB(pid, 'VmRSS');
    const { path, req } = request(model);
    if (model === 'embed') req.body = Buffer.from(JSON.stringify({ model: repo.name, input: TEXT }));
    const url = path ? path : `/v2/models/${repo.name}/infer`;
    const check = await fetch(server.url + url, { method: 'POST', headers: req.headers, body: new Uint8Array(req.body) });
    if (check.status !== 200) throw new Error(`${repo.name} answered ${check.status}: ${(await check.text()).slice(0, 300)}`);
    const points: Point[] = [];
    const protocols = model === 'resnet50' ? ['binary', 'gRPC'] : [model === 'embed' ? 'OpenAI embeddings (JSON)' : 'binary'];
    for (const protocol of protocols) {
      for (const c of CONCURRENCY) {
        const amount = Math.max(MIN_REQUESTS, PER_CONNECTION * c);
        // gRPC's load generator runs for a time: as long as the same REST point took.
        const rest = points.find((p) => p.protocol === 'binary' && p.c === c);
        const seconds = Math.max(DURATION, rest ? amount / rest.result.perSecond : 0);
        log(`${repo.name} ${protocol} c=${c}: ${protocol === 'gRPC' ? `${seconds.toFixed(0)} s` : `${amount} requests`}`);
        const run = () =>
          protocol === 'gRPC'
            ? grpcLoad(`127.0.0.1:${grpcPort}`, { model: repo.name, input: 'input', shape: IMAGE }, c, {
                warmup: WARMUP,
                duration: seconds,
              })
            : drive(server.url, url, [req], c, 0, { amount: c, timeout: 600 }).then(() =>
                drive(server.url, url, [req], c, 0, { amount, timeout: 600 }),
              );
        const before = await counts(server.url, repo.name);
        const result = await run();
        const after = await counts(server.url, repo.name);
        const batchFormed = (after.inferences - before.inferences) / Math.max(1, after.executions - before.executions);
        log(
          `  ${result.perSecond.toFixed(1)} req/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, batch ${batchFormed.toFixed(1)}, errors ${result.errors + result.non2xx}`,
        );
        points.push({ model, protocol, batching, c, result, batchFormed });
      }
    }
    return { points, idleRssMiB, peakRssMiB: rssMiB(pid, 'VmHWM'), loadSeconds };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------- in process

interface InProcess {
  batch: number;
  rowsPerSecond: number;
  p50: number;
}

/** Sequential runs at `batch` for DURATION seconds (at least 3 runs): the same work without the server. */
async function timed(batch: number, run: () => Promise<unknown>): Promise<InProcess> {
  await run();
  const latencies: number[] = [];
  const start = performance.now();
  while (performance.now() - start < DURATION * 1000 || latencies.length < 3) {
    const t0 = performance.now();
    await run();
    latencies.push(performance.now() - t0);
  }
  const s = stats(latencies, (performance.now() - start) / 1000);
  return { batch, rowsPerSecond: s.perSecond * batch, p50: s.p50 };
}

/** The server's thread rule for one instance: the whole CPU limit as intra-op threads. */
const THREADS = Math.max(1, CPUS);

async function inProcess(model: string, batches: number[]): Promise<InProcess[]> {
  const out: InProcess[] = [];
  if (model === 'embed') {
    const { env, pipeline } = await import('@huggingface/transformers');
    env.localModelPath = CACHE;
    env.allowRemoteModels = false;
    const fe = await pipeline('feature-extraction', 'bert-base-hf', {
      session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 },
    } as never);
    for (const b of batches) out.push(await timed(b, () => fe(Array(b).fill(TEXT), { pooling: 'mean', normalize: true })));
    await fe.dispose();
    return out;
  }
  const file = join(CACHE, model === 'bert' ? 'bert-base.onnx' : 'resnet50.onnx');
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
  });
  try {
    for (const b of batches) {
      const feeds: Record<string, ort.Tensor> = {};
      if (model === 'bert') for (const i of bertInputs(b)) feeds[i.name] = new ort.Tensor('int64', i.data, [b, SEQ]);
      else feeds['input'] = new ort.Tensor('float32', syntheticFloats(b * 3 * 224 * 224), [b, 3, 224, 224]);
      out.push(await timed(b, () => session.run(feeds)));
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Powers of two up to MAX_BATCH nearest to each formed batch size, plus 1. */
function batchesFor(points: Point[]): number[] {
  const set = new Set<number>([1]);
  for (const p of points) if (p.batching) set.add(nearestPow2(p.batchFormed));
  return [...set].sort((a, b) => a - b);
}

const nearestPow2 = (n: number) => Math.min(MAX_BATCH, 2 ** Math.max(0, Math.round(Math.log2(Math.max(1, n)))));

// ---------------------------------------------------------------- report

const TITLES: Record<string, string> = {
  bert: `BERT-base-shaped encoder (12 x 768, plain ONNX, input_ids/attention_mask/token_type_ids INT64 [1,${SEQ}], binary extension)`,
  embed: `BERT-base-shaped encoder as text_embedding (transformers.js, one text of ${SEQ} tokens or fewer per request, POST /openai/v1/embeddings)`,
  resnet50: 'ResNet-50 (torchvision, FP32 [1,3,224,224] per request)',
};

async function main(): Promise<void> {
  ensureModels();
  const started = new Date();
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const sections: string[] = [];
  // Written after each model, so an interrupted run keeps what it measured.
  const write = () => {
    const report = [
      '# tsserve on production-size models',
      '',
      `- date: ${started.toISOString()}; command: \`node dist/bench/production.js ${argv.join(' ')}\``,
      `- node ${process.version}, onnxruntime-node ${ort.env.versions.node ?? '?'}; CPU: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores (cgroup limit ${CPUS}); load average before: ${loadBefore}, after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
      `- REST points: ${PER_CONNECTION} requests per connection (at least ${MIN_REQUESTS}) after one per connection as warmup; gRPC points: as long as the REST point took (at least ${DURATION} s) after ${WARMUP} s warmup; batch-1 requests; concurrency = connections (REST, autocannon) or calls in flight on one HTTP/2 connection (gRPC, bench/grpc-load.ts); p99 of a point with few requests is its maximum, read it with the request count`,
      '- random weights (bench/production/build_models.py, cached in bench/.cache/production); the machine is shared, so the numbers are noisy: compare rows of one run',
      '- share = server req/s over in-process rows/s at the power of two nearest the batch the server formed',
      '',
      ...sections,
    ].join('\n');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, report);
  };
  for (const model of MODELS) {
    if (!TITLES[model]) throw new Error(`unknown model '${model}' (known: ${Object.keys(TITLES).join(', ')})`);
    const runs = [await serve(model, true), await serve(model, false)];
    const points = runs.flatMap((r) => r.points);
    const batches = batchesFor(points);
    log(`${model}: in-process at batch ${batches.join(', ')}, ${THREADS} intra-op threads`);
    const base = await inProcess(model, batches);
    const at = (n: number) => base.find((b) => b.batch === nearestPow2(n))!;
    sections.push(
      `## ${TITLES[model]}`,
      '',
      `Server: one instance, ${THREADS} intra-op threads, max_batch_size ${MAX_BATCH}; batching on = \`dynamic_batching { max_queue_delay_microseconds: ${QUEUE_DELAY_US} }\`. In-process: ${model === 'embed' ? 'transformers.js feature-extraction pipeline (mean pooling, normalised)' : 'onnxruntime-node `session.run`'}, same file and threads, sequential calls.`,
      '',
      '| protocol | batching | concurrency | req/s | p50 ms | p99 ms | requests | batch formed | in-process rows/s at that batch | share |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...points.map((p) => {
        const b = at(p.batchFormed);
        return `| ${p.protocol} | ${p.batching ? 'on' : 'off'} | ${p.c} | ${p.result.perSecond.toFixed(1)} | ${p.result.p50.toFixed(1)} | ${p.result.p99.toFixed(1)} | ${p.result.count} | ${p.batchFormed.toFixed(1)} | ${b.rowsPerSecond.toFixed(1)} (batch ${b.batch}) | ${((p.result.perSecond / b.rowsPerSecond) * 100).toFixed(0)}% |`;
      }),
      '',
      '| in-process batch | rows/s | p50 ms per call |',
      '|---:|---:|---:|',
      ...base.map((b) => `| ${b.batch} | ${b.rowsPerSecond.toFixed(1)} | ${b.p50.toFixed(1)} |`),
      '',
      `Server memory: batching on: RSS ${runs[0]!.idleRssMiB.toFixed(0)} MiB after load, peak ${runs[0]!.peakRssMiB.toFixed(0)} MiB; batching off: ${runs[1]!.idleRssMiB.toFixed(0)} MiB after load, peak ${runs[1]!.peakRssMiB.toFixed(0)} MiB. Load to ready: ${runs[0]!.loadSeconds.toFixed(1)} s.`,
      '',
    );
    write();
  }
  process.stdout.write(readFileSync(OUT, 'utf8'));
  log(`wrote ${relative(ROOT, OUT)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`production bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  for (const c of children) c.kill('SIGKILL');
  process.exitCode = 1;
});
