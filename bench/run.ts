/**
 * The foundation benchmark: tsserve as a child process, loaded by autocannon (REST) and by
 * bench/grpc-load.ts (gRPC), against the same model run in-process on onnxruntime-node; plus
 * the binary extension's decode cost and a 4 MiB round trip over each protocol.
 *
 *   npm run bench                       # default mode, under 3 minutes
 *   node dist/bench/run.js --quick      # short points, under a minute
 *
 * Flags: --quick, --model_dir DIR (default models), --model NAME (default classifier),
 * --workers K, --nthread T (passed to the server and mirrored by the baseline),
 * --duration S (seconds per load point), --out FILE (default bench/results/foundation.md).
 * See bench/README.md for what each number means.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as ort from 'onnxruntime-node';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { INFERENCE_SERVICE, loadDefinitions } from '../src/grpc/proto.js';
import { decodeInferBody } from '../src/http/v2-request.js';
import { readModelFolder } from '../src/repository/layout.js';
import { SHIPPED_RUNTIMES } from '../runtimes/index.js';
import { GRPC_HEADERS, grpcFrame, inferMessage } from './grpc-wire.js';
import { fromH2load, h2load, h2loadVersion } from './h2load.js';
import { TENSOR_BYTES, TENSOR_SHAPE, bigTensor, binaryRequest } from './payload.js';
import { ROOT, type ChildServer, children, freePort, runJsonChild, spawnServer, tsserveArgs } from './lib/child-server.js';
import { type GrpcLoadSpec, type LoadRequest, type LoadResult, cpuSeconds, drive, grpcLoad } from './lib/load.js';
import { type LatencyStats, stats } from './lib/stats.js';
import { resultsFile } from './lib/results-dir.js';

// ---------------------------------------------------------------- options

interface BenchOptions {
  quick: boolean;
  modelDir: string;
  model: string;
  workers: number;
  nthread: number;
  /** Seconds per measured load point. */
  duration: number;
  /** Seconds of discarded load before each point. */
  warmup: number;
  /** Seconds of sequential in-process runs for the baseline. */
  baselineSeconds: number;
  /** Seconds spent timing each decode variant. */
  decodeSeconds: number;
  out: string;
}

