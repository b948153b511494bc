/**
 * The predictive runtimes' benchmark: a native XGBoost model (converted to an ONNX tree
 * ensemble at load) beside the same model as an exported ONNX file, for 100 and 1000 trees
 * of depth 6 over 20 features: load time, and batch-1 / batch-64 throughput over HTTP.
 *
 *   npm run build && node dist/bench/predictive.js [--quick] [--duration S] [--out FILE]
 *
 * The models are synthetic and seeded (bench/xgboost-synth.ts), written to a temporary
 * repository; the server runs as a child process (`--workers 1`, default threads), driven by
 * autocannon over v2 JSON. Before timing, both forms of each model must agree on every row.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import * as ort from 'onnxruntime-node';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { treeEnsembleToOnnx } from '../runtimes/onnx-ml/tree-ensemble.js';
import { createSession } from '../runtimes/onnx/session.js';
import { convertXgboost } from '../runtimes/xgboost/xgboost-convert.js';
import { parseXgboostFile } from '../runtimes/xgboost/xgboost-file.js';
import { type SynthSpec, exportedOnnx, synthTrees, xgboostJson } from './xgboost-synth.js';
import { resultsFile } from './lib/results-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const FEATURES = 20;
const SIZES = [100, 1000];

interface Options {
  quick: boolean;
  duration: number;
  warmup: number;
  reloads: number;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const duration = Number(value('--duration') ?? (quick ? 3 : 10));
  if (!(duration > 0)) throw new Error('--duration expects a positive number of seconds');
  return {
    quick,
    duration,
    warmup: quick ? 1 : 2,
    reloads: quick ? 3 : 7,
    out: resolve(ROOT, value('--out') ?? resultsFile('predictive.md')),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

// ---------------------------------------------------------------- the server

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

async function startServer(modelDir: string): Promise<{ url: string; stop: () => void; startupMs: number }> {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [CLI, '--model_dir', modelDir, '--host', '127.0.0.1', '--http_port', String(port), '--log_level', 'warn'],
    { stdio: 'ignore' },
  );
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, startupMs: ms(t0), stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server was not ready within 60 s');
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const json = await res.json();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

// ---------------------------------------------------------------- requests

function rows(count: number, seed: number): number[][] {
  let s = seed;
  const next = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 4 - 2;
  return Array.from({ length: count }, () => Array.from({ length: FEATURES }, () => Math.fround(next())));
}

function inferBody(batch: number[][]) {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [batch.length, FEATURES], data: batch }] };
}

/** P(class 1) per row from either form: output-0 (native) or probabilities[:, 1] (export). */
async function positive(url: string, model: string, batch: number[][]): Promise<number[]> {
  const out = (await post(`${url}/v2/models/${model}/infer`, inferBody(batch))).outputs;
  const proba = out.find((o: { name: string }) => o.name === 'probabilities');
  return proba ? proba.data.filter((_: number, i: number) => i % 2 === 1) : out[0].data;
}

interface Throughput {
  reqPerSec: number;
  rowsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

function drive(url: string, model: string, batch: number, connections: number, seconds: number): Promise<Throughput> {
  const requests = Array.from({ length: 16 }, (_, i) => ({
    method: 'POST' as const,
    path: `/v2/models/${model}/infer`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(inferBody(rows(batch, 1000 + i))),
  }));
  const latencies: number[] = [];
  return new Promise((ok, fail) => {
    const instance = autocannon({ url, connections, duration: seconds, pipelining: 1, requests }, (error, r) => {
      if (error) return fail(error);
      const sorted = latencies.sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
      const perSec = latencies.length / r.duration;
      ok({ reqPerSec: perSec, rowsPerSec: perSec * batch, p50: at(0.5), p99: at(0.99), errors: r.errors + r.timeouts + r.non2xx });
    });
    // autocannon's own summary rounds latencies to whole milliseconds
    instance.on('response', (_c: unknown, status: number, _b: number, time: number) => {
      if (status === 200) latencies.push(time);
    });
  });
}

// ---------------------------------------------------------------- load time

/** Reload through the repository API: a new worker thread reads the file and opens a session. */
async function reloadMs(url: string, model: string, times: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = process.hrtime.bigint();
    await post(`${url}/v2/repository/models/${model}/load`, {});
    out.push(ms(t0));
  }
  return out;
}

