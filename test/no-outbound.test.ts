/**
 * No phone-home: the server and the storage initializer run under strace, which sees every
 * connect/sendto of the process and its threads, native code included (onnxruntime's telemetry
 * resolves its host through glibc, which a JavaScript hook would never see). Any IPv4/IPv6
 * destination but the ones the process was told to use, any name-service socket, and any
 * opening of onnxruntime's telemetry store fails the test.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { repoPath } from './helpers/server.js';

// On CI (CI=true) a missing strace fails the test rather than skipping it.
const hasStrace = spawnSync('strace', ['-V']).status === 0 || process.env.CI === 'true';

/** One system call the trace recorded that reaches outside the process. */
interface Reach {
  call: string;
  family: string;
  address: string;
  line: string;
}

const CALL = /^\d+\s+(connect|sendto|sendmsg)\(\d+, .*?\{sa_family=(AF_INET6?|AF_UNIX)/;

/** The destinations (inet `host:port`, or a unix socket path) of every connect/send in the trace. */
function reaches(trace: string): Reach[] {
  const found: Reach[] = [];
  for (const line of trace.split('\n')) {
    const m = CALL.exec(line);
    if (!m) continue;
    const [, call, family] = m as unknown as [string, string, string];
    const port = /sin6?_port=htons\((\d+)\)/.exec(line)?.[1];
    const host = /inet_addr\("([^"]+)"\)/.exec(line)?.[1] ?? /inet_pton\(AF_INET6, "([^"]+)"/.exec(line)?.[1];
    const path = /sun_path="([^"]*)"/.exec(line)?.[1];
    found.push({ call, family, address: family === 'AF_UNIX' ? (path ?? '?') : `${host}:${port}`, line });
  }
  return found;
}

/** What must never appear: name lookups (DNS or nscd), and onnxruntime's telemetry store. */
function assertNoPhoneHome(trace: string, allowed: string[]): void {
  const outside = reaches(trace).filter((r) =>
    r.family === 'AF_UNIX' ? /nscd|systemd-resolve|resolve/.test(r.address) : !allowed.includes(r.address),
  );
  assert.deepEqual(
    outside.map((r) => r.line),
    [],
    `unexpected outbound calls (allowed: ${allowed.join(', ') || 'none'})`,
  );
  const telemetry = trace.split('\n').filter((l) => /open.*Microsoft\/DeveloperTools|onnxruntime\.db/.test(l));
  assert.deepEqual(telemetry, [], "onnxruntime's telemetry store was opened");
}

/** The traced node process: strace's only child. */
async function tracee(strace: ChildProcess): Promise<number> {
  const children = await readFile(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8');
  return Number(children.trim().split(/\s+/)[0]);
}

/**
 * `node ARGS` under strace, its network calls and file opens traced into `traceFile`, with HOME
 * in a temporary folder (a telemetry store written there would not survive, but the trace still
 * sees it opened) and without the telemetry switch, so that what is off is off by default.
 */
function traced(traceFile: string, home: string, args: string[]): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.ORT_DISABLE_TELEMETRY;
  const tracing = ['-f', '-qq', '-o', traceFile, '-e', 'trace=connect,sendto,sendmsg,openat,open'];
  return spawn('strace', [...tracing, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

describe('no outbound connection', { skip: hasStrace ? false : 'strace is not installed (apt-get install strace)' }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tsserve-no-outbound-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('the server loads and runs ONNX models without resolving or connecting anywhere', async () => {
    const traceFile = join(work, 'server.trace');
    const home = join(work, 'home');
    const strace = traced(traceFile, home, [
      repoPath('dist/src/cli.js'),
      `--model_dir=${repoPath('models')}`,
      '--host=127.0.0.1',
      '--http_port=0',
      '--grpc_port=0',
      '--workers=1',
    ]);
    const exited = exitOf(strace);
    const logs: any[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: strace.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line);
        logs.push(entry);
        if (entry.msg === 'tsserve is serving') resolve(entry.httpPort);
      });
      void exited.then((code) => reject(new Error(`tsserve exited with ${code}: ${JSON.stringify(logs)}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    for (const model of ['classifier', 'regressor']) {
      const meta = await (await fetch(`${url}/v2/models/${model}`)).json();
      const input = meta.inputs[0];
      const shape = input.shape.map((d: number) => (d < 0 ? 1 : d));
      const count = shape.reduce((a: number, b: number) => a * b, 1);
      const res = await fetch(`${url}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: input.name, datatype: input.datatype, shape, data: new Array(count).fill(0.5) }] }),
      });
      assert.equal(res.status, 200, `${model}: ${await res.text()}`);
    }
    process.kill(await tracee(strace), 'SIGTERM');
    assert.equal(await exited, 0);
    assertNoPhoneHome(await readFile(traceFile, 'utf8'), []);
    assert.deepEqual(await readdir(home).catch(() => []), [], 'nothing was written under HOME');
  });

  it('the storage initializer connects only to the host of the URI it was given', async () => {
    const model = await readFile(repoPath('models/classifier/1/model.onnx'));
    const files = createServer((_req, res) => res.end(model));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const { port } = files.address() as AddressInfo;
    try {
      const traceFile = join(work, 'storage.trace');
      const strace = traced(traceFile, join(work, 'home-storage'), [
        repoPath('dist/src/storage/cli.js'),
        `http://127.0.0.1:${port}/model.onnx`,
        join(work, 'downloaded'),
      ]);
      assert.equal(await exitOf(strace), 0);
      const trace = await readFile(traceFile, 'utf8');
      // The tracer sees the connection it was asked to make, so an empty list below means something.
      assert.ok(
        reaches(trace).some((r) => r.address === `127.0.0.1:${port}`),
        'the download itself shows in the trace',
      );
      assertNoPhoneHome(trace, [`127.0.0.1:${port}`]);
      assert.deepEqual(await readFile(join(work, 'downloaded', 'model.onnx')), model);
    } finally {
      files.close();
    }
  });
});
