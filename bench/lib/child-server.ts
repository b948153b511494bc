/**
 * Servers under test as child processes of the bench (so load generator and server never share
 * an event loop), killed when the bench ends, fails or is interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli.js');

export interface ChildServer {
  url: string;
  /** host:port of the gRPC frontend, for tsserve children. */
  grpcAddress?: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/** The command line of a tsserve child on 127.0.0.1: the CLI (another build's, if given), its model dir, its ports, warn-level logs. */
export function tsserveArgs(modelDir: string, port: number, grpcPort: number, cli = CLI): string[] {
  return [
    cli,
    '--model_dir',
    modelDir,
    '--host',
    '127.0.0.1',
    '--http_port',
    String(port),
    '--grpc_port',
    String(grpcPort),
    '--log_level',
    'warn',
  ];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `node ARGS` and waits (60 s unless told) until GET readyPath on 127.0.0.1:port answers 2xx. */
export async function spawnServer(args: string[], port: number, readyPath: string, readyTimeoutMs = 60_000): Promise<ChildServer> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exited = `exit code ${code}, signal ${signal}`;
      children.delete(child);
      r();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exitPromise, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    if (exited === undefined) {
      child.kill('SIGKILL');
      await exitPromise;
    }
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`the server exited before it was ready (${exited}):\n${output}`);
    try {
      const res = await fetch(`${url}${readyPath}`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready within ${readyTimeoutMs / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
  return { url, child, stop };
}

/** Runs `node dist/bench/SCRIPT ARGS` (a load generator of its own) and parses the JSON it prints. */
export function runJsonChild<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/bench', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`${script} exited with code ${code}: ${err.trim()}`));
      resolveRun(JSON.parse(out) as T);
    });
  });
}
