/**
 * What --enable_latency_logging costs. First the line alone: the server's own logger writes
 * 100,000 latency lines to a file in a child process, timed in CPU (steady even on a shared
 * machine). Then the server under REST load on the classifier with lines off, on for every
 * request (--latency_log_rate 0) and on at the default cap, alternating so drift in the machine's
 * load hits each: requests/s, p50/p99, server CPU per request and log bytes per request.
 *
 *   npx tsc -p . && node dist/bench/latency-logging.js [--quick] [--duration S] [--connections C] [--update-results]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/log.js';
import { CLI, ROOT, freePort, spawnServer } from './lib/child-server.js';
import { cpuSeconds, drive } from './lib/load.js';
import { resultsFile } from './lib/results-dir.js';

const argv = process.argv.slice(2);
const value = (flag: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
};
const quick = argv.includes('--quick');
const DURATION = value('--duration') ?? (quick ? 3 : 10);
const CONNECTIONS = value('--connections') ?? 16;
const ROUNDS = quick ? 1 : 2;

const BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const REQUEST = { headers: { 'content-type': 'application/json' }, body: Buffer.from(BODY) };

const LINES = 100_000;

/** In the child: LINES latency lines through the server's logger to stdout (a file); CPU us per line on stderr. */
function writeLines(): void {
  const logger = createLogger('info');
  const start = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    logger.child({ reqId: '3f0c9a4e-8d2b-4c1e-9a77-5b1d2e6f8a90' }).info(
      {
        model: 'classifier',
        protocol: 'v2',
        status: 200,
        preprocess_ms: 0.123,
        predict_ms: 1.234,
        postprocess_ms: 0.045,
        total_ms: 1.456,
      },
      'inference',
    );
  }
  const used = process.cpuUsage(start);
  process.stderr.write(`${(used.user + used.system) / LINES}\n`);
}

function lineCost(): { cpuUs: number; bytes: number } {
  const dir = mkdtempSync(join(os.tmpdir(), 'tsserve-bench-log-'));
  try {
    const fd = openSync(join(dir, 'log'), 'w');
    const child = spawnSync(process.execPath, [process.argv[1]!, '--line-cost-child'], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    return { cpuUs: Number(child.stderr.trim()), bytes: statSync(join(dir, 'log')).size / LINES };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Run {
  logging: string;
  perSecond: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
  logBytesPerRequest: number;
}

const MODES: Record<string, string[]> = {
  off: ['--enable_latency_logging=false'],
  'every request': ['--enable_latency_logging=true', '--latency_log_rate=0'],
  'default (at most 10 lines/s)': ['--enable_latency_logging=true'],
};

async function run(logging: string): Promise<Run> {
  const port = await freePort();
  const server = await spawnServer(
    [CLI, `--model_dir=${ROOT}/models`, '--host=127.0.0.1', `--http_port=${port}`, '--enable_grpc=false', ...MODES[logging]!],
    port,
    '/v2/health/ready',
  );
  try {
    await drive(server.url, '/v2/models/classifier/infer', [REQUEST], CONNECTIONS, 1); // warm up
    let logBytes = 0;
    server.child.stdout!.on('data', (chunk: Buffer) => (logBytes += chunk.length));
    const cpuBefore = cpuSeconds(server.child.pid);
    const result = await drive(server.url, '/v2/models/classifier/infer', [REQUEST], CONNECTIONS, DURATION);
    const cpu = cpuSeconds(server.child.pid) - cpuBefore;
    const requests = result.perSecond * DURATION;
    return {
      logging,
      perSecond: result.perSecond,
      p50: result.p50,
      p99: result.p99,
      cpuUsPerRequest: (cpu / requests) * 1e6,
      logBytesPerRequest: logBytes / requests,
    };
  } finally {
    await server.stop();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  if (argv.includes('--line-cost-child')) return writeLines();
  const line = lineCost();
  console.error(`[latency-logging] one line: ${line.cpuUs.toFixed(2)} us CPU, ${line.bytes.toFixed(0)} bytes`);
  const runs: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const logging of Object.keys(MODES)) {
      const result = await run(logging);
      console.error(
        `[latency-logging] ${logging}: ${result.perSecond.toFixed(0)} req/s, ${result.cpuUsPerRequest.toFixed(1)} us CPU/request, ${result.logBytesPerRequest.toFixed(0)} log bytes/request`,
      );
      runs.push(result);
    }
  }
  const of = (logging: string, key: keyof Omit<Run, 'logging'>) => mean(runs.filter((x) => x.logging === logging).map((x) => x[key]));
  const row = (logging: string) =>
    `| ${logging} | ${of(logging, 'perSecond').toFixed(0)} | ${of(logging, 'p50').toFixed(2)} | ${of(logging, 'p99').toFixed(2)} | ${of(logging, 'cpuUsPerRequest').toFixed(1)} | ${of(logging, 'logBytesPerRequest').toFixed(0)} |`;
  const lines = [
    '# Latency logging: what one line per request costs',
    '',
    `- date: ${new Date().toISOString()}; node ${process.version}; ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `- command: \`node dist/bench/latency-logging.js${quick ? ' --quick' : ''}\`; classifier, JSON batch-1, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} round(s) of the three modes; the load rows are only comparable within one run`,
    '',
    '| latency logging | req/s | p50 ms | p99 ms | server CPU us/request | log bytes/request |',
    '|---|---:|---:|---:|---:|---:|',
    ...Object.keys(MODES).map(row),
    '',
    `- one line alone (the server's logger, synchronous writes to a file, ${LINES.toLocaleString('en-US')} lines): **${line.cpuUs.toFixed(2)} us of CPU and ${line.bytes.toFixed(0)} bytes**; at 5,600 req/s, a line per request is ${((line.bytes * 5600 * 3600) / 1e9).toFixed(1)} GB an hour and ${((line.cpuUs * 5600) / 1e4).toFixed(1)}% of a core; capped at 10 lines/s it is ${((line.bytes * 10 * 3600) / 1e6).toFixed(1)} MB an hour.`,
  ];
  writeFileSync(resultsFile('latency-logging.md'), `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