interface Breakdown {
  parse: number;
  convert: number;
  encode: number;
  session: number;
  onnxBytes: number;
}

/** The native load's steps in this process, medians of `times`. */
async function breakdown(path: string, times: number): Promise<Breakdown> {
  const steps: Breakdown[] = [];
  for (let i = 0; i < times; i++) {
    let t = process.hrtime.bigint();
    const document = parseXgboostFile(new Uint8Array(readFileSync(path)), path);
    const parse = ms(t);
    t = process.hrtime.bigint();
    const model = convertXgboost(document, { useBestIteration: false });
    const convert = ms(t);
    t = process.hrtime.bigint();
    const bytes = treeEnsembleToOnnx(model.ensemble);
    const encode = ms(t);
    t = process.hrtime.bigint();
    const session = await createSession(bytes, {
      intraOpThreads: 1,
      interOpThreads: 1,
      executionProvider: 'cpu' as const,
      deviceId: 0,
      parameters: {},
    });
    const sessionMs = ms(t);
    await session.release();
    steps.push({ parse, convert, encode, session: sessionMs, onnxBytes: bytes.byteLength });
  }
  const pick = (k: keyof Breakdown) => median(steps.map((s) => s[k]));
  return {
    parse: pick('parse'),
    convert: pick('convert'),
    encode: pick('encode'),
    session: pick('session'),
    onnxBytes: steps[0]!.onnxBytes,
  };
}

// ---------------------------------------------------------------- in-process

/**
 * session.run p50 of the converted graph and of the export, interleaved in rounds so that
 * other load on the machine falls on both alike. Threads as the server's default (the CPUs).
 */
