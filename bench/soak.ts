/**
 * A soak test a user can run against the real server for as long as they like:
 *
 *   npm run soak -- --minutes N [--model classifier] [--model_dir models] [--concurrency 4] [--reload_seconds 30]
 *
 * It starts `tsserve` as a child process and keeps mixed traffic on it: REST v2, KServe V1 and
 * gRPC ModelInfer loops (--concurrency each), requests abandoned mid-flight (cancellations),
 * and a reload of the model every --reload_seconds. Every 10 s it prints a progress line;
 * at the end one JSON summary: sent, answered (by status), transport errors, abandoned and the
 * cancellations the server counted, the server's RSS (start, peak, end, sampled every second
 * from /proc), and how long SIGTERM took to stop it. A healthy server answers everything it
 * was sent (503s only while a reload swaps the model), its RSS levels off, and it exits 0.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadDefinitions } from '../src/grpc/proto.js';
import { ROOT, freePort, spawnServer, tsserveArgs } from './lib/child-server.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const minutes = Number(option('minutes', '1'));
const modelDir = join(ROOT, option('model_dir', 'models'));
const model = option('model', 'classifier');
const concurrency = Number(option('concurrency', '4'));
const reloadSeconds = Number(option('reload_seconds', '30'));
if (!(minutes > 0) || !(concurrency > 0) || !(reloadSeconds > 0)) {
  process.stderr.write('usage: npm run soak -- --minutes N [--model M] [--model_dir DIR] [--concurrency C] [--reload_seconds S]\n');
  process.exit(2);
}

const counts = {
  sent: 0,
  answered: 0,
  byStatus: {} as Record<string, number>,
  transportErrors: {} as Record<string, number>,
  abandoned: 0,
  reloads: 0,
  reloadFailures: 0,
};

function answered(protocol: string, status: string | number): void {
  counts.answered++;
  const key = `${protocol}:${status}`;
  counts.byStatus[key] = (counts.byStatus[key] ?? 0) + 1;
}

function transportError(protocol: string, error: unknown): void {
  const code = (error as { cause?: { code?: string }; code?: string }).cause?.code ?? (error as { code?: string }).code ?? String(error);
  const key = `${protocol}:${code}`;
  counts.transportErrors[key] = (counts.transportErrors[key] ?? 0) + 1;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** Rows to send: the model folder's cases.json when it has one, else zeros of the input's shape. */
function rows(input: { shape: number[] }): number[][] {
  try {
    return (JSON.parse(readFileSync(join(modelDir, model, 'cases.json'), 'utf8')) as { inputs: number[][] }).inputs;
  } catch {
    return [new Array<number>(Math.max(1, input.shape.at(-1) ?? 1)).fill(0)];
  }
}