function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replace(/-/g, '_');
    if (eq >= 0) flags.set(name, arg.slice(eq + 1));
    else if (name === 'quick' || name === 'help') flags.set(name, true);
    else if (argv[i + 1] === undefined) throw new Error(`--${name} needs a value`);
    else flags.set(name, argv[++i]!);
  }
  const known = ['quick', 'help', 'model_dir', 'model', 'workers', 'nthread', 'duration', 'out'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k} (known: ${known.join(', ')})`);
  if (flags.has('help')) {
    process.stdout.write(
      'usage: node dist/bench/run.js [--quick] [--model_dir DIR] [--model NAME] [--workers K] [--nthread T] [--duration S] [--out FILE]\n',
    );
    process.exit(0);
  }
  const int = (name: string, fallback: number) => {
    const v = flags.get(name);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new Error(`--${name} expects a non-negative integer`);
    return Number(v);
  };
  const str = (name: string, fallback: string) => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : fallback;
  };
  const quick = flags.has('quick');
  return {
    quick,
    modelDir: resolve(ROOT, str('model_dir', 'models')),
    model: str('model', 'classifier'),
    workers: int('workers', 1),
    nthread: int('nthread', 0),
    duration: int('duration', quick ? 4 : 15),
    warmup: quick ? 1 : 2,
    baselineSeconds: quick ? 3 : 10,
    decodeSeconds: quick ? 0.5 : 2,
    out: resolve(ROOT, str('out', resultsFile('foundation.md'))),
  };
}

// ---------------------------------------------------------------- statistics

// ---------------------------------------------------------------- the child server

async function startChild(modelDir: string, opts: BenchOptions): Promise<ChildServer> {
  const port = await freePort();
  const grpcPort = await freePort();
  const args = [...tsserveArgs(modelDir, port, grpcPort), '--workers', String(opts.workers)];
  if (opts.nthread) args.push('--nthread', String(opts.nthread));
  return { ...(await spawnServer(args, port, '/v2/health/ready')), grpcAddress: `127.0.0.1:${grpcPort}` };
}

// ---------------------------------------------------------------- load points

interface Point {
  label: string;
  c: number;
  result: LoadResult;
  /** CPU time of the server process (every thread) per completed request. */
  serverCpuUs: number;
}

/** The model's failed requests so far, from the statistics extension. */
async function failedRequests(url: string, model: string): Promise<number> {
  const body = (await (await fetch(`${url}/v2/models/${model}/stats`)).json()) as {
    model_stats: { inference_stats: { fail: { count: number } } }[];
  };
  return body.model_stats.reduce((n, s) => n + s.inference_stats.fail.count, 0);
}

/**
 * Sequential 4 MiB binary POSTs from bench/post-loop.ts in a process of its own (see there why
 * neither autocannon nor this process drives them).
 */
async function postLoop(url: string, path: string, opts: BenchOptions): Promise<LatencyStats> {
  const { latenciesMs, seconds } = await runJsonChild<{ latenciesMs: number[]; seconds: number }>('post-loop.js', [
    url,
    path,
    String(opts.warmup),
    String(opts.duration),
  ]);
  return stats(latenciesMs, seconds);
}

/** One gRPC ModelInfer, decoded in full, so a broken gRPC path fails before any load. Returns the raw outputs. */
function grpcInferOnce(address: string, request: object): Promise<Buffer[]> {
  return grpcInferResponse(address, request).then((r) => r.raw_output_contents);
}

/** One gRPC ModelInfer's whole response, decoded. */
function grpcInferResponse(address: string, request: object): Promise<{ raw_output_contents: Buffer[] }> {
  const Service = grpc.makeClientConstructor(loadDefinitions()[INFERENCE_SERVICE] as grpc.ServiceDefinition, INFERENCE_SERVICE);
  const client = new Service(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as grpc.Client &
    Record<string, any>;
  return new Promise((resolveCall, reject) => {
    client['ModelInfer'](request, (error: Error | null, response: { raw_output_contents: Buffer[] }) => {
      client.close();
      if (error) reject(new Error(`gRPC ModelInfer failed: ${error.message}`));
      else resolveCall(response);
    });
  });
}

function jsonRequest(input: { name: string; datatype: string }, row: number[]): LoadRequest {
  const body = Buffer.from(JSON.stringify({ inputs: [{ name: input.name, datatype: input.datatype, shape: [1, row.length], data: row }] }));
  return { body, headers: { 'content-type': 'application/json' } };
}

/** One request of each kind, checked by hand before any load, so a broken server fails loudly. */
async function check(url: string, path: string, req: LoadRequest, verify?: (body: Buffer, headers: Headers) => void): Promise<void> {
  const res = await fetch(url + path, { method: 'POST', headers: req.headers, body: new Uint8Array(req.body) });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${body.subarray(0, 500).toString('utf8')}`);
  verify?.(body, res.headers);
}

/** Label prefix of the transport ceiling's points. */
const CEILING = 'ceiling: bare Node, ';

/** The ceiling point a tsserve point is compared with: same protocol and client, same concurrency. */
function ceilingOf(points: Point[], p: Point): LoadResult | undefined {
  if (p.label.startsWith(CEILING) || p.label.includes('h2load')) return undefined;
  const base = p.label.startsWith('gRPC') ? 'gRPC' : p.label;
  return points.find((q) => q.label === CEILING + base && q.c === p.c)?.result;
}

// ---------------------------------------------------------------- in-process baseline

interface Baseline extends LatencyStats {
  intraOpThreads: number;
  interOpThreads: number;
  modelFile: string;
}

async function baseline(opts: BenchOptions, inputName: string, rows: number[][]): Promise<Baseline> {
  const source = await readModelFolder(opts.model, join(opts.modelDir, opts.model), { runtimes: SHIPPED_RUNTIMES });
  const version = source.versions[source.versions.length - 1]!;
  const { config } = source;
  // The server's rule (ModelRepository.poolSpec), so both run with the same thread counts.
  const instances = config.instanceCount ?? Math.max(1, opts.workers);
  const intraOpThreads = config.intraOpThreads ?? (opts.nthread || Math.max(1, Math.floor(cpuLimit() / instances)));
  const interOpThreads = config.interOpThreads ?? 1;
  const session = await ort.InferenceSession.create(version.file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: interOpThreads,
  });
  try {
    const outputNames = [...session.outputNames];
    const tensors = rows.map((r) => new ort.Tensor('float32', Float32Array.from(r), [1, r.length]));
    for (let i = 0; i < 200; i++) await session.run({ [inputName]: tensors[i % tensors.length]! }, outputNames);
    const latencies: number[] = [];
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(opts.baselineSeconds * 1e9));
    let now = start;
    for (let i = 0; now < end; i++) {
      const t0 = process.hrtime.bigint();
      await session.run({ [inputName]: tensors[i % tensors.length]! }, outputNames);
      now = process.hrtime.bigint();
      latencies.push(Number(now - t0) / 1e6);
    }
    const s = stats(latencies, Number(now - start) / 1e9);
    return { ...s, intraOpThreads, interOpThreads, modelFile: relative(ROOT, version.file) };
  } finally {
    await session.release();
  }
}

