/**
 * Unary ModelInfer's lean path (src/grpc/lean-infer.ts, --grpc_lean_infer, on by default)
 * against the grpc-js path (--grpc_lean_infer false): the same answers, statuses, messages and
 * metadata for a grpc-js client; compressed calls still served; a grpc-timeout that passes
 * mid-run answered DEADLINE_EXCEEDED and the run cancelled; a call in flight finished by a
 * graceful stop; and what a raw HTTP/2 client can send wrong.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { INFERENCE_SERVICE, loadDefinitions } from '../src/grpc/proto.js';
import { GrpcTestClient, outputBytes } from './helpers/grpc-client.js';
import { FP32_IDENTITY, SLOW_MODEL, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, metricSample, repoPath, startTestServer, untilMetric } from './helpers/server.js';
import { until } from './helpers/poll.js';

const definitions = loadDefinitions();
const loaded = grpc.loadPackageDefinition(definitions) as any;
const modelInfer = (definitions[INFERENCE_SERVICE] as grpc.ServiceDefinition).ModelInfer!;

const LIMITS = { grpc_max_receive_message_length: 64 * 1024, grpc_max_send_message_length: 32 * 1024, max_inflight_bytes: 48 * 1024 };

function fp32(model: string, count: number, id = '') {
  const x = Buffer.from(new Float32Array(count).map((_, i) => i / 7).buffer);
  return { model_name: model, id, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, count] }], raw_input_contents: [x] };
}

function slow(n: number, id = '') {
  return {
    model_name: 'slow',
    id,
    inputs: [{ name: 'n', datatype: 'INT64', shape: [1] }],
    raw_input_contents: [Buffer.from(new BigInt64Array([BigInt(n)]).buffer)],
  };
}

interface Outcome {
  response?: any;
  code: number;
  details: string;
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
}

/** One ModelInfer through a grpc-js client, with the response metadata and trailers it saw. */
function callWithMetadata(client: grpc.Client & Record<string, any>, request: object, metadata = new grpc.Metadata()): Promise<Outcome> {
  return new Promise((resolve) => {
    let headers: Record<string, unknown> = {};
    let response: any;
    let error: grpc.ServiceError | null = null;
    const call = client.ModelInfer(request, metadata, { deadline: Date.now() + 30_000 }, (e: grpc.ServiceError | null, r: any) => {
      error = e;
      response = r;
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => (headers = withoutDate(m)));
    call.on('status', (s: grpc.StatusObject) =>
      setImmediate(() =>
        resolve({
          response,
          code: error?.code ?? s.code,
          details: error?.details ?? s.details,
          headers,
          trailers: withoutDate(s.metadata),
        }),
      ),
    );
  });
}

function withoutDate(metadata: grpc.Metadata): Record<string, unknown> {
  const map = { ...metadata.getMap() };
  delete map.date;
  return map;
}

interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  data: Buffer;
}

/** A ModelInfer stream opened on node:http2 by hand, with gRPC's request headers (and `headers`). */
function openModelInfer(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}): http2.ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': '/inference.GRPCInferenceService/ModelInfer',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
}

/** A ModelInfer written on node:http2 by hand: `body` is the whole request stream after the headers. */
function rawCall(address: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<RawAnswer> {
  const session = http2.connect(`http://${address}`);
  return new Promise((resolve, reject) => {
    const stream = openModelInfer(session, headers);
    const answer: RawAnswer = { headers: {}, trailers: {}, data: Buffer.alloc(0) };
    stream.on('response', (h) => (answer.headers = h));
    stream.on('trailers', (t) => (answer.trailers = t));
    stream.on('data', (chunk: Buffer) => (answer.data = Buffer.concat([answer.data, chunk])));
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      resolve(answer);
    });
    stream.end(body);
  });
}

const grpcStatusOf = (a: RawAnswer) => Number(a.trailers['grpc-status'] ?? a.headers['grpc-status']);
const grpcMessageOf = (a: RawAnswer) => decodeURIComponent(String(a.trailers['grpc-message'] ?? a.headers['grpc-message']));

function framed(message: Uint8Array, flag = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([prefix, message]);
}

const cancelledSample = async (url: string) =>
  metricSample(await (await fetch(`${url}/metrics`)).text(), 'tsserve_requests_cancelled_total', { model_name: 'slow', protocol: 'grpc' });

let repo: TempRepo;
let lean: TestServer;
let plain: TestServer;
let leanClient: GrpcTestClient;
let plainClient: GrpcTestClient;

before(async () => {
  repo = await tempRepo();
  await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
  await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
  await repo.write('slow/config.pbtxt', 'parameters { key: "intra_op_thread_count" value: { string_value: "1" } }\n');
  lean = await startTestServer(repo.dir, LIMITS);
  plain = await startTestServer(repo.dir, { ...LIMITS, grpc_lean_infer: false });
  leanClient = new GrpcTestClient(lean.grpcAddress);
  plainClient = new GrpcTestClient(plain.grpcAddress);
});

