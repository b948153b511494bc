/**
 * h2load (nghttp2's load generator, C; Debian package nghttp2-client) as an equal client for
 * REST and gRPC: the same program drives HTTP/1.1 (REST binary) and HTTP/2 (gRPC unary), so
 * the comparison measures the server rather than two clients of different weight. Optional:
 * bench/run.ts adds these points only when h2load is on the PATH.
 *
 * h2load counts HTTP statuses, and a failed gRPC call is still HTTP 200 (grpc-status travels
 * in the trailers), so the caller checks the server's statistics for failures instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './lib/load.js';
import { stats } from './lib/stats.js';

export interface H2loadRun {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  /** HTTP/1.1 with one request in flight per connection, else HTTP/2. */
  http1: boolean;
  connections: number;
  /** Requests in flight per connection (HTTP/2 streams). */
  streams: number;
  warmup: number;
  seconds: number;
}

export interface H2loadResult {
  latenciesMs: number[];
  /** Answers with a status other than 200 (requests still unanswered when time was up are left out). */
  non200: number;
  seconds: number;
}

export function h2loadVersion(): string | undefined {
  const out = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim().split('\n')[0] : undefined;
}

export function h2load(run: H2loadRun): Promise<H2loadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tsserve-h2load-'));
  const bodyFile = join(dir, 'body');
  const logFile = join(dir, 'log');
  writeFileSync(bodyFile, run.body);
  const args = [
    ...(run.http1 ? ['--h1'] : []),
    '-c',
    String(run.connections),
    '-m',
    String(run.streams),
    '--warm-up-time',
    String(run.warmup),
    '-D',
    String(run.seconds),
    '-d',
    bodyFile,
    '--log-file',
    logFile,
    ...Object.entries(run.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    run.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`h2load exited with code ${code}: ${err.trim()}`);
        // One line per request of the measured period: start (us since epoch), status, duration (us).
        const latenciesMs: number[] = [];
        let non200 = 0;
        for (const line of readFileSync(logFile, 'utf8').split('\n')) {
          if (!line) continue;
          const [, status, us] = line.split('\t');
          if (status === '200') latenciesMs.push(Number(us) / 1000);
          else if (status !== '0') non200++;
        }
        resolve({ latenciesMs, non200, seconds: run.seconds });
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** An h2load run as the other load generators report it. */
export function fromH2load(run: H2loadResult): LoadResult {
  return { ...stats(run.latenciesMs, run.seconds), errors: 0, non2xx: run.non200, bytesPerSecond: NaN };
}
