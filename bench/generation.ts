/**
 * The generation benchmark (issue 13): tsserve as a child process streaming greedy completions.
 *
 *   npm run bench:generation -- [--duration S] [--tokens N] [--concurrency 1,4,16,64]
 *     [--models tiny-gpt2,gpt2-small] [--off-args "..."] [--on-args "..."]
 *     [--prefix-on-args "..."] [--prefix-off-args "..."] [--ceiling-threads N] [--update-results]
 *
 * 1. Sweep: for each model and each scenario (continuous batching off, then on), closed-loop
 *    clients at concurrency 1, 4, 16 and 64 stream POST /v1/completions for `--duration` seconds:
 *    output tokens/s (usage.completion_tokens of the requests finished), time to first token and
 *    inter-token latency (per request: (last text - first text) / (tokens - 1), since the server
 *    streams text as the detokenizer releases it, which may hold a token back), p50/p99, and the
 *    server's RSS. A scenario is server arguments: `--off-args` (default `--max_num_seqs=1`) and
 *    `--on-args` (default `--max_num_seqs=64`, one slot per client at the highest concurrency).
 *    With continuous batching on, c=16 runs twice: clients started together (they then finish and
 *    come back together), and clients whose first requests are spread over one request's duration.
 *    A scenario whose flags `tsserve --help` does not list is skipped and reported, except the
 *    off scenario, which is today's behaviour without them.
 * 2. Prefix cache (GPT-2-small-shaped model): requests sharing a 512-token system prompt, one at a
 *    time, each with its own question; TTFT with `--prefix-on-args` (default
 *    `--enable_prefix_caching=true`) against `--prefix-off-args` (`--enable_prefix_caching=false`).
 * 3. Ceiling, in this process with no server running: one decoder step with a 24- and a 40-token KV cache in
 *    onnxruntime-node at batch 1 and 16, with `--ceiling-threads` intra-op threads (default the
 *    CPU limit, what one engine per model gets on this machine); fetching every output, as issue
 *    13 states it, and fetching the new K/V columns alone, as the engine steps.
 *
 * Models: test/hf-models/tiny-gpt2 (committed), and a GPT-2-small-shaped decoder (12 layers, 768
 * wide, 12 heads, random weights, tiny-gpt2's 284-token vocabulary) that
 * scripts/fixtures/build_gpt2_sized.py builds with Debian's python3-torch into bench/.cache/ on
 * the first run. Results go to bench/out/ (git-ignored), or with --update-results to
 * bench/results/generation.md and generation-*.svg.
 */
import { resultsDir } from './lib/results-dir.js';
import { spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { CLI, ROOT, type ChildServer, freePort, spawnServer } from './lib/child-server.js';
import { percentile } from './lib/stats.js';
import { newColumnOutput, withNewColumnOutputs } from '../runtimes/huggingface/engine/step-session.js';
import { roomFor } from '../runtimes/huggingface/engine/kv-slots.js';
import { type ChartPoint, renderChart } from './lib/svg-chart.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const words = (value: string | undefined, fallback: string[]) => (value === undefined ? fallback : value.split(/\s+/).filter(Boolean));
const DURATION_S = Number(option('duration') ?? 20);
const MAX_TOKENS = Number(option('tokens') ?? 32);
const CONCURRENCY = (option('concurrency') ?? '1,4,16,64').split(',').map(Number);
const MODEL_NAMES = (option('models') ?? 'tiny-gpt2,gpt2-small').split(',');
const SCENARIOS = [
  { name: 'continuous batching off', args: words(option('off-args'), ['--max_num_seqs=1']), baseline: true },
  { name: 'continuous batching on', args: words(option('on-args'), ['--max_num_seqs=64']), baseline: false },
];
const PREFIX_SCENARIOS = [
  { name: 'prefix cache off', args: words(option('prefix-off-args'), ['--enable_prefix_caching=false']), baseline: true },
  { name: 'prefix cache on', args: words(option('prefix-on-args'), ['--enable_prefix_caching=true']), baseline: false },
];
/**
 * Closed-loop clients that start together finish together: each of their requests arrives with
 * the other 15, and its first token waits for their prompts too. Clients whose first requests
 * are spread over one request's duration keep apart, as independent users' requests do. The
 * sweep measures c=16 both ways.
 */
const STAGGERED_C = 16;
const STAGGERED = 'staggered start';
const CPUS = cpuLimit();
const CEILING_THREADS = Number(option('ceiling-threads') ?? CPUS);
const OUT_DIR = resultsDir(argv);
const SYSTEM_TOKENS = 512;
const PROMPT = 'the cat sat on the mat and';

interface BenchModel {
  name: string;
  dir: string;
  config: { n_layer: number; n_head: number; n_embd: number; n_positions: number };
}

/** The GPT-2-small-shaped model, built once into the git-ignored cache. */
function gpt2Small(): string {
  const dir = join(ROOT, 'bench', '.cache', 'gpt2-small-random');
  if (existsSync(join(dir, 'config.json'))) return dir;
  console.error(`building ${dir} with /usr/bin/python3 (python3-torch), about 2 minutes`);
  const built = spawnSync('/usr/bin/python3', ['build_gpt2_sized.py', '--out', dir], {
    cwd: join(ROOT, 'scripts', 'fixtures'),
    stdio: 'inherit',
  });
  if (built.status !== 0)
    throw new Error('build_gpt2_sized.py failed: is python3-torch installed (apt-get install python3-torch python3-onnx)?');
  return dir;
}

function loadModel(name: string): BenchModel {
  const dir = name === 'gpt2-small' ? gpt2Small() : join(ROOT, 'test', 'hf-models', name);
  return { name, dir, config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) };
}

