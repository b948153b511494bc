/**
 * What an operator reads, through the real command: every log line is JSON, a refused request's
 * line says why, latency fields are rounded to the microsecond, refusals made while reading a body
 * (413, a body that cannot be inflated) are logged and counted, `:explain`'s 501 is no
 * error-level stack, the `status` label is an HTTP status on every protocol, and every metric on
 * /metrics is in the README's metrics table (and the table names none that does not exist).
 * The Hugging Face runtime's logs follow --log_level too: transformers.js's console and the
 * onnxruntime sessions it opens itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { GrpcTestClient, assertStatus } from './helpers/grpc-client.js';
import { repoPath } from './helpers/server.js';
import { CLI } from './helpers/cli-process.js';
import { copyHfModel } from './helpers/hf.js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { until } from './helpers/poll.js';
import { freePort } from './helpers/free-port.js';

const ROW = { name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] };

/** Metric names in the first column of the table(s) under the README's "### Metrics" heading. */
async function readmeMetricNames(): Promise<Set<string>> {
  const readme = await readFile(repoPath('README.md'), 'utf8');
  const start = readme.indexOf('\n### Metrics\n');
  assert.ok(start >= 0, 'README has a "### Metrics" section');
  const section = readme
    .slice(start + 1)
    .split(/\n#{2,3} /)[0]!
    .slice(1);
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([a-zA-Z_:][a-zA-Z0-9_:]*)`/g)) names.add(m[1]!);
  }
  return names;
}

/** Metric families on /metrics, less Node's process metrics (prom-client's defaults). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) \S+$/gm)) {
    if (!/^(process_|nodejs_)/.test(m[1]!)) names.add(m[1]!);
  }
  return names;
}

function counterValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('logs and metrics an operator reads', () => {
  let srv: CliServer;
  let stderr = '';
  before(async () => {
    srv = await serveCli([
      `--model_dir=${repoPath('models')}`,
      '--host=127.0.0.1',
      '--http_port=0',
      '--grpc_port=0',
      '--workers=1',
      '--http_max_input_size=4096',
      '--enable_latency_logging=true',
    ]);
    srv.child.stderr!.on('data', (d) => (stderr += d));
  });
  after(async () => {
    srv.child.kill('SIGTERM');
    assert.equal(await srv.exited, 0);
  });

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${srv.url}${path}`, { method: 'POST', headers, body: body as BodyInit });

  /** Waits for a log line matching `test` to arrive (the server writes it after answering). */
  async function logLine(test: (l: any) => boolean): Promise<any> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = srv.logs.find(test);
      if (found) return found;
      assert.ok(Date.now() < deadline, `no such log line in ${JSON.stringify(srv.logs.slice(-5))}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('logs each inference with latencies rounded to the microsecond', async () => {
    const res = await post('/v2/models/classifier/infer', JSON.stringify({ inputs: [ROW] }));
    assert.equal(res.status, 200);
    const id = res.headers.get('x-request-id');
    const line = await logLine((l) => l.msg === 'inference' && l.reqId === id);
    for (const field of ['preprocess_ms', 'predict_ms', 'postprocess_ms', 'total_ms']) {
      assert.equal(typeof line[field], 'number', field);
      assert.equal(Math.round(line[field] * 1000) / 1000, line[field], `${field} ${line[field]} has more than 3 decimals`);
    }
  });

  it('says why in the log line of a 400, a 413 and a body that cannot be inflated, and counts them', async () => {
    const before = await (await fetch(`${srv.url}/metrics`)).text();
    const bad = await post('/v2/models/classifier/infer', '{"inputs": [');
    assert.equal(bad.status, 400);
    const badLine = await logLine((l) => l.reqId === bad.headers.get('x-request-id') && l.status === 400);
    assert.match(badLine.error, /JSON/);

    const big = await post('/v2/models/classifier/infer', JSON.stringify({ inputs: [ROW], pad: 'x'.repeat(8192) }));
    assert.equal(big.status, 413);
    const bigLine = await logLine((l) => l.reqId === big.headers.get('x-request-id') && l.status === 413);
    assert.match(bigLine.error, /4096/);

    const gz = await post('/v2/models/classifier/infer', Buffer.from('not gzip at all'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(gz.status, 400);
    const gzLine = await logLine((l) => l.reqId === gz.headers.get('x-request-id') && l.status === 400);
    assert.match(gzLine.error, /gzip/);

    const after = await (await fetch(`${srv.url}/metrics`)).text();
    const count = (text: string, status: string) =>
      counterValue(text, 'tsserve_inference_requests_total', { model_name: 'classifier', protocol: 'v2', status });
    assert.equal(count(after, '413') - count(before, '413'), 1, 'the 413 is counted');
    assert.equal(count(after, '400') - count(before, '400'), 2, 'the bad JSON and the bad gzip body are counted');
  });

  it('answers :explain 501 without an error-level line or a stack', async () => {
    const res = await post('/v1/models/classifier:explain', JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }));
    assert.equal(res.status, 501);
    const line = await logLine((l) => l.reqId === res.headers.get('x-request-id') && l.status === 501);
    assert.ok(line.level < 50, `logged at level ${line.level}`);
    assert.equal(line.err, undefined);
    assert.ok(!srv.logs.some((l) => l.reqId === res.headers.get('x-request-id') && l.level >= 50));
  });

  it('logs a client that hangs up mid-upload as one info line, not an error', async () => {
    const id = 'aborted-upload-1';
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(new URL(srv.url).port), '127.0.0.1', () => {
        socket.write(
          `POST /v2/models/classifier/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\nx-request-id: ${id}\r\n\r\n{"inputs": [`,
        );
        // Gone before the body is complete: the server must notice, log it once and carry on.
        setImmediate(() => socket.destroy());
        socket.on('close', () => resolve());
      });
      socket.on('error', reject);
    });
    const line = await logLine((l) => l.reqId === id && /aborted/.test(l.msg));
    assert.equal(line.level, 30);
    assert.equal(line.err, undefined, 'no stack');
    assert.ok(!srv.logs.some((l) => l.reqId === id && l.level >= 50), 'no error-level line');
    assert.equal((await fetch(`${srv.url}/v2/health/live`)).status, 200);
  });

  it('labels gRPC answers with HTTP statuses, like REST', async () => {
    const port = srv.logs.find((l) => l.msg === 'tsserve is serving').grpcPort;
    const client = new GrpcTestClient(`127.0.0.1:${port}`);
    try {
      await assertStatus(
        client.call('ModelInfer', {
          model_name: 'classifier',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3] }],
          raw_input_contents: [Buffer.alloc(12)],
        }),
        grpc.status.INVALID_ARGUMENT,
      );
    } finally {
      client.close();
    }
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    const statuses = text
      .split('\n')
      .filter((l) => l.startsWith('tsserve_inference_requests_total{'))
      .map((l) => /status="([^"]*)"/.exec(l)![1]);
    assert.ok(statuses.length > 0);
    for (const s of statuses) assert.match(s ?? '', /^\d{3}$/, `status label '${s}' is not an HTTP status`);
    assert.ok(counterValue(text, 'tsserve_inference_requests_total', { protocol: 'grpc', status: '400' }) >= 1);
  });

  it("lists every metric of /metrics in the README's table, and nothing else", async () => {
    const documented = await readmeMetricNames();
    const exposed = exposedNames(await (await fetch(`${srv.url}/metrics`)).text());
    assert.deepEqual([...exposed].filter((n) => !documented.has(n)).sort(), [], 'metrics missing from the README table');
    assert.deepEqual([...documented].filter((n) => !exposed.has(n)).sort(), [], 'README table rows that /metrics does not have');
  });

  it('writes nothing but JSON lines, on stdout and stderr', () => {
    // serveCli parses every stdout line as JSON: a plain-text line would have failed it already.
    assert.ok(srv.logs.length > 0);
    const plain = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
    assert.deepEqual(plain, [], 'plain-text lines on stderr');
  });
});

/**
 * The CLI at `level` on the Hugging Face models alone, so that whatever onnxruntime prints comes
 * from sessions transformers.js opened. Ready is polled: at error level no line says it serves.
 */
async function hfServer(dir: string, level: string) {
  const port = await freePort();
  const args = [`--model_dir=${dir}`, '--host=127.0.0.1', `--http_port=${port}`, '--grpc_port=0', '--workers=1', `--log_level=${level}`];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const url = `http://127.0.0.1:${port}`;
  await until(
    () =>
      fetch(`${url}/v2/health/ready`).then(
        (r) => r.ok,
        () => child.exitCode !== null && assert.fail(`tsserve exited: ${out.stdout}${out.stderr}`),
      ),
    'the Hugging Face models to load',
    60_000,
    50,
  );
  const stop = async () => {
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    return out;
  };
  return { url, out, stop };
}

const notJson = (text: string) =>
  text.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  });

describe('the Hugging Face runtime follows --log_level', () => {
  let repo: TempRepo;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, 'test/hf-models/tiny-bert-cls', 'tiny-bert-cls');
    await copyHfModel(repo, 'test/hf-models/tiny-gpt2', 'tiny-gpt2');
  });
  after(() => repo.remove());

  for (const level of ['info', 'error']) {
    it(`writes nothing but JSON lines at --log_level ${level}, through a load, an inference and a completion`, async () => {
      const srv = await hfServer(repo.dir, level);
      try {
        const json = { 'content-type': 'application/json' };
        assert.equal((await fetch(`${srv.url}/v2/repository/models/tiny-bert-cls/unload`, { method: 'POST' })).status, 200);
        assert.equal((await fetch(`${srv.url}/v2/repository/models/tiny-bert-cls/load`, { method: 'POST' })).status, 200);
        const infer = await fetch(`${srv.url}/v2/models/tiny-bert-cls/infer`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['hello world'] }] }),
        });
        assert.equal(infer.status, 200, await infer.text());
        const completion = await fetch(`${srv.url}/openai/v1/completions`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ model: 'tiny-gpt2', prompt: 'hello', max_tokens: 3 }),
        });
        assert.equal(completion.status, 200, await completion.text());
      } finally {
        const out = await srv.stop();
        assert.deepEqual(notJson(out.stdout), [], 'plain-text lines on stdout');
        assert.deepEqual(notJson(out.stderr), [], 'plain-text lines on stderr');
        if (level === 'info') assert.match(out.stdout, /"msg":"tsserve is serving"/);
      }
    });
  }

  it("hands --log_level trace down to transformers.js's sessions (onnxruntime's own lines appear)", async () => {
    // The counterpart of the above: were the level not passed on, transformers.js would open its
    // sessions at its own default (errors only) and this would print nothing.
    const srv = await hfServer(repo.dir, 'trace');
    const out = await srv.stop();
    assert.match(out.stderr, /\[[VI]:onnxruntime:[^\]]*inference_session\.cc/, 'session-level lines');
    assert.match(out.stderr, /\[[VI]:onnxruntime:onnxruntime-node,/, "the process-wide environment's lines");
  });
});
