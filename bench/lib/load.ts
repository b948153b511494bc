/** Load generators: autocannon for REST, bench/grpc-load.ts (a process of its own) for gRPC. */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { runJsonChild } from './child-server.js';
import { type LatencyStats, stats } from './stats.js';
import type { BinaryRequest } from '../payload.js';

export type LoadRequest = BinaryRequest;

export interface LoadResult extends LatencyStats {
  errors: number;
  non2xx: number;
  bytesPerSecond: number;
}

/** user + system CPU seconds of a process so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** `seconds` of load, or with `limit.amount` that many requests (for slow models); `limit.timeout` in seconds (autocannon's default 10). */
export function drive(
  url: string,
  path: string,
  requests: LoadRequest[],
  connections: number,
  seconds: number,
  limit: { amount?: number; timeout?: number } = {},
): Promise<LoadResult> {
  return new Promise((resolveRun, reject) => {
    const latencies: number[] = [];
    let ok = 0;
    let non2xx = 0;
    const started = process.hrtime.bigint();
    let lastAnswer = started;
    const instance = autocannon(
      {
        url,
        connections,
        ...(limit.amount ? { amount: limit.amount } : { duration: seconds }),
        ...(limit.timeout ? { timeout: limit.timeout } : {}),
        pipelining: 1,
        // One prebuilt request per input row; autocannon cycles through them per connection.
        requests: requests.map((r) => ({ method: 'POST' as const, path, headers: r.headers, body: r.body })),
      },
      (error, result) => {
        if (error) return reject(error);
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        // With `amount`, autocannon only notices it is done at its next one-second tick: time to the last answer instead.
        const took = limit.amount ? Number(lastAnswer - started) / 1e9 || elapsed : result.duration || elapsed;
        const s = stats(latencies, took);
        resolveRun({
          ...s,
          perSecond: ok / took,
          errors: result.errors + result.timeouts,
          non2xx,
          bytesPerSecond: result.throughput.average,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      lastAnswer = process.hrtime.bigint();
      if (status >= 200 && status < 300) {
        ok++;
        latencies.push(responseTime);
      } else {
        non2xx++;
      }
    });
  });
}

export /** The spec bench/grpc-load.ts takes: batch-1 rows to cycle through, or the 4 MiB tensor. */
interface GrpcLoadSpec {
  model: string;
  input: string;
  rows?: number[][];
  big?: boolean;
  stream?: boolean;
  shape?: number[];
}

/** CONCURRENCY ModelInfer calls kept in flight by bench/grpc-load.ts, a process of its own. */
export async function grpcLoad(
  address: string,
  spec: GrpcLoadSpec,
  concurrency: number,
  opts: { warmup: number; duration: number },
): Promise<LoadResult> {
  const args = [address, JSON.stringify(spec), String(concurrency), String(opts.warmup), String(opts.duration)];
  const { latenciesMs, seconds, errors } = await runJsonChild<{ latenciesMs: number[]; seconds: number; errors: number }>(
    'grpc-load.js',
    args,
  );
  return { ...stats(latenciesMs, seconds), errors, non2xx: 0, bytesPerSecond: NaN };
}
