/**
 * Where a batch-1 request's server CPU goes: tsserve as a child process under
 * `node --cpu-prof` (every JavaScript thread writes a profile: the main thread and each model
 * worker), loaded by autocannon (REST JSON) or bench/grpc-load.ts (gRPC unary), then each
 * profile's samples are put into the request path's stages (parse, validate, batcher, worker
 * hand-off, onnxruntime, encode, metrics, logging, transport, GC) by the innermost frame on
 * the stack that belongs to one. Native threads that run no JavaScript (onnxruntime's
 * intra-op pool, libuv, V8's GC helpers) come from /proc/<pid>/task, by thread name.
 *
 *   node dist/bench/profile.js [--protocol json|grpc|both] [--concurrency C] [--duration S]
 *                              [--model_dir DIR] [--model NAME] [--keep DIR]
 *                              [--no-prof] [--cli dist/src/cli.js]
 *
 * Prints a markdown table per protocol: % of the server process's CPU and us per request.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, ROOT, freePort, spawnServer, tsserveArgs } from './lib/child-server.js';
import { cpuSeconds, drive, grpcLoad } from './lib/load.js';

interface Options {
  protocols: ('json' | 'grpc')[];
  concurrency: number;
  duration: number;
  modelDir: string;
  model: string;
  keep?: string;
  /** Without the profiler: server CPU per request only (for before/after comparisons). */
  noProf: boolean;
  /** The server's entry point (default dist/src/cli.js), e.g. an older build to compare with. */
  cli: string;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const protocol = get('protocol') ?? 'both';
  if (!['json', 'grpc', 'both'].includes(protocol)) throw new Error('--protocol expects json, grpc or both');
  return {
    protocols: protocol === 'both' ? ['json', 'grpc'] : [protocol as 'json' | 'grpc'],
    concurrency: Number(get('concurrency') ?? 8),
    duration: Number(get('duration') ?? 10),
    modelDir: resolve(ROOT, get('model_dir') ?? 'models'),
    model: get('model') ?? 'classifier',
    keep: get('keep'),
    noProf: argv.includes('--no-prof'),
    cli: resolve(ROOT, get('cli') ?? CLI),
  };
}

// ---------------------------------------------------------------- profile reading

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/**
 * Stage rules, tried on each frame from the innermost outwards; the first frame that matches
 * names the sample's stage. Order matters only within one frame.
 */
const RULES: [stage: string, test: (url: string, fn: string) => boolean][] = [
  ['GC', (_u, fn) => fn === '(garbage collector)'],
  ['logging', (u) => /\/(pino|pino-std-serializers|sonic-boom|thread-stream)\/|\/src\/log\.js/.test(u)],
  ['metrics', (u) => /\/prom-client\/|\/src\/metrics\/|\/http\/observability\.js/.test(u)],
  ['validate', (u) => /\/src\/core\/validate\.js/.test(u)],
  [
    'encode',
    (u, fn) =>
      /\/http\/v2-response\.js|\/core\/raw-tensor\.js|\/grpc\/(infer-codec|owned-messages|typed-contents)\.js/.test(u) ||
      (/\/http\/json-tensor\.js/.test(u) && /encode|join|outputStrings/.test(fn)),
  ],
  [
    'parse',
    (u) =>
      /\/http\/(v2-request|json-tensor|body)\.js|\/grpc\/(request-decoding|messages|parameters)\.js|\/core\/(tensor|tensor-header|cast|float16)\.js/.test(
        u,
      ),
  ],
  ['batcher', (u) => /\/src\/scheduler\//.test(u)],
  ['onnxruntime', (u) => /onnxruntime|\/runtimes\//.test(u)],
  ['worker hand-off', (u) => /\/piscina\/|\/src\/pool\/|node:internal\/worker|node:worker_threads|\/core\/transfer\.js/.test(u)],
  ['model repository', (u) => /\/src\/repository\/|\/core\/(statistics|inference)\.js/.test(u)],
  ['protobuf', (u) => /\/protobufjs\/|\/@protobufjs\//.test(u)],
  ['gRPC transport (grpc-js, http2)', (u) => /\/@grpc\/|node:internal\/http2|node:http2/.test(u)],
  [
    'HTTP transport (node:http, fastify)',
    (u) =>
      /\/fastify\/|\/find-my-way\/|\/avvio\/|\/light-my-request\/|\/fast-json-stringify\/|\/@fastify\/|node:_http|node:http|\/src\/http\//.test(
        u,
      ),
  ],
  [
    'sockets, streams, timers',
    (u) =>
      /node:net|node:internal\/(stream_base|streams|timers|net)|node:stream|node:events|node:internal\/process\/task_queues|node:internal\/async_hooks/.test(
        u,
      ),
  ],
];

/** Stage times of the samples taken between `from` and `to` (CLOCK_MONOTONIC microseconds, as process.hrtime). */
export function stageTimes(profile: CpuProfile, from: number, to: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const { functionName: fn, url } = node.callFrame;
    let stage: string;
    // piscina's workers block in Atomics.wait between tasks: waiting, not working.
    if (fn === '(idle)' || fn === 'atomicsWaitLoop') stage = '(idle)';
    else if (fn === '(program)') stage = 'native, not attributed (program)';
    else {
      const rule = RULES.find(([, test]) => test(url, fn));
      const up = parent.get(id);
      stage = rule ? rule[0] : up !== undefined ? classify(up) : 'other';
      if (!rule && stage === '(root)') stage = 'other';
    }
    if (fn === '(root)') stage = 'other';
    stageOf.set(id, stage);
    return stage;
  };
  const times = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) return;
    const stage = classify(id);
    times.set(stage, (times.get(stage) ?? 0) + delta);
  });
  return times;
}

