#!/usr/bin/env node
/**
 * The container's HEALTHCHECK: GET /v2/health/live on the port the running server was started
 * with. The port can come from a flag or an environment variable, so this reads the server's own
 * command line and environment from /proc and resolves them with the server's parser; a
 * healthcheck that assumed 8080 would report a healthy server on another port as unhealthy.
 * Exits 0 when live, 1 otherwise (Docker's contract).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { parseArgs, type ServerOptions } from './config/cli-args.js';

const CLI_SCRIPT = /(^|\/)dist\/src\/cli\.js$/;
const TIMEOUT_MS = 4000;

/** A /proc file of NUL-separated strings, or undefined when it cannot be read (gone, not ours). */
function readNulList(path: string): string[] | undefined {
  try {
    return readFileSync(path, 'latin1')
      .split('\0')
      .filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

/** The options of the tsserve process in this container; our own environment if none is found. */
function serverOptions(): ServerOptions {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    const argv = readNulList(`/proc/${pid}/cmdline`);
    if (!argv || !CLI_SCRIPT.test(argv[1] ?? '')) continue;
    const environ = readNulList(`/proc/${pid}/environ`) ?? [];
    const env = Object.fromEntries(environ.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    return parseArgs(argv.slice(2), env).options;
  }
  return parseArgs([], process.env).options;
}

function probeHost(bound: string): string {
  if (bound === '0.0.0.0' || bound === '') return '127.0.0.1';
  if (bound === '::') return '[::1]';
  return bound.includes(':') ? `[${bound}]` : bound;
}

/**
 * The status of a GET over HTTPS. The server's own certificate is not checked: the probe talks
 * to this container's loopback, and a self-signed certificate (KServe's default) would fail.
 */
function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function main(): Promise<number> {
  const options = serverOptions();
  const scheme = options.ssl_certfile ? 'https' : 'http';
  const url = `${scheme}://${probeHost(options.host)}:${options.http_port}/v2/health/live`;
  try {
    const status = scheme === 'https' ? await httpsStatus(url) : (await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })).status;
    if (status >= 200 && status < 300) return 0;
    process.stderr.write(`healthcheck: ${url} answered ${status}\n`);
  } catch (error) {
    process.stderr.write(`healthcheck: ${url}: ${(error as Error).message}\n`);
  }
  return 1;
}

process.exitCode = await main();
