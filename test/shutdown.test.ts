/**
 * Shutdown with keep-alive clients (issue 15 item 2) against the real CLI: after SIGTERM, idle
 * keep-alive connections close at once, the one busy with a request gets its answer with
 * `Connection: close`, an open gRPC channel gets GOAWAY, and the process exits 0 as soon as
 * nothing is in flight, long before the grace period.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { serveCli } from './helpers/cli-process.js';
import { GrpcTestClient } from './helpers/grpc-client.js';
import { SLOW_MODEL, tempRepo } from './helpers/model-dir.js';
import { untilMetric } from './helpers/server.js';
import { until } from './helpers/poll.js';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function request(agent: http.Agent, port: number, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const slow = (n: number) => JSON.stringify({ inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [n] }] });

describe('shutdown with keep-alive clients', () => {
  it('closes idle connections at once, answers the busy one with Connection: close, and exits 0 well before the grace period', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const srv = await serveCli([
      '--model_dir',
      repo.dir,
      '--http_port',
      '0',
      '--grpc_port',
      '0',
      '--host',
      '127.0.0.1',
      '--grace_period',
      '30',
    ]);
    const grpcPort = srv.logs.find((l) => l.msg === 'tsserve is serving').grpcPort as number;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const grpcClient = new GrpcTestClient(`127.0.0.1:${grpcPort}`);
    try {
      // Two keep-alive connections: both used once, then one left idle and one made busy.
      const [a, b] = await Promise.all([
        request(agent, srv.port, 'GET', '/v2/health/ready'),
        request(agent, srv.port, 'GET', '/v2/health/ready'),
      ]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.equal((await grpcClient.call('ServerLive')).live, true); // the channel stays open
      const busy = request(agent, srv.port, 'POST', '/v2/models/slow/infer', slow(768));
      await untilMetric(srv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
      const signalled = performance.now();
      srv.child.kill('SIGTERM');
      const answer = await busy;
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.connection, 'close', 'the response sent while draining closes its connection');
      assert.ok(Math.abs(JSON.parse(answer.body).outputs[0].data[0] - 768) < 2);
      assert.equal(await srv.exited, 0);
      const exitMs = performance.now() - signalled;
      console.log(JSON.stringify({ exit_after_sigterm_ms: Math.round(exitMs) }));
      assert.ok(exitMs < 15_000, `exited ${Math.round(exitMs)} ms after SIGTERM, not after the 30 s grace period`);
      assert.ok(srv.logs.some((l) => l.msg === 'tsserve stopped'));
    } finally {
      agent.destroy();
      grpcClient.close();
      srv.child.kill('SIGKILL');
      await repo.remove();
    }
  });

  it('a request that arrives while the server drains gets 503 with Connection: close, not a reset', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const srv = await serveCli(['--model_dir', repo.dir, '--http_port', '0', '--enable_grpc', 'false', '--host', '127.0.0.1']);
    const agent = new http.Agent({ keepAlive: true });
    const socket = net.connect(srv.port, '127.0.0.1');
    try {
      let reply = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (reply += chunk));
      await new Promise((resolve) => socket.once('connect', resolve));
      // The request has begun before SIGTERM (so its connection is not idle) and ends during the drain.
      socket.write('GET /v2/models HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const busy = request(agent, srv.port, 'POST', '/v2/models/slow/infer', slow(768));
      await untilMetric(srv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
      srv.child.kill('SIGTERM');
      await until(() => srv.logs.some((l) => l.msg === 'shutting down: draining requests in flight'), 'the drain to begin');
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write('\r\n');
      await closed;
      assert.match(reply, /^HTTP\/1\.1 503 /);
      assert.match(reply, /connection: close/i);
      assert.equal((await busy).status, 200);
      assert.equal(await srv.exited, 0);
    } finally {
      socket.destroy();
      agent.destroy();
      srv.child.kill('SIGKILL');
      await repo.remove();
    }
  });
});