/** CPU seconds per thread name of a process, from /proc/PID/task (Linux). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = `${name}#${tid}`;
      out.set(key, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}

// ---------------------------------------------------------------- run

async function profileOne(protocol: 'json' | 'grpc', opts: Options): Promise<string> {
  const dir = opts.keep ? resolve(opts.keep, protocol) : mkdtempSync(join(tmpdir(), 'tsserve-prof-'));
  const port = await freePort();
  const grpcPort = await freePort();
  const server = await spawnServer(
    [
      ...(opts.noProf ? [] : ['--cpu-prof', '--cpu-prof-dir', dir]),
      ...tsserveArgs(opts.modelDir, port, grpcPort, opts.cli),
      '--workers',
      '1',
    ],
    port,
    '/v2/health/ready',
  );
  const pid = server.child.pid!;
  const rows = (JSON.parse(readFileSync(join(opts.modelDir, opts.model, 'cases.json'), 'utf8')) as { inputs: number[][] }).inputs;
  const meta = (await (await fetch(`${server.url}/v2/models/${opts.model}`)).json()) as { inputs: { name: string; datatype: string }[] };
  const input = meta.inputs[0]!;
  const path = `/v2/models/${opts.model}/infer`;
  const jsonReqs = rows.map((r) => ({
    body: Buffer.from(JSON.stringify({ inputs: [{ name: input.name, datatype: input.datatype, shape: [1, r.length], data: r }] })),
    headers: { 'content-type': 'application/json' },
  }));
  const load = () =>
    protocol === 'json'
      ? drive(server.url, path, jsonReqs, opts.concurrency, opts.duration)
      : grpcLoad(`127.0.0.1:${grpcPort}`, { model: opts.model, input: input.name, rows }, opts.concurrency, {
          warmup: 0,
          duration: opts.duration,
        });
  // Warm up (JIT, pools) while the profiler runs too; its samples are a small share.
  await (protocol === 'json'
    ? drive(server.url, path, jsonReqs, opts.concurrency, 2)
    : grpcLoad(`127.0.0.1:${grpcPort}`, { model: opts.model, input: input.name, rows }, opts.concurrency, { warmup: 0, duration: 2 }));
  const threadsBefore = threadCpu(pid);
  const cpuBefore = cpuSeconds(pid);
  const from = Number(process.hrtime.bigint() / 1000n);
  const result = await load();
  const to = Number(process.hrtime.bigint() / 1000n);
  const cpuUsed = cpuSeconds(pid) - cpuBefore;
  const perReq = (seconds: number) => (seconds / result.count) * 1e6;
  const threadsAfter = threadCpu(pid);
  await server.stop();
  if (opts.noProf) {
    rmSync(dir, { recursive: true, force: true });
    return `${protocol} c=${opts.concurrency}: ${Math.round(result.perSecond)} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, server CPU ${perReq(cpuUsed).toFixed(1)} us/req\n`;
  }

  // JS stage times from every thread's profile, for the measured window only.
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const js = new Map<string, number>();
  for (const file of files) {
    for (const [stage, us] of stageTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, from, to)) {
      if (stage !== '(idle)') js.set(stage, (js.get(stage) ?? 0) + us);
    }
  }
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });

  // Threads by name: 'node' is the main thread (and, on Node 20, the worker threads too, which
  // the profiles cover); the others run no JavaScript.
  const perThread = new Map<string, number>();
  for (const [key, after] of threadsAfter) {
    const name = key.split('#')[0]!;
    const used = after - (threadsBefore.get(key) ?? 0);
    perThread.set(name, (perThread.get(name) ?? 0) + used);
  }
  if (process.env.PROFILE_THREADS)
    process.stderr.write(`${JSON.stringify([...threadsAfter].map(([k, v]) => [k, +(v - (threadsBefore.get(k) ?? 0)).toFixed(2)]))}\n`);
  const nativeOnly = [...perThread].filter(([name]) => !/^node$|^tsserve|^MainThread/.test(name) && !/^WorkerThread/.test(name));
  const nativeSeconds = nativeOnly.reduce((n, [, s]) => n + s, 0);
  const jsThreadsSeconds = cpuUsed - nativeSeconds;
  const jsTotal = [...js.values()].reduce((a, b) => a + b, 0);

  const rowsOut: [string, number][] = [...js].map(([stage, us]) => [stage, (us / jsTotal) * jsThreadsSeconds]);
  for (const [name, s] of nativeOnly) if (s > 0) rowsOut.push([`native thread '${name}'`, s]);
  rowsOut.sort((a, b) => b[1] - a[1]);
  const lines = [
    `### ${protocol === 'json' ? 'REST JSON' : 'gRPC unary (raw_input_contents)'}, batch 1, ${opts.model}, c=${opts.concurrency}, ${opts.duration} s`,
    '',
    `${Math.round(result.perSecond).toLocaleString('en-US')} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms; server CPU ${perReq(cpuUsed).toFixed(0)} us/req (${(cpuUsed / result.seconds).toFixed(2)} cores), under --cpu-prof (which adds its own cost).`,
    '',
    '| stage | % of server CPU | us/req |',
    '|---|---:|---:|',
    ...rowsOut.map(([stage, s]) => `| ${stage} | ${((s / cpuUsed) * 100).toFixed(1)} | ${perReq(s).toFixed(1)} |`),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const out: string[] = [];
  for (const p of opts.protocols) out.push(await profileOne(p, opts));
  process.stdout.write(out.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