after(async () => {
  leanClient?.close();
  plainClient?.close();
  await lean?.close();
  await plain?.close();
  await repo?.remove();
});

describe('lean ModelInfer against the grpc-js path', () => {
  const cases: [string, object][] = [
    ['an answer with its request id', fp32('m', 16, 'request-7')],
    ['a message of several DATA frames', fp32('m', 5000, 'big')],
    ['a model that does not exist, named in UTF-8', fp32('modèle-😀', 4)],
    ['an input of the wrong datatype', { ...fp32('m', 4), inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 4] }] }],
    ['a message that is not well formed for its tensors', { ...fp32('m', 4), raw_input_contents: [] }],
    ['a message over --grpc_max_receive_message_length', fp32('m', 20_000)],
    ['a message over --max_inflight_bytes', fp32('m', 14_000)],
    ['an answer over --grpc_max_send_message_length', fp32('m', 10_000)],
  ];
  for (const [what, request] of cases) {
    it(`${what}: the same answer, status, message and metadata`, async () => {
      const viaLean = await callWithMetadata(leanClient.inference, request);
      const viaGrpcJs = await callWithMetadata(plainClient.inference, request);
      assert.deepEqual(viaLean, viaGrpcJs);
    });
  }

  it('the statuses are the ones a client expects', async () => {
    const ok = await callWithMetadata(leanClient.inference, fp32('m', 16, 'request-7'));
    assert.equal(ok.code, grpc.status.OK);
    assert.equal(ok.response.id, 'request-7');
    assert.ok(outputBytes(ok.response, 0).equals(fp32('m', 16).raw_input_contents[0]!));
    const tooBig = await callWithMetadata(leanClient.inference, fp32('m', 20_000));
    assert.equal(tooBig.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(tooBig.details, /Received message larger than max \(\d+ vs 65536\)/);
    const answerTooBig = await callWithMetadata(leanClient.inference, fp32('m', 10_000));
    assert.equal(answerTooBig.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(answerTooBig.details, /Sent message larger than max \(\d+ vs\. 32768\)/);
    const unknown = await callWithMetadata(leanClient.inference, fp32('modèle-😀', 4));
    assert.equal(unknown.code, grpc.status.NOT_FOUND);
    assert.match(unknown.details, /'modèle-😀'/);
  });

  it('a gzip-compressed call (grpc-js default_compression_algorithm) is served, by grpc-js', async () => {
    const gzip = new loaded.inference.GRPCInferenceService(lean.grpcAddress, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2,
    });
    try {
      const request = fp32('m', 2000, 'zipped');
      const outcome = await callWithMetadata(gzip, request);
      assert.equal(outcome.code, grpc.status.OK, outcome.details);
      assert.equal(outcome.response.id, 'zipped');
      assert.ok(outputBytes(outcome.response, 0).equals(request.raw_input_contents[0]!));
      const tooBig = await callWithMetadata(gzip, fp32('m', 20_000));
      assert.equal(tooBig.code, grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      gzip.close();
    }
  });
});

describe('lean ModelInfer deadlines and cancellation', () => {
  it('a grpc-timeout that passes mid-run: DEADLINE_EXCEEDED from the server, and the run is cancelled', async () => {
    for (const srv of [lean, plain]) {
      const before = await cancelledSample(srv.url);
      // n = 1024 runs for about 850 ms (test/fixtures/slow/TIMINGS.txt); the client sets no timer of its own.
      const answer = await rawCall(srv.grpcAddress, framed(modelInfer.requestSerialize(slow(1024))), { 'grpc-timeout': '50m' });
      assert.equal(grpcStatusOf(answer), grpc.status.DEADLINE_EXCEEDED, `${srv.grpcAddress}: ${grpcMessageOf(answer)}`);
      assert.equal(grpcMessageOf(answer), 'Deadline exceeded');
      await until(async () => (await cancelledSample(srv.url)) === before + 1, 'the cancelled run counted');
    }
  });

  it('a grpc-js client deadline passing mid-run: DEADLINE_EXCEEDED', async () => {
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      (leanClient.inference as any).ModelInfer(slow(1024), new grpc.Metadata(), { deadline: Date.now() + 50 }, (e: grpc.ServiceError) =>
        resolve(e),
      ),
    );
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
  });

  it('a client that resets the stream mid-run cancels the run', async () => {
    const before = await cancelledSample(lean.url);
    const session = http2.connect(`http://${lean.grpcAddress}`);
    try {
      const stream = openModelInfer(session);
      stream.on('error', () => {});
      stream.end(framed(modelInfer.requestSerialize(slow(1024))));
      await untilMetric(lean.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await until(async () => (await cancelledSample(lean.url)) === before + 1, 'the cancelled run counted');
    } finally {
      session.close();
    }
  });
});