async function main(): Promise<void> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const server = await spawnServer(
    [...tsserveArgs(modelDir, httpPort, grpcPort), ...(process.env.SOAK_SERVER_LOG ? ['--log_level', 'info'] : [])],
    httpPort,
    '/v2/health/ready',
  );
  const pid = server.child.pid!;
  // The server's own log lines, when asked for (SOAK_SERVER_LOG=FILE), to see what it did.
  if (process.env.SOAK_SERVER_LOG) server.child.stdout!.pipe(createWriteStream(process.env.SOAK_SERVER_LOG));
  const url = server.url;
  const meta = (await (await fetch(`${url}/v2/models/${model}`)).json()) as {
    inputs: { name: string; datatype: string; shape: number[] }[];
  };
  const input = meta.inputs[0]!;
  const data = rows(input);
  const v2Body = (row: number[]) =>
    JSON.stringify({ inputs: [{ name: input.name, datatype: input.datatype, shape: [1, row.length], data: row }] });
  const v1Body = (row: number[]) => JSON.stringify({ instances: [row] });
  const loaded = grpc.loadPackageDefinition(loadDefinitions()) as any;
  const client = new loaded.inference.GRPCInferenceService(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());

  const endAt = Date.now() + minutes * 60_000;
  const running = () => Date.now() < endAt;
  let n = 0;
  const nextRow = () => data[n++ % data.length]!;

  const rest = async (path: string, body: () => string, protocol: string) => {
    while (running()) {
      counts.sent++;
      try {
        const res = await fetch(`${url}${path}`, { method: 'POST', body: body(), headers: { 'content-type': 'application/json' } });
        await res.arrayBuffer();
        answered(protocol, res.status);
      } catch (error) {
        transportError(protocol, error);
      }
    }
  };
  const grpcLoop = async () => {
    while (running()) {
      counts.sent++;
      const row = nextRow();
      const request = {
        model_name: model,
        inputs: [{ name: input.name, datatype: input.datatype, shape: [1, row.length], contents: { fp32_contents: row } }],
      };
      await new Promise<void>((resolve) => {
        client.ModelInfer(request, (error: grpc.ServiceError | null) => {
          if (error && error.code === grpc.status.UNAVAILABLE && /connect|ECONN/i.test(error.details))
            transportError('grpc', error.details);
          else answered('grpc', error ? grpc.status[error.code] : 'OK');
          resolve();
        });
      });
    }
  };
  // A client that gives up before the answer: the server drops the work and counts it.
  const abandon = async () => {
    while (running()) {
      const controller = new AbortController();
      const pending = fetch(`${url}/v2/models/${model}/infer`, {
        method: 'POST',
        body: v2Body(nextRow()),
        signal: controller.signal,
      }).catch(() => undefined);
      setImmediate(() => controller.abort());
      await pending;
      counts.abandoned++;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const reload = async () => {
    while (running()) {
      await new Promise((r) => setTimeout(r, Math.min(reloadSeconds * 1000, Math.max(0, endAt - Date.now()))));
      if (!running()) break;
      const res = await fetch(`${url}/v2/repository/models/${model}/load`, { method: 'POST' }).catch(() => undefined);
      counts.reloads++;
      if (!res?.ok) counts.reloadFailures++;
    }
  };

  const rss = { start: rssMb(pid), peak: 0, end: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssMb(pid))), 1000);
  const started = Date.now();
  const progress = setInterval(() => {
    process.stdout.write(
      `${JSON.stringify({ elapsedS: Math.round((Date.now() - started) / 1000), sent: counts.sent, answered: counts.answered, rssMb: rssMb(pid) })}\n`,
    );
  }, 10_000);
  const loops = [
    ...Array.from({ length: concurrency }, () => rest(`/v2/models/${model}/infer`, () => v2Body(nextRow()), 'v2')),
    ...Array.from({ length: concurrency }, () => rest(`/v1/models/${model}:predict`, () => v1Body(nextRow()), 'v1')),
    ...Array.from({ length: concurrency }, grpcLoop),
    abandon(),
    reload(),
  ];
  await Promise.all(loops);
  clearInterval(progress);
  clearInterval(sampler);
  rss.end = rssMb(pid);
  rss.peak = Math.max(rss.peak, rss.end);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const cancelledByServer = [...metrics.matchAll(/^tsserve_requests_cancelled_total\{[^}]*\} (\d+)/gm)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
  client.close();
  const seconds = (Date.now() - started) / 1000;
  const stopping = Date.now();
  const exited = new Promise<number | string | null>((r) => server.child.once('exit', (code, signal) => r(code ?? signal)));
  server.child.kill('SIGTERM');
  const exitCode = await exited;
  process.stdout.write(
    `${JSON.stringify(
      {
        minutes,
        model,
        concurrency,
        reloadSeconds,
        sent: counts.sent,
        answered: counts.answered,
        requestsPerSecond: Math.round(counts.sent / seconds),
        byStatus: counts.byStatus,
        transportErrors: counts.transportErrors,
        abandoned: counts.abandoned,
        cancelledByServer,
        reloads: counts.reloads,
        reloadFailures: counts.reloadFailures,
        rssMb: rss,
        shutdown: { exitCode, ms: Date.now() - stopping },
      },
      null,
      1,
    )}\n`,
  );
  if (exitCode !== 0 || counts.sent !== counts.answered) process.exitCode = 1;
}

void main();