// ---------------------------------------------------------------- binary decode

/** A 4 MiB FP32 binary body whose tensor starts `misalign` bytes past a 4-byte boundary. */
function decodeBody(misalign: number): { body: Uint8Array; headerLength: number; data: Float32Array } {
  const data = bigTensor();
  let header = JSON.stringify({
    inputs: [{ name: 'x', datatype: 'FP32', shape: TENSOR_SHAPE, parameters: { binary_data_size: TENSOR_BYTES } }],
    parameters: { binary_data_output: true },
  });
  while (Buffer.byteLength(header) % 4 !== misalign) header += ' '; // JSON allows trailing whitespace
  const headerBytes = Buffer.from(header);
  // Allocated the way the server reads a body: one ArrayBuffer per request, offset 0.
  const body = new Uint8Array(new ArrayBuffer(headerBytes.byteLength + TENSOR_BYTES));
  body.set(headerBytes, 0);
  body.set(new Uint8Array(data.buffer), headerBytes.byteLength);
  return { body, headerLength: headerBytes.byteLength, data };
}

interface DecodeResult {
  misalign: number;
  calls: number;
  usPerCall: number;
  gbPerSecond: number;
  copies: boolean;
}

function timeDecode(misalign: number, seconds: number): DecodeResult {
  const { body, headerLength, data } = decodeBody(misalign);
  const ctx = { model: 'fp32', inputSpecs: () => [{ name: 'x', datatype: 'FP32' as const, shape: [-1, -1] }] };
  const header = String(headerLength);
  const first = decodeInferBody(body, header, ctx).request.inputs[0]!;
  const decoded = first.data as Float32Array;
  if (decoded.length !== data.length || decoded[12345] !== data[12345] || decoded[data.length - 1] !== data[data.length - 1]) {
    throw new Error('decodeInferBody returned the wrong tensor');
  }
  const copies = decoded.buffer !== body.buffer;
  for (let i = 0; i < 20; i++) decodeInferBody(body, header, ctx);
  let calls = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  let sink = 0;
  while (now < end) {
    for (let i = 0; i < 10; i++) sink += (decodeInferBody(body, header, ctx).request.inputs[0]!.data as Float32Array).length;
    calls += 10;
    now = process.hrtime.bigint();
  }
  if (sink !== calls * data.length) throw new Error('unreachable');
  const ns = Number(now - start);
  return { misalign, calls, usPerCall: ns / calls / 1e3, gbPerSecond: (TENSOR_BYTES * calls) / ns, copies };
}

// ---------------------------------------------------------------- report

