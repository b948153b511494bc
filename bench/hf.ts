/**
 * The Hugging Face benchmark: tsserve (a child process) against transformers.js in this
 * process, on the same committed tiny models, in the same run.
 *
 *   npx tsc -p . && node dist/bench/hf.js [--duration S] [--tokens N] [--out FILE]
 *
 * 1. Embeddings (tiny-bert): POST /openai/v1/embeddings, one text per request, 16 connections
 *    (autocannon), against the feature-extraction pipeline in-process, one text per call,
 *    1 and 16 calls in flight.
 * 2. Greedy generation (tiny-gpt2, decoder-only; tiny-t5, encoder-decoder): tokens per second
 *    over POST /openai/v1/completions (whole and streamed), one request at a time, against
 *    model.generate() in-process.
 * Both sides use the same ONNX threads per session: the server's defaults give each model
 * min(2, CPUs) workers with the CPUs shared out among them (1 thread each on 2 CPUs), and the
 * in-process session gets as many threads as one of those workers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { resultsFile } from './lib/results-dir.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODELS = join(ROOT, 'test', 'hf-models');
const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const DURATION = arg('duration', 5);
const TOKENS = arg('tokens', 256);
const outIndex = argv.indexOf('--out');
const OUT = outIndex >= 0 ? argv[outIndex + 1]! : resultsFile('hf.md');
const TEXTS = ['hello world', 'the movie was very good!', 'i hate this terrible film.', 'the cat sat on the mat, and it was great.'];
const CPUS = cpuLimit();
/** Intra-op threads of one server worker under the defaults (--workers 0, --nthread 0). */
const THREADS = Math.max(1, Math.floor(CPUS / Math.min(2, CPUS)));

/** The generation models: a decoder-only one, and an encoder-decoder one whose output starts from its own start token. */
const GENERATORS = {
  'tiny-gpt2': { prompt: 'hello world', load: AutoModelForCausalLM },
  'tiny-t5': { prompt: 'translate english to german: hello world', load: AutoModelForSeq2SeqLM },
} as const;
type Generator = keyof typeof GENERATORS;

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const args = [
    '--model_dir',
    MODELS,
    '--host',
    '127.0.0.1',
    '--http_port',
    String(port),
    '--grpc_port',
    String(await freePort()),
    '--log_level',
    'warn',
  ];
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli.js'), ...args], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  // Per model: test/hf-models also holds a negative fixture that never loads, so the server as a
  // whole is never ready (strict readiness).
  const ready = async (model: string) => (await fetch(`${url}/v2/models/${model}/ready`)).ok;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await Promise.all(['tiny-bert', ...Object.keys(GENERATORS)].map(ready))).every(Boolean)) return { url, child };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill();
  throw new Error('tsserve did not become ready');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Row {
  what: string;
  throughput: string;
  p50: string;
  p99: string;
}

