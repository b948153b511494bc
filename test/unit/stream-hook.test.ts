/**
 * The lean ModelInfer path's hook (src/grpc/stream-hook.ts) still finds what it relies on in
 * grpc-js: this fails on a grpc-js upgrade that moves `createHttp2Server`, the 'stream'
 * listener it registers, or `onStreamOpened`.
 */
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { serveLeanModelInfer } from '../../src/grpc/lean-infer.js';
import { INFERENCE_SERVICE, loadDefinitions } from '../../src/grpc/proto.js';
import { takeStreams } from '../../src/grpc/stream-hook.js';

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
}

/** One POST on a fresh connection; resolves with the response headers and trailers. */
function post(port: number, path: string): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc' });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      resolve({ headers, trailers });
    });
    stream.resume();
    stream.end(Buffer.alloc(5));
  });
}

describe('takeStreams', () => {
  it("puts one listener in front of grpc-js's on each http2 server it creates, and grpc-js still serves what is not taken", async () => {
    const server = new grpc.Server();
    const seen: string[] = [];
    const installed = takeStreams(server, (stream, headers) => {
      seen.push(headers[':path']!);
      if (headers[':path'] !== '/taken/Method') return false;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
      return true;
    });
    assert.equal(installed, true, 'grpc-js has createHttp2Server and onStreamOpened');
    const port = await bind(server);
    try {
      const taken = await post(port, '/taken/Method');
      assert.equal(taken.headers['grpc-status'], '0');
      // grpc-js's own handler answers the rest: an unknown method is UNIMPLEMENTED.
      const left = await post(port, '/other.Service/Method');
      assert.equal(left.headers['grpc-status'] ?? left.trailers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
      assert.deepEqual(seen, ['/taken/Method', '/other.Service/Method']);
    } finally {
      server.forceShutdown();
    }
  });

  it('reports false where the internals are missing, leaving the server as it was', () => {
    const server = new grpc.Server();
    (server as unknown as { createHttp2Server: unknown }).createHttp2Server = undefined;
    assert.equal(
      takeStreams(server, () => true),
      false,
    );
  });

  it('the server falls back to grpc-js with one JSON log line where the hook cannot be installed', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const server = new grpc.Server();
    (server as unknown as { onStreamOpened: unknown }).onStreamOpened = undefined;
    const method = (loadDefinitions()[INFERENCE_SERVICE] as grpc.ServiceDefinition).ModelInfer!;
    // The data plane is never reached: nothing is served here.
    const served = serveLeanModelInfer(server, method, {
      dataPlane: undefined as never,
      logger: pino(sink),
      maxReceiveMessageLength: 1024,
      maxSendMessageLength: 1024,
    });
    assert.equal(served, false);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as { level: number; msg: string };
    assert.equal(line.level, 40);
    assert.match(line.msg, /ModelInfer is served by grpc-js/);
  });
});
