/**
 * The gRPC port's HTTP/2 windows: a connection may carry several large tensors in flight
 * without waiting for a WINDOW_UPDATE every 64 KiB, and many large calls on one connection
 * all come back whole.
 */
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CONNECTION_WINDOW_BYTES, STREAM_WINDOW_BYTES, widenWindows } from '../src/grpc/flow-control.js';
import { GrpcTestClient, outputBytes } from './helpers/grpc-client.js';
import { until } from './helpers/poll.js';
import { type TestServer, repoPath, startTestServer } from './helpers/server.js';

describe('gRPC flow-control windows', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath('test/fixtures/dtypes'));
  });
  after(() => srv.close());

  it('the server advertises wide stream and connection windows', async () => {
    const session = http2.connect(`http://${srv.grpcAddress}`);
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('remoteSettings', () => resolve());
        session.once('error', reject);
      });
      assert.equal(session.remoteSettings.initialWindowSize, STREAM_WINDOW_BYTES);
      // The connection window grows by a WINDOW_UPDATE that follows the SETTINGS.
      await until(() => session.state.remoteWindowSize === CONNECTION_WINDOW_BYTES, 'the connection window is widened');
    } finally {
      session.close();
    }
  });

  it('32 calls of 1 MiB each in flight on one connection all come back whole', async () => {
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const rows = 256;
      const cols = 1024;
      const calls = Array.from({ length: 32 }, (_, i) => {
        const values = Float32Array.from({ length: rows * cols }, (_, j) => i * 1e6 + j);
        const raw = Buffer.from(values.buffer);
        const request = { model_name: 'fp32', inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, cols] }], raw_input_contents: [raw] };
        return client.call('ModelInfer', request).then((response) => assert.ok(outputBytes(response, 0).equals(raw), `call ${i}`));
      });
      await Promise.all(calls);
    } finally {
      client.close();
    }
  });

  it('finds the grpc-js internals it relies on (fails on an upgrade that moves them)', () => {
    const server = new grpc.Server();
    assert.equal(widenWindows(server), true);
    const internals = server as unknown as { commonServerOptions: { settings?: http2.Settings } };
    assert.equal(internals.commonServerOptions.settings?.initialWindowSize, STREAM_WINDOW_BYTES);
  });
});
