/**
 * ModelStreamInfer: several requests in flight on one stream, answered in request order; a bad
 * request among them answered with error_message while the others succeed; Triton's
 * `triton_grpc_error` mode; and a graceful stop that answers what is in flight.
 */
import assert from 'node:assert/strict';
import { Metadata, type ClientDuplexStream, status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { FP32_IDENTITY, SLOW_MODEL, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { type TestServer, startTestServer, untilMetric } from './helpers/server.js';

/** The slow model computes y ≈ n, taking longer as n grows (test/fixtures/slow/TIMINGS.txt). */
function slowRequest(id: string, n: number) {
  return {
    model_name: 'slow',
    id,
    inputs: [{ name: 'n', datatype: 'INT64', shape: [1] }],
    raw_input_contents: [Buffer.from(new BigInt64Array([BigInt(n)]).buffer)],
  };
}

function firstValue(response: any): number {
  return new Float32Array(new Uint8Array(outputBytes(response, 0)).buffer)[0]!;
}

interface StreamResult {
  messages: any[];
  status: { code: number; details: string };
}

/** Writes every request at once, half-closes, and collects the answers and the final status. */
function runStream(call: ClientDuplexStream<any, any>, requests: object[]): Promise<StreamResult> {
  return new Promise((resolve) => {
    const messages: any[] = [];
    let final: StreamResult['status'] | undefined;
    let ended = false;
    const done = () => {
      if (final && ended) resolve({ messages, status: final });
    };
    call.on('data', (m) => messages.push(m));
    call.on('status', (s) => {
      final = { code: s.code, details: s.details };
      done();
    });
    call.on('error', () => {
      ended = true; // the status event carries the code
      done();
    });
    call.on('end', () => {
      ended = true;
      done();
    });
    for (const r of requests) call.write(r);
    call.end();
  });
}

let repo: TempRepo;
let srv: TestServer;
let client: GrpcTestClient;

before(async () => {
  repo = await tempRepo();
  await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
  await repo.write(
    'slow/config.pbtxt',
    'instance_group [ { count: 2 } ]\nparameters { key: "intra_op_thread_count" value: { string_value: "1" } }\n',
  );
  await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
  srv = await startTestServer(repo.dir);
  client = new GrpcTestClient(srv.grpcAddress);
});

after(async () => {
  client?.close();
  await srv?.close();
  await repo?.remove();
});

describe('ModelStreamInfer', () => {
  it('answers several requests in flight in request order; the bad one errors, the others succeed', async () => {
    // The first request is the slowest, so answers complete out of order and must be reordered.
    const sizes = [256, 32, 128, 64];
    const requests: object[] = sizes.map((n, i) => slowRequest(`r${i}`, n));
    const bad = {
      model_name: 'slow',
      id: 'bad',
      inputs: [{ name: 'n', datatype: 'FP32', shape: [1] }],
      raw_input_contents: [Buffer.alloc(4)],
    };
    requests.splice(2, 0, bad);
    const { messages, status: final } = await runStream(client.inference.ModelStreamInfer(), requests);

    assert.equal(final.code, status.OK, final.details);
    assert.deepEqual(
      messages.map((m) => m.infer_response.id),
      ['r0', 'r1', 'bad', 'r2', 'r3'],
    );
    const failed = messages[2];
    assert.match(failed.error_message, /inference input 'n' data-type is 'FP32', but model 'slow' expects 'INT64'/);
    assert.equal(failed.infer_response.model_name, 'slow');
    const answered = messages.filter((m) => m.infer_response.id !== 'bad');
    answered.forEach((m, i) => {
      assert.equal(m.error_message, '');
      assert.equal(m.infer_response.model_name, 'slow');
      assert.equal(m.infer_response.model_version, '1');
      assert.ok(
        Math.abs(firstValue(m.infer_response) - sizes[i]!) < 1,
        `${m.infer_response.id}: y ≈ ${sizes[i]}, got ${firstValue(m.infer_response)}`,
      );
    });
  });

  it('an unknown model on the stream is an error_message, and the stream carries on', async () => {
    const x = Buffer.from(new Float32Array([1, 2, 3]).buffer);
    const good = (id: string) => ({
      model_name: 'm',
      id,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3] }],
      raw_input_contents: [x],
    });
    const { messages, status: final } = await runStream(client.inference.ModelStreamInfer(), [
      good('a'),
      { model_name: 'ghost', id: 'g' },
      good('b'),
    ]);
    assert.equal(final.code, status.OK);
    assert.deepEqual(
      messages.map((m) => [m.infer_response.id, m.error_message]),
      [
        ['a', ''],
        ['g', "Request for unknown model: 'ghost' is not found"],
        ['b', ''],
      ],
    );
    assert.ok(outputBytes(messages[2].infer_response, 0).equals(x));
  });

  it("bytes that are not a ModelInferRequest on the stream are that one request's error_message", async () => {
    const x = Buffer.from(new Float32Array([4, 5]).buffer);
    const encode = client.inference.ModelStreamInfer.requestSerialize as (m: object) => Buffer;
    const good = (id: string) =>
      encode({ model_name: 'm', id, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [x] });
    const call = client.inference.makeBidiStreamRequest(
      '/inference.GRPCInferenceService/ModelStreamInfer',
      (b: Buffer) => b,
      client.inference.ModelStreamInfer.responseDeserialize,
    );
    const { messages, status: final } = await runStream(call, [good('a'), Buffer.from([0x3a, 0x7f, 0x01]), good('b')]);
    assert.equal(final.code, status.OK);
    assert.equal(messages.length, 3);
    assert.equal(messages[0].infer_response.id, 'a');
    assert.match(messages[1].error_message, /the ModelStreamInfer request is not a valid protobuf message/);
    assert.equal(messages[2].infer_response.id, 'b');
    assert.ok(outputBytes(messages[2].infer_response, 0).equals(x));
  });

  it('with the triton_grpc_error header, the first error ends the stream with its gRPC status', async () => {
    const metadata = new Metadata();
    metadata.set('triton_grpc_error', 'true');
    const requests = [
      slowRequest('ok', 32),
      { model_name: 'slow', id: 'bad', inputs: [{ name: 'n', datatype: 'INT64', shape: [2] }], raw_input_contents: [Buffer.alloc(8)] },
      slowRequest('late', 32),
    ];
    const { messages, status: final } = await runStream(client.inference.ModelStreamInfer(metadata), requests);
    assert.equal(final.code, status.INVALID_ARGUMENT);
    assert.match(final.details, /input 'n'/);
    assert.deepEqual(
      messages.map((m) => m.infer_response.id),
      ['ok'],
    );
  });

  it('an empty stream ends with OK', async () => {
    const { messages, status: final } = await runStream(client.inference.ModelStreamInfer(), []);
    assert.equal(final.code, status.OK);
    assert.deepEqual(messages, []);
  });
});