/** KV-cache bytes of one token: layers x (key + value) x width x float32. */
const kvBytesPerToken = (m: BenchModel) => m.config.n_layer * 2 * m.config.n_embd * 4;

let helpText: string | undefined;
/** The flags of `args` that this build of tsserve does not know. */
function unknownFlags(args: string[]): string[] {
  helpText ??= spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  const known = new Set([...helpText.matchAll(/^ {2}--(\w+) </gm)].map((m) => m[1]!));
  return args.filter((a) => a.startsWith('--') && !known.has(a.slice(2).split('=')[0]!.replace(/-/g, '_')));
}

async function startTsserve(model: BenchModel, extra: string[]): Promise<ChildServer> {
  const port = await freePort();
  const args = [
    CLI,
    '--model_dir',
    model.dir,
    '--model_name',
    'm',
    '--host',
    '127.0.0.1',
    '--http_port',
    String(port),
    '--enable_grpc',
    'false',
    '--log_level',
    'warn',
    ...extra,
  ];
  // Loading 345 MB of weights into each worker takes a while on a busy machine.
  return spawnServer(args, port, '/health', 300_000);
}

/** Resident memory of a process in bytes (Linux), sampled while load runs. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface StreamTiming {
  ttftMs: number;
  /** Mean time per output token after the first; NaN for a one-token answer. */
  itlMs: number;
  tokens: number;
  promptTokens: number;
  endMs: number;
}

// node:http rather than fetch: a request queued behind 63 others may wait minutes for its
// headers, past fetch's fixed 300 s headers timeout.
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function postStream(url: string, body: string): Promise<import('node:http').IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** One streamed completion: when the first text came, the time per later token, the tokens used. */
async function streamCompletion(url: string, prompt: string, maxTokens: number): Promise<StreamTiming> {
  const start = performance.now();
  const res = await postStream(
    url,
    JSON.stringify({ model: 'm', prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  );
  if (res.statusCode !== 200) {
    let text = '';
    for await (const chunk of res) text += String(chunk);
    throw new Error(`POST /v1/completions answered ${res.statusCode}: ${text}`);
  }
  const times: number[] = [];
  let tokens = 0;
  let promptTokens = 0;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of res) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice(6));
      if (data.usage) ({ completion_tokens: tokens, prompt_tokens: promptTokens } = data.usage);
      if (data.choices?.[0]?.text) times.push(performance.now());
    }
  }
  const itlMs = tokens > 1 && times.length > 1 ? (times.at(-1)! - times[0]!) / (tokens - 1) : NaN;
  return { ttftMs: (times[0] ?? performance.now()) - start, itlMs, tokens, promptTokens, endMs: performance.now() };
}