async function httpEmbeddings(url: string): Promise<Row> {
  const requests = TEXTS.map((input) => ({
    method: 'POST' as const,
    path: '/openai/v1/embeddings',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny-bert', input }),
  }));
  await new Promise((r) => autocannon({ url, connections: 16, duration: 1, requests }, r)); // warm-up
  const result = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon({ url, connections: 16, duration: DURATION, requests }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  if (result.non2xx) throw new Error(`${result.non2xx} embedding requests failed`);
  return {
    what: 'HTTP /openai/v1/embeddings, 1 text per request, 16 connections',
    throughput: `${(result.requests.total / DURATION).toFixed(0)} texts/s`,
    p50: `${result.latency.p50.toFixed(2)} ms`,
    p99: `${result.latency.p99.toFixed(2)} ms`,
  };
}

async function inProcessEmbeddings(inFlight: number): Promise<Row> {
  const fe = await pipeline('feature-extraction', 'tiny-bert', {
    session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 },
  } as never);
  const call = (i: number) => fe(TEXTS[i % TEXTS.length]!, { pooling: 'mean', normalize: true });
  for (let i = 0; i < 50; i++) await call(i);
  const latencies: number[] = [];
  const end = Date.now() + DURATION * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await call(n++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  await fe.dispose();
  return {
    what: `in-process feature-extraction pipeline, 1 text per call, ${inFlight} in flight`,
    throughput: `${(latencies.length / DURATION).toFixed(0)} texts/s`,
    p50: `${percentile(latencies, 50).toFixed(2)} ms`,
    p99: `${percentile(latencies, 99).toFixed(2)} ms`,
  };
}

async function timedRuns(label: string, run: () => Promise<number>): Promise<Row> {
  await run(); // warm-up
  const times: number[] = [];
  let tokens = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION * 1000) {
    const t0 = performance.now();
    tokens += await run();
    times.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  times.sort((a, b) => a - b);
  return {
    what: label,
    throughput: `${(tokens / seconds).toFixed(0)} tokens/s`,
    p50: `${percentile(times, 50).toFixed(1)} ms`,
    p99: `${percentile(times, 99).toFixed(1)} ms`,
  };
}

async function httpGeneration(url: string, model: Generator, stream: boolean): Promise<Row> {
  const body = JSON.stringify({
    model,
    prompt: GENERATORS[model].prompt,
    max_tokens: TOKENS,
    temperature: 0,
    stream,
    stream_options: stream ? { include_usage: true } : undefined,
  });
  return timedRuns(
    `${model}: HTTP /openai/v1/completions${stream ? ' (stream: SSE)' : ''}, greedy, ${TOKENS} tokens per request`,
    async () => {
      const res = await fetch(`${url}/openai/v1/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      if (!res.ok) throw new Error(text);
      const json = stream
        ? JSON.parse(
            text
              .split('\n\n')
              .filter((b) => b.startsWith('data: {'))
              .at(-1)!
              .slice(6),
          )
        : JSON.parse(text);
      return json.usage.completion_tokens as number;
    },
  );
}

async function inProcessGeneration(name: Generator): Promise<Row> {
  const { prompt, load } = GENERATORS[name];
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await load.from_pretrained(name, { session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 } } as never);
  const inputs = tokenizer(prompt);
  // generate() returns the prompt (decoder-only) or the decoder start token (encoder-decoder) first.
  const lead = name === 'tiny-t5' ? 1 : (inputs.input_ids as { dims: number[] }).dims[1]!;
  const row = await timedRuns(`${name}: in-process model.generate(), greedy, ${TOKENS} tokens per call`, async () => {
    const out = (await model.generate({ ...inputs, max_new_tokens: TOKENS, do_sample: false } as never)) as { dims: number[] };
    return out.dims[1]! - lead;
  });
  await model.dispose();
  return row;
}

async function main(): Promise<void> {
  env.allowRemoteModels = false;
  env.localModelPath = `${MODELS}/`;
  const { url, child } = await startServer();
  const rows: Row[] = [];
  try {
    rows.push(await httpEmbeddings(url));
    rows.push(await inProcessEmbeddings(1));
    rows.push(await inProcessEmbeddings(16));
    for (const model of Object.keys(GENERATORS) as Generator[]) {
      rows.push(await httpGeneration(url, model, false));
      rows.push(await httpGeneration(url, model, true));
      rows.push(await inProcessGeneration(model));
    }
  } finally {
    child.kill('SIGTERM');
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Hugging Face runtime benchmark',
    '',
    `${new Date().toISOString()}, Node ${process.version}, ${cpu}, ${os.cpus().length} cores (CPU limit ${CPUS}; ${THREADS} intra-op thread(s) per session on both sides), load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.`,
    `Command: \`node dist/bench/hf.js ${argv.join(' ')}\` (${DURATION} s per point; the server and this process share the cores).`,
    '',
    '| what | throughput | p50 | p99 |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.what} | ${r.throughput} | ${r.p50} | ${r.p99} |`),
    '',
    'Latencies are per request (embeddings) or per whole generation (completions).',
  ];
  writeFileSync(OUT, `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