describe('lean ModelInfer on the wire', () => {
  const request = () => modelInfer.requestSerialize(fp32('m', 4, 'wire'));

  it('answers with one HEADERS, one length-prefixed message and the trailers', async () => {
    const answer = await rawCall(lean.grpcAddress, framed(request()));
    assert.equal(answer.headers[':status'], 200);
    assert.match(String(answer.headers['content-type']), /^application\/grpc/);
    assert.equal(answer.trailers['grpc-status'], '0');
    assert.equal(answer.data.readUInt32BE(1), answer.data.byteLength - 5);
    assert.equal(modelInfer.responseDeserialize(answer.data.subarray(5)).id, 'wire');
  });

  it('a message whose prefix and body arrive in separate DATA frames, split anywhere', async () => {
    const whole = framed(request());
    for (const cut of [1, 3, 5, 9]) {
      const session = http2.connect(`http://${lean.grpcAddress}`);
      try {
        const stream = openModelInfer(session);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('trailers', resolve));
        // Each write goes out as a DATA frame of its own once the one before it has been written.
        stream.write(whole.subarray(0, cut), () => stream.end(whole.subarray(cut)));
        assert.equal((await trailers)['grpc-status'], '0', `cut at ${cut}`);
        assert.equal(modelInfer.responseDeserialize(Buffer.concat(chunks).subarray(5)).id, 'wire');
      } finally {
        session.close();
      }
    }
  });

  it('a compressed-flag message on a call without grpc-encoding: INTERNAL, naming the missing header', async () => {
    const answer = await rawCall(lean.grpcAddress, framed(request(), 1));
    assert.equal(grpcStatusOf(answer), grpc.status.INTERNAL);
    assert.match(grpcMessageOf(answer), /compressed message but the call has no grpc-encoding/);
  });

  it('no message, a second message, or a bad grpc-timeout: the statuses grpc-js gives', async () => {
    for (const srv of [lean, plain]) {
      const none = await rawCall(srv.grpcAddress, Buffer.alloc(0));
      assert.equal(grpcStatusOf(none), grpc.status.UNIMPLEMENTED);
      assert.match(grpcMessageOf(none), /Received no request message/);
      const two = await rawCall(srv.grpcAddress, Buffer.concat([framed(request()), framed(request())]));
      assert.equal(grpcStatusOf(two), grpc.status.UNIMPLEMENTED);
      assert.match(grpcMessageOf(two), /Received a second request message/);
      const badTimeout = await rawCall(srv.grpcAddress, framed(request()), { 'grpc-timeout': 'soon' });
      assert.equal(grpcStatusOf(badTimeout), grpc.status.INTERNAL);
      assert.match(grpcMessageOf(badTimeout), /Invalid grpc-timeout value "soon"/);
    }
  });

  it('a prefix declaring more than --grpc_max_receive_message_length is refused before the message arrives', async () => {
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(1024 * 1024 * 1024, 1);
    const session = http2.connect(`http://${lean.grpcAddress}`);
    try {
      const stream = openModelInfer(session);
      // The client keeps its side open: the answer must come from the prefix alone.
      stream.write(prefix);
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('response', resolve));
      assert.equal(Number(headers['grpc-status']), grpc.status.RESOURCE_EXHAUSTED);
      assert.match(decodeURIComponent(String(headers['grpc-message'])), /Received message larger than max \(1073741824 vs 65536\)/);
      stream.close();
    } finally {
      session.close();
    }
  });
});

describe('lean ModelInfer over TLS', () => {
  it('is served on the TLS port as on the plain one, and health beside it by grpc-js', async () => {
    const cert = repoPath('test/fixtures/tls/cert.pem');
    const srv = await startTestServer(repo.dir, { ssl_certfile: cert, ssl_keyfile: repoPath('test/fixtures/tls/key.pem') });
    const client = new GrpcTestClient(srv.grpcAddress, grpc.credentials.createSsl(readFileSync(cert)));
    try {
      const request = fp32('m', 16, 'tls');
      const response = await client.call('ModelInfer', request);
      assert.equal(response.id, 'tls');
      assert.ok(outputBytes(response, 0).equals(request.raw_input_contents[0]!));
      assert.equal((await client.check('')).status, 'SERVING');
    } finally {
      client.close();
      await srv.close();
    }
  });
});

describe('lean ModelInfer and a graceful stop', () => {
  it('a call in flight when the server stops (GOAWAY) gets its answer', async () => {
    const srv = await startTestServer(repo.dir, { grace_period: 30 });
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const inFlight = client.call('ModelInfer', slow(768, 'last'));
      await untilMetric(srv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
      const closing = srv.close();
      const response = await inFlight;
      assert.equal(response.id, 'last');
      const y = new Float32Array(new Uint8Array(outputBytes(response, 0)).buffer)[0]!;
      assert.ok(Math.abs(y - 768) < 1, `y ≈ 768, got ${y}`);
      await closing;
    } finally {
      client.close();
    }
  });
});