interface SweepPoint {
  model: string;
  scenario: string;
  c: number;
  requests: number;
  errors: number;
  tokensPerSecond: number;
  ttftP50: number;
  ttftP99: number;
  itlP50: number;
  itlP99: number;
  peakRssMiB: number;
  /** (peak RSS - idle RSS) / c, against the KV cache one sequence needs. */
  rssPerSeqMiB: number;
  kvPerSeqMiB: number;
  /** Mean prompt tokens, from the answers' usage. */
  promptTokens: number;
}

/**
 * `c` clients, each sending its next request when the last one ends, for DURATION_S seconds.
 * They start together, or with their first requests spread evenly over `staggerMs`.
 */
async function loadPoint(
  server: ChildServer,
  model: BenchModel,
  scenario: string,
  c: number,
  idleRss: number,
  staggerMs = 0,
): Promise<SweepPoint> {
  const pid = server.child.pid!;
  let peak = rssBytes(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 100);
  const timings: StreamTiming[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: c }, async (_, client) => {
      await new Promise((resolve) => setTimeout(resolve, (staggerMs * client) / c));
      for (let i = 0; performance.now() < deadline; i++) {
        try {
          timings.push(await streamCompletion(server.url, `${PROMPT} ${client} ${i}`, MAX_TOKENS));
        } catch (error) {
          errors++;
          console.error(`c=${c}: ${(error as Error).message}`);
        }
      }
    }),
  );
  clearInterval(sampler);
  const seconds = (Math.max(...timings.map((t) => t.endMs)) - start) / 1000;
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  const ttft = sorted(timings.map((t) => t.ttftMs));
  const gaps = sorted(timings.map((t) => t.itlMs).filter(Number.isFinite));
  const mib = (b: number) => b / 2 ** 20;
  const promptTokens = timings.reduce((n, t) => n + t.promptTokens, 0) / Math.max(1, timings.length);
  return {
    model: model.name,
    scenario,
    c,
    requests: timings.length,
    errors,
    tokensPerSecond: timings.reduce((n, t) => n + t.tokens, 0) / seconds,
    ttftP50: percentile(ttft, 50),
    ttftP99: percentile(ttft, 99),
    itlP50: percentile(gaps, 50),
    itlP99: percentile(gaps, 99),
    peakRssMiB: mib(peak),
    rssPerSeqMiB: mib(Math.max(0, peak - idleRss) / c),
    kvPerSeqMiB: mib(kvBytesPerToken(model) * (promptTokens + MAX_TOKENS)),
    promptTokens,
  };
}

async function sweep(model: BenchModel, notes: string[]): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for (const scenario of SCENARIOS) {
    const unknown = unknownFlags(scenario.args);
    if (unknown.length && !scenario.baseline) {
      notes.push(`${model.name}, ${scenario.name}: skipped, this tsserve does not know ${unknown.join(' ')}`);
      continue;
    }
    if (unknown.length)
      notes.push(
        `${model.name}, ${scenario.name}: this tsserve does not know ${unknown.join(' ')}, so it ran with its own behaviour (one sequence per worker)`,
      );
    const server = await startTsserve(
      model,
      scenario.args.filter((a) => !unknown.includes(a)),
    );
    try {
      await streamCompletion(server.url, PROMPT, 4); // warm-up: sessions created, first run done
      const idle = rssBytes(server.child.pid!);
      for (const c of CONCURRENCY) {
        const point = await loadPoint(server, model, scenario.name, c, idle);
        console.error(JSON.stringify(point));
        points.push(point);
        if (c === STAGGERED_C && !scenario.baseline) {
          // Spread the clients' first requests over one request's duration at this concurrency.
          const spread = point.ttftP50 + (MAX_TOKENS - 1) * point.itlP50;
          const staggered = await loadPoint(server, model, `${scenario.name}, ${STAGGERED}`, c, idle, spread);
          console.error(JSON.stringify(staggered));
          points.push(staggered);
        }
      }
    } finally {
      await server.stop();
    }
  }
  return points;
}

