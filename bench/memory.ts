/**
 * Memory: onnxruntime's memory options (CPU arena, memory pattern, weight prepacking) and the
 * instance count, on RSS and throughput, for a small model and the production-size ones; and
 * tsserve's own idle RSS with one small model.
 *
 *   node dist/bench/memory.js [--seconds S] [--models classifier,resnet50,bert] [--update-results]
 *
 * Each onnxruntime configuration runs in a fresh process (bench/memory-probe.ts). The
 * production-size models come from bench/.cache/production (run `npm run bench:production`
 * once, or bench/production/build_models.py). Results go to bench/out/memory.md
 * unless --update-results (bench/results/memory.md).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ROOT, children, freePort, runJsonChild, spawnServer, tsserveArgs } from './lib/child-server.js';
import { drive } from './lib/load.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const SECONDS = Number(flag('seconds', '3'));
const UPDATE = argv.includes('--update-results');
const OUT = join(ROOT, UPDATE ? 'bench/results/memory.md' : 'bench/out/memory.md');
const CACHE = join(ROOT, 'bench/.cache/production');
const FILES: Record<string, string> = {
  classifier: join(ROOT, 'models/classifier/1/model.onnx'),
  resnet50: join(CACHE, 'resnet50.onnx'),
  bert: join(CACHE, 'bert-base.onnx'),
};
const MODELS = flag('models', 'classifier,resnet50,bert')
  .split(',')
  .filter((m) => existsSync(FILES[m] ?? ''));
const log = (msg: string) => process.stderr.write(`[memory ${process.uptime().toFixed(0)}s] ${msg}\n`);

interface Probe {
  beforeMiB: number;
  loadedMiB: number;
  afterRunsMiB: number;
  peakMiB: number;
  rowsPerSecond: number;
}

const DEFAULTS = { sessions: 1, threads: 2, batch: 1, seq: 32, arena: true, memPattern: true, prepacking: true };
const VARIANTS: [string, Partial<typeof DEFAULTS>][] = [
  ['defaults (arena, memory pattern, prepacking on)', {}],
  ['enableCpuMemArena: false', { arena: false }],
  ['enableMemPattern: false', { memPattern: false }],
  ['session.disable_prepacking: 1', { prepacking: false }],
  ['all three off', { arena: false, memPattern: false, prepacking: false }],
  ['2 instances x 1 thread (defaults)', { sessions: 2, threads: 1 }],
  ['1 instance x 2 threads, batch 8', { batch: 8 }],
  ['enableCpuMemArena: false, batch 8', { batch: 8, arena: false }],
];

const mib = (n: number) => n.toFixed(0);

async function probe(model: string, options: typeof DEFAULTS): Promise<Probe> {
  return runJsonChild<Probe>('memory-probe.js', [FILES[model]!, JSON.stringify(options), String(SECONDS)]);
}

/** tsserve's RSS with one small model (the classifier without its config.pbtxt, so default instances). */
async function serverIdle(workers: number): Promise<{ ready: number; afterLoad: number; peak: number }> {
  const dir = join(CACHE, 'idle-repo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'classifier', '1'), { recursive: true });
  symlinkSync(FILES['classifier']!, join(dir, 'classifier', '1', 'model.onnx'));
  const port = await freePort();
  const args = tsserveArgs(dir, port, await freePort());
  if (workers) args.push('--workers', String(workers));
  const server = await spawnServer(args, port, '/v2/health/ready');
  const status = () => readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status())?.[1]) / 1024;
  try {
    const ready = field('VmRSS');
    const rows = (JSON.parse(readFileSync(join(ROOT, 'models/classifier/cases.json'), 'utf8')) as { inputs: number[][] }).inputs;
    const reqs = rows.map((r) => ({
      body: Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, r.length], data: r }] })),
      headers: { 'content-type': 'application/json' },
    }));
    const meta = (await (await fetch(`${server.url}/v2/models/classifier`)).json()) as { inputs: { name: string }[] };
    for (const r of reqs) r.body = Buffer.from(r.body.toString().replace('"input"', JSON.stringify(meta.inputs[0]!.name)));
    await drive(server.url, '/v2/models/classifier/infer', reqs, 4, 2);
    return { ready, afterLoad: field('VmRSS'), peak: field('VmHWM') };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const lines = [
    '# tsserve memory: onnxruntime options, instances, idle RSS',
    '',
    `- date: ${new Date().toISOString()}; command: \`node dist/bench/memory.js ${argv.join(' ')}\`; ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine: rows/s are noisy, RSS is not)`,
    `- each row: a fresh node process (bench/memory-probe.ts) opens the sessions, runs batch-1 (or 8) synthetic inputs back to back for ${SECONDS} s (each instance at once), BERT at sequence length 32`,
    '- RSS in MiB: of the whole process, node itself is about 45 MiB of it (the "before" column)',
    '',
  ];
  for (const model of MODELS) {
    const size = statSync(FILES[model]!).size / 2 ** 20;
    lines.push(
      `## ${model} (${size.toFixed(1)} MiB model file)`,
      '',
      '| configuration | RSS before | after load | after runs | peak | rows/s |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const [label, change] of VARIANTS) {
      log(`${model}: ${label}`);
      const p = await probe(model, { ...DEFAULTS, ...change });
      lines.push(
        `| ${label} | ${mib(p.beforeMiB)} | ${mib(p.loadedMiB)} | ${mib(p.afterRunsMiB)} | ${mib(p.peakMiB)} | ${p.rowsPerSecond.toFixed(1)} |`,
      );
      writeFileSync(OUT + '.partial', lines.join('\n'));
    }
    lines.push('');
  }
  lines.push(
    '## tsserve idle RSS, one small model (models/classifier, no config.pbtxt)',
    '',
    '| instances | RSS when ready | after 2 s of JSON load | peak |',
    '|---|---:|---:|---:|',
  );
  for (const workers of [0, 1]) {
    log(`tsserve idle, --workers ${workers}`);
    const r = await serverIdle(workers);
    lines.push(`| ${workers ? `--workers ${workers}` : 'default'} | ${mib(r.ready)} | ${mib(r.afterLoad)} | ${mib(r.peak)} |`);
  }
  lines.push('');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, lines.join('\n'));
  rmSync(OUT + '.partial', { force: true });
  process.stdout.write(lines.join('\n'));
  log(`wrote ${relative(ROOT, OUT)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`memory bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  for (const c of children) c.kill('SIGKILL');
  process.exitCode = 1;
});