const f = (n: number, digits = 3) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const fi = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const wallStart = Date.now();
  const command = `node ${relative(ROOT, process.argv[1]!) || process.argv[1]} ${process.argv.slice(2).join(' ')}`.trim();
  const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - wallStart) / 1000).toFixed(1)}s] ${msg}\n`);
  const cpus = os.cpus();
  const loadAvg = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

  // Inputs: the model's own test rows (cases.json), one row per request.
  const casesFile = join(opts.modelDir, opts.model, 'cases.json');
  const rows = (JSON.parse(readFileSync(casesFile, 'utf8')) as { inputs: number[][] }).inputs;
  if (!rows?.length) throw new Error(`${casesFile} has no 'inputs' rows`);

  // 1. In-process work first: the server is started (for its metadata) but idle.
  log(`baseline: in-process onnxruntime-node on ${opts.model}, ${opts.baselineSeconds}s`);
  let inputName = 'input';
  const servers: ChildServer[] = [];
  try {
    const main = await startChild(opts.modelDir, opts);
    servers.push(main);
    const meta = (await (await fetch(`${main.url}/v2/models/${opts.model}`)).json()) as { inputs: { name: string; datatype: string }[] };
    const input = meta.inputs[0]!;
    if (meta.inputs.length !== 1 || input.datatype !== 'FP32')
      throw new Error(`the bench drives models with one FP32 input; ${opts.model} has ${JSON.stringify(meta.inputs)}`);
    inputName = input.name;
    // The server idles (no requests) while the baseline and decode timings run.
    const base = await baseline(opts, inputName, rows);
    log(`baseline p50 ${f(base.p50)} ms, ${fi(base.perSecond)} runs/s (intra-op ${base.intraOpThreads})`);

    log(`decode: decodeInferBody on a 4 MiB FP32 body, ${opts.decodeSeconds}s per variant`);
    const decodes = [0, 1].map((m) => timeDecode(m, opts.decodeSeconds));

    // 2. Load points against the child server.
    const path = `/v2/models/${opts.model}/infer`;
    const jsonReqs = rows.map((r) => jsonRequest(input, r));
    const binReqs = rows.map((r) => binaryRequest(input, [1, r.length], Float32Array.from(r)));
    // The answers are kept: the transport ceiling answers bodies of the same size.
    const answers = { json: '', binary: '', binaryHeaderLength: 0, grpc: '' };
    await check(main.url, path, jsonReqs[0]!, (b) => {
      if (!Array.isArray(JSON.parse(b.toString('utf8')).outputs)) throw new Error('JSON infer answered without outputs');
      answers.json = b.toString('base64');
    });
    let restOutputs: Buffer = Buffer.alloc(0);
    await check(main.url, path, binReqs[0]!, (b, h) => {
      const headerLength = h.get('inference-header-content-length');
      if (!headerLength) throw new Error('binary infer answered without Inference-Header-Content-Length');
      restOutputs = b.subarray(Number(headerLength));
      answers.binary = b.toString('base64');
      answers.binaryHeaderLength = Number(headerLength);
    });
    const row0 = Buffer.from(Float32Array.from(rows[0]!).buffer);
    const grpcResponse = await grpcInferResponse(main.grpcAddress!, {
      model_name: opts.model,
      inputs: [{ name: input.name, datatype: 'FP32', shape: [1, rows[0]!.length] }],
      raw_input_contents: [row0],
    });
    if (!Buffer.concat(grpcResponse.raw_output_contents).equals(restOutputs))
      throw new Error('gRPC and REST binary infer answered different bytes');
    const service = loadDefinitions()[INFERENCE_SERVICE] as grpc.ServiceDefinition;
    answers.grpc = service['ModelInfer']!.responseSerialize(grpcResponse).toString('base64');

    const points: Point[] = [];
    const measure = async (label: string, c: number, run: () => Promise<LoadResult>, pid = main.child.pid) => {
      log(`${label} c=${c}: warmup ${opts.warmup}s, measure ${opts.duration}s`);
      const cpuBefore = cpuSeconds(pid);
      const result = await run();
      const serverCpuUs = ((cpuSeconds(pid) - cpuBefore) / Math.max(1, result.count)) * 1e6;
      log(
        `  ${fi(result.perSecond)} req/s, p50 ${f(result.p50)} ms, p99 ${f(result.p99)} ms, errors ${result.errors}, non-2xx ${result.non2xx}, server CPU ${fi(serverCpuUs)} us/req`,
      );
      points.push({ label, c, result, serverCpuUs });
    };
    const restPoints = (url: string, prefix: string, pid: number | undefined) =>
      (async () => {
        for (const [label, reqs, cs] of [
          ['HTTP JSON', jsonReqs, [1, 8, 16]],
          ['HTTP binary', binReqs, [1, 16]],
        ] as const) {
          for (const c of cs) {
            await measure(
              prefix + label,
              c,
              async () => {
                await drive(url, path, reqs, c, opts.warmup);
                return drive(url, path, reqs, c, opts.duration);
              },
              pid,
            );
          }
        }
      })();
    await restPoints(main.url, '', main.child.pid);
    const grpcSpec: GrpcLoadSpec = { model: opts.model, input: input.name, rows };
    for (const c of [1, 16]) await measure('gRPC', c, () => grpcLoad(main.grpcAddress!, grpcSpec, c, opts));
    await measure('gRPC stream', 16, () => grpcLoad(main.grpcAddress!, { ...grpcSpec, stream: true }, 16, opts));

    // The same client (h2load, C) for REST binary over HTTP/1.1 and gRPC over HTTP/2, when installed.
    const h2 = h2loadVersion();
    if (h2) {
      const timing = { warmup: opts.warmup, seconds: opts.duration };
      await measure('HTTP binary, h2load', 16, async () =>
        fromH2load(
          await h2load({
            ...timing,
            url: main.url + path,
            body: binReqs[0]!.body,
            headers: binReqs[0]!.headers,
            http1: true,
            connections: 16,
            streams: 1,
          }),
        ),
      );
      const failedBefore = await failedRequests(main.url, opts.model);
      await measure('gRPC, h2load', 16, async () => {
        const framed = grpcFrame(inferMessage(opts.model, input.name, [1, rows[0]!.length], Float32Array.from(rows[0]!)));
        const run = await h2load({
          ...timing,
          url: `http://${main.grpcAddress}/${INFERENCE_SERVICE}/ModelInfer`,
          body: framed,
          headers: GRPC_HEADERS,
          http1: false,
          connections: 1,
          streams: 16,
        });
        // A failed gRPC call is HTTP 200 too: the server's own count of failures tells.
        return { ...fromH2load(run), errors: (await failedRequests(main.url, opts.model)) - failedBefore };
      });
    } else {
      log('h2load is not installed (apt-get install nghttp2-client): skipping the equal-client points');
    }
    await main.stop();

    // The transport ceiling: bare node:http and grpc-js answering bodies of the same sizes, same clients.
    const bodiesFile = join(os.tmpdir(), `tsserve-ceiling-${process.pid}.json`);
    writeFileSync(bodiesFile, JSON.stringify(answers));
    const ceilingPort = await freePort();
    const ceilingGrpcPort = await freePort();
    const ceiling = await spawnServer(
      [join(ROOT, 'dist/bench/ceiling-server.js'), String(ceilingPort), String(ceilingGrpcPort), bodiesFile],
      ceilingPort,
      '/',
    );
    servers.push(ceiling);
    await restPoints(ceiling.url, CEILING, ceiling.child.pid);
    for (const c of [1, 16])
      await measure(`${CEILING}gRPC`, c, () => grpcLoad(`127.0.0.1:${ceilingGrpcPort}`, grpcSpec, c, opts), ceiling.child.pid);
    await ceiling.stop();
    rmSync(bodiesFile, { force: true });

    // 3. End-to-end 4 MiB binary round trip on the fp32 identity model.
    const dtypesDir = join(ROOT, 'test/fixtures/dtypes');
    log(`e2e: 4 MiB binary in/out on fp32 (${relative(ROOT, dtypesDir)}), warmup ${opts.warmup}s, measure ${opts.duration}s`);
    const fp32 = await startChild(dtypesDir, opts);
    servers.push(fp32);
    const big = bigTensor(); // the same body bench/post-loop.ts sends
    const bigReq = binaryRequest({ name: 'x', datatype: 'FP32' }, TENSOR_SHAPE, big);
    await check(fp32.url, '/v2/models/fp32/infer', bigReq, (b, h) => {
      const hl = Number(h.get('inference-header-content-length'));
      const out = b.subarray(hl);
      if (out.byteLength !== TENSOR_BYTES || !out.equals(Buffer.from(big.buffer)))
        throw new Error('fp32 identity did not return its input bytes');
    });
    const e2ePath = '/v2/models/fp32/infer';
    const e2e = await postLoop(fp32.url, e2ePath, opts);
    log(`  ${f(e2e.perSecond, 1)} req/s, p50 ${f(e2e.p50)} ms, ${f((e2e.perSecond * TENSOR_BYTES) / 1e6, 0)} MB/s`);

    log(`e2e gRPC: 4 MiB raw in/out on fp32, warmup ${opts.warmup}s, measure ${opts.duration}s`);
    const [bigOut] = await grpcInferOnce(fp32.grpcAddress!, {
      model_name: 'fp32',
      inputs: [{ name: 'x', datatype: 'FP32', shape: TENSOR_SHAPE }],
      raw_input_contents: [Buffer.from(big.buffer)],
    });
    if (!bigOut?.equals(Buffer.from(big.buffer))) throw new Error('fp32 identity did not return its input bytes over gRPC');
    const e2eGrpc = await grpcLoad(fp32.grpcAddress!, { model: 'fp32', input: 'x', big: true }, 1, opts);
    log(`  ${f(e2eGrpc.perSecond, 1)} req/s, p50 ${f(e2eGrpc.p50)} ms, ${f((e2eGrpc.perSecond * TENSOR_BYTES) / 1e6, 0)} MB/s`);
    await fp32.stop();

    // The same round trip against a bare node:http echo server: the transport floor on this machine.
    log(`e2e floor: the same body to a node:http echo server, warmup ${opts.warmup}s, measure ${opts.duration}s`);
    const echoPort = await freePort();
    const echo = await spawnServer([join(ROOT, 'dist/bench/echo-server.js'), String(echoPort)], echoPort, '/');
    servers.push(echo);
    const floor = await postLoop(echo.url, e2ePath, opts);
    log(`  ${f(floor.perSecond, 1)} req/s, p50 ${f(floor.p50)} ms, ${f((floor.perSecond * TENSOR_BYTES) / 1e6, 0)} MB/s`);
    await echo.stop();

    // 4. Report.
    const point = (label: string, c: number) => points.find((p) => p.label === label && p.c === c)?.result;
    const jsonC1 = point('HTTP JSON', 1)!;
    const binC1 = point('HTTP binary', 1)!;
    const grpcC1 = point('gRPC', 1)!;
    const jsonC8 = points.find((p) => p.label === 'HTTP JSON' && p.c === 8)!;
    const jsonC8Top = ceilingOf(points, jsonC8);
    const jsonC8Share = jsonC8Top
      ? `${f((jsonC8.result.perSecond / jsonC8Top.perSecond) * 100, 0)}% (${fi(jsonC8.result.perSecond)} vs ${fi(jsonC8Top.perSecond)} req/s)`
      : 'n/a';
    const versus = (grpcLabel: string, restLabel: string) => {
      const g = point(grpcLabel, 16);
      const r = point(restLabel, 16);
      if (!g || !r) return `- ${grpcLabel} vs ${restLabel}: not measured (h2load not installed)`;
      return `- ${grpcLabel} vs ${restLabel}: **${f(g.perSecond / r.perSecond, 2)}x** the throughput (${fi(g.perSecond)} vs ${fi(r.perSecond)} req/s); p50 ${f(g.p50)} vs ${f(r.p50)} ms; p99 ${f(g.p99)} vs ${f(r.p99)} ms`;
    };
    const mode = opts.quick ? 'quick' : 'default';
    const lines = [
      `# tsserve foundation benchmark`,
      '',
      `- date: ${new Date().toISOString()}`,
      `- command: \`${command}\` (mode: ${mode}; ${opts.duration} s per load point after ${opts.warmup} s warmup; baseline ${opts.baselineSeconds} s)`,
      `- node ${process.version}, onnxruntime-node ${ort.env.versions.node ?? '?'}, autocannon ${autocannonVersion()}`,
      `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores (availableParallelism ${os.availableParallelism()}, cgroup limit ${cpuLimit()}), load average before run: ${loadAvg}`,
      `- server: \`node dist/src/cli.js --model_dir ${relative(ROOT, opts.modelDir) || '.'} --workers ${opts.workers}${opts.nthread ? ` --nthread ${opts.nthread}` : ''}\` as a child process on 127.0.0.1; intra-op threads ${base.intraOpThreads}, inter-op ${base.interOpThreads}`,
      `- load: HTTP by autocannon in the bench process, one keep-alive connection per unit of concurrency, ${rows.length} distinct rows from ${relative(ROOT, casesFile)} cycled per connection; latency = request written to response parsed, as autocannon measures it`,
      `- load: gRPC by bench/grpc-load.ts in a child process (gRPC framing on node:http2; server on @grpc/grpc-js ${grpcVersion()}), one HTTP/2 connection with that many ModelInfer calls in flight (\`gRPC stream\`: one ModelStreamInfer call with 16 requests in flight), raw_input_contents, the same rows; requests encoded up front, responses checked for grpc-status 0 but not decoded; latency = call started to response received`,
      `- load: \`h2load\` rows: ${h2 ?? 'h2load not installed'}, one client program for both protocols: REST binary over 16 HTTP/1.1 connections, gRPC over one HTTP/2 connection with 16 streams, one row (rows[0]) each; gRPC failures counted from the server's statistics, as they are HTTP 200 too`,
      `- server CPU = user + system time of the whole server process (all threads, from /proc) during the point, per completed request`,
      '',
      `## ${opts.model}, batch 1`,
      '',
      '| path | concurrency | req/s | share of ceiling | p50 ms | p99 ms | errors | server CPU us/req |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      `| in-process onnxruntime-node \`session.run\` (${base.modelFile}) | 1 (sequential) | ${fi(base.perSecond)} | - | ${f(base.p50)} | ${f(base.p99)} | - | - |`,
      ...points.map((p) => {
        const top = ceilingOf(points, p);
        const share = top ? `${f((p.result.perSecond / top.perSecond) * 100, 0)}%` : '-';
        return `| ${p.label} | ${p.c} | ${fi(p.result.perSecond)} | ${share} | ${f(p.result.p50)} | ${f(p.result.p99)} | ${p.result.errors + p.result.non2xx} | ${fi(p.serverCpuUs)} |`;
      }),
      '',
      `Share of ceiling: tsserve's req/s over the req/s of \`bench/ceiling-server.ts\` (bare node:http, or bare @grpc/grpc-js with identity serialisers, answering a fixed body of the same size as tsserve's answer, no model) driven by the same client at the same concurrency in this run. gRPC and gRPC stream are both compared with the bare grpc-js unary ceiling.`,
      '',
      `Issue 16's target, batch-1 JSON at 8 connections >= 50% of the bare node:http ceiling: **${jsonC8Share}**.`,
      '',
      `Server overhead at c=1 (server p50 - in-process p50): JSON **${f(jsonC1.p50 - base.p50)} ms**, binary **${f(binC1.p50 - base.p50)} ms**, gRPC **${f(grpcC1.p50 - base.p50)} ms**.`,
      '',
      'gRPC against REST binary at concurrency 16:',
      '',
      versus('gRPC', 'HTTP binary'),
      versus('gRPC stream', 'HTTP binary'),
      versus('gRPC, h2load', 'HTTP binary, h2load'),
      '',
      '## Binary extension, 4 MiB FP32 tensor ([1024,1024])',
      '',
      '| measurement | calls | time per call | throughput |',
      '|---|---:|---:|---:|',
      ...decodes.map(
        (d) =>
          `| \`decodeInferBody\` in-process, tensor offset ${d.misalign ? 'not ' : ''}4-byte aligned (${d.copies ? 'copies the tensor' : 'zero-copy view'}) | ${fi(d.calls)} | ${f(d.usPerCall, 2)} us | ${f(d.gbPerSecond, 1)} GB/s |`,
      ),
      `| end-to-end POST to \`fp32\` identity, binary in and out, c=1 (node:http client, bench/post-loop.ts) | ${fi(e2e.count)} | p50 ${f(e2e.p50, 2)} ms, p99 ${f(e2e.p99, 2)} ms | ${f((e2e.perSecond * TENSOR_BYTES) / 1e6, 0)} MB/s |`,
      `| end-to-end gRPC ModelInfer to \`fp32\` identity, raw in and out, c=1 (bench/grpc-load.ts) | ${fi(e2eGrpc.count)} | p50 ${f(e2eGrpc.p50, 2)} ms, p99 ${f(e2eGrpc.p99, 2)} ms | ${f((e2eGrpc.perSecond * TENSOR_BYTES) / 1e6, 0)} MB/s |`,
      `| reference: same body to a bare node:http echo server (bench/echo-server.ts), c=1 | ${fi(floor.count)} | p50 ${f(floor.p50, 2)} ms, p99 ${f(floor.p99, 2)} ms | ${f((floor.perSecond * TENSOR_BYTES) / 1e6, 0)} MB/s |`,
      '',
      `GB/s and MB/s are decimal (1e9, 1e6 bytes) of tensor payload; end-to-end MB/s counts the 4 MiB of input tensor sent per request (the same 4 MiB also comes back), i.e. requests/s x 4.19 MB. The decode rows time only \`decodeInferBody\` (JSON header parse + tensor view or copy); reading the body off the socket, the worker hop and the response are not in them.`,
      '',
      `Total bench wall time: ${((Date.now() - wallStart) / 1000).toFixed(1)} s; load average after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (other processes on the machine share the ${cpus.length} cores).`,
      '',
    ];
    const report = lines.join('\n');
    process.stdout.write(`\n${report}`);
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, report);
    log(`wrote ${relative(ROOT, opts.out)} (process uptime ${process.uptime().toFixed(1)} s)`);
  } finally {
    for (const s of servers) await s.stop();
  }
}

function grpcVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules/@grpc/grpc-js/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function autocannonVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  for (const c of children) c.kill('SIGKILL');
  process.exitCode = 1;
});
