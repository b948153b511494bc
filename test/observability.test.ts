/** Metrics, request ids, latency log lines, secret redaction and graceful shutdown. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveCli } from './helpers/cli-process.js';
import { SLOW_MODEL, tempRepo } from './helpers/model-dir.js';
import { until } from './helpers/poll.js';
import { type TestServer, metricSample, postJson, repoPath, startTestServer, untilMetric } from './helpers/server.js';

const row = [5.1, 3.5, 1.4, 0.2];
const classify = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [row] }] };

const sample = metricSample;

describe('/metrics', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath('models'));
  });
  after(() => srv.close());

  const scrape = async () => {
    const res = await fetch(`${srv.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    return res.text();
  };

  it('moves as requests succeed and fail', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${srv.url}/v2/models/classifier/infer`, classify)).status, 200);
    assert.equal((await postJson(`${srv.url}/v1/models/classifier:predict`, { instances: [row] })).status, 200);
    assert.equal((await postJson(`${srv.url}/v2/models/classifier/infer`, { inputs: [] })).status, 400);
    assert.equal((await postJson(`${srv.url}/v2/models/no-such-model/infer`, classify)).status, 404);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    assert.equal(delta('tsserve_inference_requests_total', { model_name: 'classifier', protocol: 'v2', status: '200' }), 3);
    assert.equal(delta('tsserve_inference_requests_total', { model_name: 'classifier', protocol: 'v1', status: '200' }), 1);
    assert.equal(delta('tsserve_inference_requests_total', { model_name: 'classifier', protocol: 'v2', status: '400' }), 1);
    assert.equal(delta('tsserve_inference_requests_total', { model_name: '_unknown', protocol: 'v2', status: '404' }), 1);
    assert.equal(after.includes('no-such-model'), false, 'unknown names never become label values');
    assert.equal(delta('tsserve_inference_failures_total', { model_name: 'classifier' }), 1);
    assert.equal(delta('request_predict_seconds_count', { model_name: 'classifier' }), 4);
    // The 400 was decoded before the model refused it: preprocess counts it, predict does not.
    assert.equal(delta('request_preprocess_seconds_count', { model_name: 'classifier' }), 5);
    assert.equal(delta('request_postprocess_seconds_count', { model_name: 'classifier' }), 4);
    assert.equal(delta('tsserve_batch_size_count', { model_name: 'classifier' }), 4);
    assert.equal(delta('tsserve_inference_compute_seconds_count', { model_name: 'classifier' }), 4);
    assert.ok(delta('tsserve_request_bytes_sum', { model_name: 'classifier', protocol: 'v2' }) > 0);
    assert.ok(delta('tsserve_response_bytes_sum', { model_name: 'classifier', protocol: 'v2' }) > 0);
    assert.equal(sample(after, 'tsserve_inference_requests_in_flight', { model_name: 'classifier' }), 0);
  });

  it('reports model state, load time, queue depth and process metrics', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'tsserve_model_ready', { model_name: 'regressor', version: '1' }), 1);
    assert.ok(sample(text, 'tsserve_model_load_seconds', { model_name: 'regressor', version: '1' }) > 0);
    assert.equal(sample(text, 'tsserve_batch_queue_size', { model_name: 'classifier' }), 0);
    assert.ok(sample(text, 'process_resident_memory_bytes') > 0);
  });

  it('counts a request as in flight while its model runs', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const slowSrv = await startTestServer(repo.dir);
    try {
      const running = postJson(`${slowSrv.url}/v2/models/slow/infer`, {
        inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [768] }],
      });
      await untilMetric(slowSrv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
      const during = await (await fetch(`${slowSrv.url}/metrics`)).text();
      assert.equal(sample(during, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }), 1);
      assert.equal((await running).status, 200);
      const after = await (await fetch(`${slowSrv.url}/metrics`)).text();
      assert.equal(sample(after, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }), 0);
    } finally {
      await slowSrv.close();
      await repo.remove();
    }
  });

  it('echoes a client x-request-id, and makes one when there is none', async () => {
    const mine = await fetch(`${srv.url}/v2/health/ready`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(mine.headers.get('x-request-id'), 'trace-123');
    const made = await fetch(`${srv.url}/v2/models/classifier/infer`, { method: 'POST', body: JSON.stringify(classify) });
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('logs', () => {
  it('write one latency line per inference with the request id, and redact secrets', async () => {
    const srv = await serveCli([
      '--model_dir',
      repoPath('models'),
      '--http_port',
      '0',
      '--grpc_port',
      '0',
      '--host',
      '127.0.0.1',
      '--aws_secret_access_key=hunter2',
      '--hf-token',
      'hf_abc',
    ]);
    try {
      await fetch(`${srv.url}/v2/models/classifier/infer`, {
        method: 'POST',
        body: JSON.stringify(classify),
        headers: { 'x-request-id': 'req-7', authorization: 'Bearer sk-live' },
      });
      let line: any;
      for (let i = 0; i < 200 && !line; i++) {
        await new Promise((r) => setTimeout(r, 10));
        line = srv.logs.find((l) => l.msg === 'inference');
      }
      assert.ok(line, 'a latency line was logged');
      assert.equal(line.reqId, 'req-7');
      assert.equal(line.model, 'classifier');
      assert.equal(line.status, 200);
      for (const field of ['preprocess_ms', 'predict_ms', 'postprocess_ms', 'total_ms']) assert.equal(typeof line[field], 'number', field);
      const warn = srv.logs.find((l) => l.msg === 'ignoring unknown arguments');
      assert.ok(warn.flags.includes('--aws_secret_access_key=[redacted]'));
      assert.ok(warn.flags.includes('--hf-token=[redacted]'));
      assert.equal(srv.stdout().includes('hunter2') || srv.stdout().includes('hf_abc') || srv.stdout().includes('sk-live'), false);
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });
});

describe('graceful shutdown', () => {
  const slow = (n: number) => JSON.stringify({ inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [n] }] });

  const untilInFlight = (url: string) => untilMetric(url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);

  it('lets a request in flight finish after SIGTERM, refuses new connections, and exits 0', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const srv = await serveCli(['--model_dir', repo.dir, '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1']);
    try {
      const running = fetch(`${srv.url}/v2/models/slow/infer`, { method: 'POST', body: slow(1024) });
      await untilInFlight(srv.url);
      srv.child.kill('SIGTERM');
      let refused = false;
      for (let i = 0; i < 200 && !refused; i++) {
        refused = await fetch(`${srv.url}/v2/health/live`, { headers: { connection: 'close' } }).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(refused, 'a new connection is refused while draining');
      const res = await running;
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(Math.abs(body.outputs[0].data[0] - 1024) < 2);
      assert.equal(await srv.exited, 0);
      assert.ok(srv.logs.some((l) => l.msg === 'tsserve stopped'));
    } finally {
      await repo.remove();
    }
  });

  it('exits at once on a second signal', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const srv = await serveCli(['--model_dir', repo.dir, '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1']);
    try {
      const running = fetch(`${srv.url}/v2/models/slow/infer`, { method: 'POST', body: slow(1280) }).catch((e: Error) => e);
      await untilInFlight(srv.url);
      srv.child.kill('SIGTERM');
      await until(() => srv.logs.some((l) => l.msg === 'shutting down: draining requests in flight'), 'the first SIGTERM to be handled');
      srv.child.kill('SIGTERM');
      assert.equal(await srv.exited, 'SIGKILL');
      assert.ok(srv.logs.some((l) => l.msg === 'second signal: exiting at once'));
      assert.ok((await running) instanceof Error, 'the request in flight was cut off');
    } finally {
      await repo.remove();
    }
  });
});