/** A system prompt of exactly SYSTEM_TOKENS tokens of the model's tokenizer. */
async function systemPrompt(model: BenchModel): Promise<string> {
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(model.dir)}/`;
  const tokenizer = await AutoTokenizer.from_pretrained(basename(model.dir));
  const text = Array.from({ length: 400 }, (_, i) => `rule ${i}: answer briefly and politely.`).join(' ');
  let ids = tokenizer.encode(text).slice(0, SYSTEM_TOKENS);
  let prompt = tokenizer.decode(ids);
  // Decoding and encoding again can merge differently at the cut: trim until it is exact.
  while ((ids = tokenizer.encode(prompt)).length !== SYSTEM_TOKENS && prompt.length > 0) prompt = prompt.slice(0, -1);
  return prompt;
}

interface PrefixPoint {
  scenario: string;
  requests: number;
  ttftP50: number;
  ttftP99: number;
}

async function prefixRun(model: BenchModel, notes: string[]): Promise<PrefixPoint[]> {
  const system = await systemPrompt(model);
  const out: PrefixPoint[] = [];
  for (const scenario of PREFIX_SCENARIOS) {
    const unknown = unknownFlags(scenario.args);
    if (unknown.length && !scenario.baseline) {
      notes.push(`prefix cache, ${scenario.name}: skipped, this tsserve does not know ${unknown.join(' ')}`);
      continue;
    }
    if (unknown.length)
      notes.push(`prefix cache, ${scenario.name}: this tsserve does not know ${unknown.join(' ')}; it has no prefix cache`);
    const server = await startTsserve(
      model,
      scenario.args.filter((a) => !unknown.includes(a)),
    );
    try {
      await streamCompletion(server.url, `${system} question warm-up:`, 1); // fills the cache when there is one
      const ttft: number[] = [];
      const deadline = performance.now() + DURATION_S * 1000;
      for (let i = 0; performance.now() < deadline || ttft.length < 3; i++)
        ttft.push((await streamCompletion(server.url, `${system} question ${i}:`, 4)).ttftMs);
      ttft.sort((a, b) => a - b);
      const point = { scenario: scenario.name, requests: ttft.length, ttftP50: percentile(ttft, 50), ttftP99: percentile(ttft, 99) };
      console.error(JSON.stringify(point));
      out.push(point);
    } finally {
      await server.stop();
    }
  }
  return out;
}

interface CeilingPoint {
  model: string;
  /** What the step fetches: every output, or the logits and new K/V columns as the engine does. */
  fetch: Fetch;
  batch: number;
  /** Tokens in the KV cache the step attends over. */
  past: number;
  stepMs: number;
  tokensPerSecond: number;
}

type Fetch = 'all outputs' | 'new K/V columns';

/**
 * The cache lengths of the ceiling: 24 tokens, as issue 13 states it, and 40, about the mean
 * length over the sweep's requests (a ~21-token prompt and half of 32 generated tokens), since a
 * step's cost grows with the cache it attends over.
 */
const CEILING_PASTS = [24, 40];

/**
 * One decoder step (one new token per sequence over a `past`-token cache), timed in-process: as
 * issue 13 states it (the model's graph, every output fetched), and as the engine steps (the
 * graph extended with new-column outputs, fetching those and the logits, over a past with the
 * engine's free columns).
 */
async function ceiling(model: BenchModel): Promise<CeilingPoint[]> {
  const file = join(model.dir, 'onnx', 'model.onnx');
  const options = { intraOpNumThreads: CEILING_THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
  const layers = model.config.n_layer;
  const names = Array.from({ length: layers }, (_, i) => ['key', 'value'].map((kv) => `past_key_values.${i}.${kv}`)).flat();
  const presents = names.map((n) => n.replace('past_key_values', 'present'));
  const plain = await ort.InferenceSession.create(file, options);
  const extended = await ort.InferenceSession.create(withNewColumnOutputs(readFileSync(file))!, options);
  const columns = ['logits', ...presents.map(newColumnOutput)];
  const out: CeilingPoint[] = [];
  for (const past of CEILING_PASTS) {
    for (const batch of [1, 16]) {
      out.push(await ceilingAt(plain, model, { fetch: 'all outputs', batch, past, room: past, names }));
      out.push(await ceilingAt(extended, model, { fetch: 'new K/V columns', batch, past, room: roomFor(past), names, fetches: columns }));
    }
  }
  await plain.release();
  await extended.release();
  return out;
}

interface CeilingStep {
  fetch: Fetch;
  batch: number;
  past: number;
  /** Columns of the past fed: `past`, or more with the rest masked, as the engine's free columns. */
  room: number;
  names: string[];
  fetches?: string[];
}

async function ceilingAt(session: ort.InferenceSession, model: BenchModel, step: CeilingStep): Promise<CeilingPoint> {
  const { batch, past, room, names } = step;
  const { n_head: heads, n_embd: width } = model.config;
  const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
  const mask = Array.from({ length: batch * (room + 1) }, (_, i) => (i % (room + 1) < past || i % (room + 1) === room ? 1 : 0));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(Array(batch).fill(42), [batch, 1]),
    attention_mask: int64(mask, [batch, room + 1]),
    position_ids: int64(Array(batch).fill(past), [batch, 1]),
  };
  for (const name of names) {
    feeds[name] = new ort.Tensor('float32', new Float32Array(batch * width * room).fill(0.01), [batch, heads, room, width / heads]);
  }
  const run = () => (step.fetches ? session.run(feeds, step.fetches) : session.run(feeds));
  for (let i = 0; i < 3; i++) await run();
  let steps = 0;
  const start = performance.now();
  while (performance.now() - start < 3000 || steps < 5) {
    await run();
    steps++;
  }
  const stepMs = (performance.now() - start) / steps;
  return { model: model.name, fetch: step.fetch, batch, past, stepMs, tokensPerSecond: (batch * 1000) / stepMs };
}

/** The c=16 continuous-batching point's tokens/s as a share of a batch-16 ceiling. */
function shareOf(points: SweepPoint[], c: CeilingPoint): string {
  const point = points.find((p) => p.model === c.model && p.c === 16 && p.scenario === 'continuous batching on');
  return c.batch === 16 && point ? `${((100 * point.tokensPerSecond) / c.tokensPerSecond).toFixed(0)}%` : '';
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** Issue 13's TTFT target: p50 at c=16 against c=1, with continuous batching on, both ways of starting. */
function ttftRatios(points: SweepPoint[]): string[] {
  const on = 'continuous batching on';
  const lines: string[] = [];
  for (const model of new Set(points.map((p) => p.model))) {
    const at = (c: number, scenario: string) => points.find((p) => p.model === model && p.c === c && p.scenario === scenario);
    const solo = at(1, on);
    if (!solo) continue;
    const ratios = [on, `${on}, ${STAGGERED}`]
      .map((scenario) => [scenario, at(STAGGERED_C, scenario)] as const)
      .filter(([, p]) => p)
      .map(
        ([scenario, p]) =>
          `${fmt(p!.ttftP50)} ms = ${fmt(p!.ttftP50 / solo.ttftP50, 2)}x (${scenario === on ? 'clients started together' : STAGGERED})`,
      );
    if (ratios.length)
      lines.push(`TTFT p50 at c=${STAGGERED_C} against c=1 (${fmt(solo.ttftP50)} ms), ${model}: ${ratios.join('; ')}.`, '');
  }
  return lines;
}

function promptTokenRange(points: SweepPoint[]): string {
  const counts = points.map((p) => p.promptTokens).filter((n) => n > 0);
  if (!counts.length) return 'an unknown number of';
  const low = Math.min(...counts).toFixed(1);
  const high = Math.max(...counts).toFixed(1);
  return low === high ? low : `${low}-${high}`;
}

/** The glibc malloc settings the image sets, which the servers and the ceiling share (both inherit this process's environment). */
function mallocSettings(): string {
  const set = ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'].filter((name) => process.env[name]);
  return set.length
    ? `Allocator as in the image: ${set.map((name) => `${name}=${process.env[name]}`).join(', ')}.`
    : "Allocator: glibc defaults (not the image's MALLOC_* settings; `npm run bench:generation` sets them).";
}

function report(points: SweepPoint[], prefix: PrefixPoint[], ceilings: CeilingPoint[], notes: string[]): string {
  const lines = [
    '# Generation benchmark (issue 13)',
    '',
    `\`npm run bench:generation -- ${argv.join(' ')}\` on ${new Date().toISOString().slice(0, 10)}: ${CPUS} CPUs, Node ${process.version}; ` +
      `${DURATION_S} s per point, greedy streamed completions of up to ${MAX_TOKENS} tokens ("${PROMPT} <client> <n>", ${promptTokenRange(points)} prompt tokens by the answers' usage). ` +
      `Load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')} (1, 5, 15 min); timings on a shared machine are noisy. ${mallocSettings()}`,
    '',
    '## Output tokens/s, time to first token and inter-token latency (ms)',
    '',
    '| model | scenario | c | requests (errors) | tokens/s | TTFT p50 | TTFT p99 | ITL p50 | ITL p99 | peak RSS MiB | RSS per sequence MiB | KV cache per sequence MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...points.map(
      (p) =>
        `| ${p.model} | ${p.scenario} | ${p.c} | ${p.requests} (${p.errors}) | ${fmt(p.tokensPerSecond)} | ${fmt(p.ttftP50)} | ${fmt(p.ttftP99)} | ${fmt(p.itlP50)} | ${fmt(p.itlP99)} | ${fmt(p.peakRssMiB, 0)} | ${fmt(p.rssPerSeqMiB, 2)} | ${fmt(p.kvPerSeqMiB, 2)} |`,
    ),
    '',
    ...ttftRatios(points),
    'ITL: per request, (time of the last text - time of the first) / (tokens - 1). RSS per sequence: (peak RSS during the point - RSS idle after warm-up) / c. ' +
      'KV cache per sequence: layers x 2 x width x 4 bytes x (prompt + max_tokens) tokens.',
    '',
    '## Ceiling: one decoder step with its KV cache, in-process onnxruntime-node',
    '',
    `${CEILING_THREADS} intra-op thread(s), 1 inter-op thread, no server running.`,
    '',
    '| model | cached tokens | fetched | batch | step ms | tokens/s | c=16 continuous batching, share of it |',
    '|---|---:|---|---:|---:|---:|---:|',
    ...ceilings.map(
      (c) =>
        `| ${c.model} | ${c.past} | ${c.fetch} | ${c.batch} | ${fmt(c.stepMs, 2)} | ${fmt(c.tokensPerSecond)} | ${shareOf(points, c)} |`,
    ),
    '',
    'All outputs: the step as issue 13 states its ceiling, fetching every present.* output, which onnxruntime-node copies into new JS buffers. ' +
      "New K/V columns: the step as the engine takes it (runtimes/huggingface/engine/step-session.ts), the graph extended with each present output's newest column and those fetched with the logits, over a past with the engine's free columns (masked).",
    '',
  ];
  if (prefix.length) {
    lines.push(
      `## Prefix cache: a shared ${SYSTEM_TOKENS}-token system prompt, one request at a time (gpt2-small)`,
      '',
      '| scenario | requests | TTFT p50 ms | TTFT p99 ms |',
      '|---|---:|---:|---:|',
      ...prefix.map((p) => `| ${p.scenario} | ${p.requests} | ${fmt(p.ttftP50)} | ${fmt(p.ttftP99)} |`),
      '',
    );
  }
  if (notes.length) lines.push('## Notes', '', ...notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const models = MODEL_NAMES.map(loadModel);
  const notes: string[] = [];
  const ceilings: CeilingPoint[] = [];
  for (const model of models) ceilings.push(...(await ceiling(model)));
  console.error(JSON.stringify(ceilings));
  const points: SweepPoint[] = [];
  for (const model of models) points.push(...(await sweep(model, notes)));
  const big = models.find((m) => m.name === 'gpt2-small');
  const prefix = big && !argv.includes('--no-prefix') ? await prefixRun(big, notes) : [];
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'generation.md'), report(points, prefix, ceilings, notes));
  for (const model of models) {
    const chartPoints: ChartPoint[] = points
      .filter((p) => p.model === model.name && !p.scenario.endsWith(STAGGERED))
      .map((p) => ({ kind: p.scenario, c: p.c, rowsPerSecond: p.tokensPerSecond, p50: p.ttftP50, p99: p.ttftP99 }));
    if (chartPoints.length === 0) continue;
    const best = Math.max(
      ...ceilings
        .filter((c) => c.model === model.name && c.past === CEILING_PASTS[0] && c.fetch === 'all outputs')
        .map((c) => c.tokensPerSecond),
    );
    writeFileSync(
      join(OUT_DIR, `generation-${model.name}.svg`),
      renderChart(chartPoints, best, {
        throughput: `${model.name}: output tokens/s`,
        throughputUnit: 'tokens/s',
        latency: 'Time to first token: p50 solid, p99 dashed',
        ceiling: 'in-process decoder step (batch 16)',
      }),
    );
  }
  console.error(`wrote ${join(OUT_DIR, 'generation.md')}`);
}

await main();