describe('graceful stop', () => {
  it('answers the requests in flight on a stream and a unary call, then ends the stream and refuses new calls', async () => {
    const own = await startTestServer(repo.dir);
    const c = new GrpcTestClient(own.grpcAddress);
    try {
      const stream = c.inference.ModelStreamInfer();
      const messages: any[] = [];
      const streamStatus = new Promise<number>((resolve) => {
        stream.on('data', (m: any) => messages.push(m));
        stream.on('status', (s: { code: number }) => resolve(s.code));
        stream.on('error', () => {});
      });
      stream.write(slowRequest('in-flight', 512)); // about 100 ms of work
      const unary = c.call('ModelInfer', slowRequest('unary', 256));
      await untilMetric(own.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 2);
      // The client keeps its stream open: the server ends it once its request is answered.
      await own.close();
      assert.equal(await streamStatus, status.OK);
      assert.deepEqual(
        messages.map((m) => [m.infer_response.id, m.error_message]),
        [['in-flight', '']],
      );
      assert.ok(Math.abs(firstValue(messages[0].infer_response) - 512) < 1);
      assert.ok(Math.abs(firstValue(await unary) - 256) < 1);
      await assertStatus(c.call('ServerLive', {}), status.UNAVAILABLE);
    } finally {
      c.close();
      await own.close();
    }
  });
});