async function sessionRuns(spec: SynthSpec, json: string, exported: Uint8Array, batch: number): Promise<{ native: number; onnx: number }> {
  const options = { intraOpThreads: cpuLimit(), interOpThreads: 1, executionProvider: 'cpu' as const, deviceId: 0, parameters: {} };
  const converted = treeEnsembleToOnnx(convertXgboost(JSON.parse(json), { useBestIteration: false }).ensemble);
  const sessions = { native: await createSession(converted, options), onnx: await createSession(exported, options) };
  const input = new ort.Tensor('float32', Float32Array.from(rows(batch, 99).flat()), [batch, spec.features]);
  const samples: Record<'native' | 'onnx', number[]> = { native: [], onnx: [] };
  for (let round = 0; round < 4; round++) {
    for (const kind of ['native', 'onnx'] as const) {
      for (let i = 0; i < 50; i++) await sessions[kind].run({ input });
      for (let i = 0; i < 250; i++) {
        const t0 = process.hrtime.bigint();
        await sessions[kind].run({ input });
        samples[kind].push(ms(t0));
      }
    }
  }
  await Promise.all(Object.values(sessions).map((s) => s.release()));
  return { native: median(samples.native), onnx: median(samples.onnx) };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(os.tmpdir(), 'tsserve-bench-'));
  const sizes: Record<string, { json: number; onnx: number }> = {};
  for (const trees of SIZES) {
    const spec: SynthSpec = { trees, depth: 6, features: FEATURES, seed: 7 + trees };
    const synth = synthTrees(spec);
    const json = xgboostJson(spec, synth);
    const onnx = exportedOnnx(spec, synth);
    mkdirSync(join(dir, `native_${trees}`));
    mkdirSync(join(dir, `onnx_${trees}`));
    writeFileSync(join(dir, `native_${trees}`, 'model.json'), json);
    writeFileSync(join(dir, `onnx_${trees}`, 'model.onnx'), onnx);
    sizes[trees] = { json: json.length, onnx: onnx.byteLength };
  }
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  const server = await startServer(dir);
  try {
    const check = rows(64, 42);
    for (const trees of SIZES) {
      const a = await positive(server.url, `native_${trees}`, check);
      const b = await positive(server.url, `onnx_${trees}`, check);
      const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
      if (!(worst < 1e-5)) throw new Error(`native and exported ${trees}-tree models disagree by ${worst}`);
    }
    log('# tsserve predictive runtimes benchmark');
    log('');
    log(`- date: ${new Date().toISOString()}`);
    log(
      `- command: \`node dist/bench/predictive.js${opts.quick ? ' --quick' : ''}\` (${opts.duration} s per load point after ${opts.warmup} s warmup; ${opts.reloads} reloads per model)`,
    );
    log(
      `- node ${process.version}; CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores; load average before run: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    log(
      '- server: `node dist/src/cli.js --model_dir <tmp>` as a child process, `--workers 1`, default threads; client: autocannon, v2 JSON, 16 distinct requests cycled',
    );
    log(
      `- models: synthetic binary:logistic, full trees of depth 6 (127 nodes), ${FEATURES} features (bench/xgboost-synth.ts); "native" is XGBoost 1.7 JSON, converted at load; "ONNX" is the same model as one TreeEnsembleClassifier, as an exporter writes it. Both agree to < 1e-5 on 64 rows (checked first).`,
    );
    log(`- server start with all four models loaded: ${server.startupMs.toFixed(0)} ms`);
    log('');
    log('## Load time');
    log('');
    log('| model | file | bytes | reload p50 ms | reload min ms |');
    log('|---|---|---:|---:|---:|');
    for (const trees of SIZES) {
      for (const kind of ['native', 'onnx']) {
        const times = await reloadMs(server.url, `${kind}_${trees}`, opts.reloads);
        const bytes = kind === 'native' ? sizes[trees]!.json : sizes[trees]!.onnx;
        log(
          `| ${trees} trees | ${kind === 'native' ? 'model.json (native)' : 'model.onnx (export)'} | ${bytes.toLocaleString('en')} | ${median(times).toFixed(0)} | ${Math.min(...times).toFixed(0)} |`,
        );
      }
    }
    log('');
    log(
      'Reload = `POST /v2/repository/models/<m>/load`: a new worker thread starts, imports the runtime, loads the file and opens the session; the old version is then unloaded.',
    );
    log('');
    log('Native load steps in-process (median):');
    log('');
    log('| model | read + JSON.parse ms | convert ms | write ONNX ms | onnxruntime session ms | ONNX bytes |');
    log('|---|---:|---:|---:|---:|---:|');
    for (const trees of SIZES) {
      const b = await breakdown(join(dir, `native_${trees}`, 'model.json'), opts.reloads);
      log(
        `| ${trees} trees | ${b.parse.toFixed(1)} | ${b.convert.toFixed(1)} | ${b.encode.toFixed(1)} | ${b.session.toFixed(1)} | ${b.onnxBytes.toLocaleString('en')} |`,
      );
    }
    log('');
    log('## onnxruntime alone (in-process `session.run`, no HTTP)');
    log('');
    log(
      `The converted graph (TreeEnsembleRegressor + the sigmoid in TypeScript, not timed here) beside the export (TreeEnsembleClassifier with LOGISTIC); ${cpuLimit()} intra-op threads, p50 of 1000 runs interleaved in 4 rounds.`,
    );
    log('');
    log('| model | batch | native (converted) p50 ms | ONNX export p50 ms |');
    log('|---|---:|---:|---:|');
    for (const trees of SIZES) {
      const spec: SynthSpec = { trees, depth: 6, features: FEATURES, seed: 7 + trees };
      const synth = synthTrees(spec);
      for (const batch of [1, 64]) {
        const r = await sessionRuns(spec, xgboostJson(spec, synth), exportedOnnx(spec, synth), batch);
        log(`| ${trees} trees | ${batch} | ${r.native.toFixed(3)} | ${r.onnx.toFixed(3)} |`);
      }
    }
    log('');
    log('## Throughput over HTTP');
    log('');
    log('| model | file | batch | connections | req/s | rows/s | p50 ms | p99 ms | errors |');
    log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const trees of SIZES) {
      for (const batch of [1, 64]) {
        for (const connections of [1, 8]) {
          for (const kind of ['native', 'onnx']) {
            const model = `${kind}_${trees}`;
            await drive(server.url, model, batch, connections, opts.warmup);
            const t = await drive(server.url, model, batch, connections, opts.duration);
            log(
              `| ${trees} trees | ${kind} | ${batch} | ${connections} | ${t.reqPerSec.toFixed(0)} | ${t.rowsPerSec.toFixed(0)} | ${t.p50.toFixed(2)} | ${t.p99.toFixed(2)} | ${t.errors} |`,
            );
          }
        }
      }
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${lines.join('\n')}\n`);
  process.stdout.write(`\nwritten to ${relative(ROOT, opts.out)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
