/**
 * Every unary rpc of inference.GRPCInferenceService against a real server, driven by a
 * client built from the server's proto files, and checked against what REST answers for the
 * same question: health, metadata, infer, config, statistics, the repository extension, and
 * each error class with its status and REST's message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { FP32_IDENTITY, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { type TestServer, getJson, metricSample, postJson, repoPath, startTestServer } from './helpers/server.js';

interface ClassifierCases {
  inputs: number[][];
  label: number[];
  probabilities: number[][];
}
const cases: ClassifierCases = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8'));

/** Fields the proto declares 64-bit, which the client reads as decimal strings. */
const LONG_FIELDS = new Set([
  'dims',
  'shape',
  'max_queue_delay_microseconds',
  'priority_levels',
  'default_priority_level',
  'default_timeout_microseconds',
  'count',
  'ns',
  'batch_size',
  'last_inference',
  'inference_count',
  'execution_count',
]);

/**
 * A gRPC response as the JSON REST sends for the same thing: 64-bit strings as numbers, no
 * null for unset messages, no oneof name fields (proto-loader's `oneofs` option adds them).
 */
function asJson(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => asJson(v, key));
  if (typeof value === 'string' && LONG_FIELDS.has(key)) return Number(value);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => v !== null && !k.endsWith('_choice'))
      .map(([k, v]) => [k, asJson(v, k)]),
  );
}

function classifierInput(rows: number[][]) {
  return { name: 'input', datatype: 'FP32', shape: [rows.length, 4] };
}

function rawRows(rows: number[][]): Buffer {
  return Buffer.from(new Float32Array(rows.flat()).buffer);
}

let repo: TempRepo;
let srv: TestServer;
let client: GrpcTestClient;

before(async () => {
  repo = await tempRepo();
  await repo.copy('models/classifier/config.pbtxt', 'classifier/config.pbtxt');
  await repo.copy('models/classifier/1/model.onnx', 'classifier/1/model.onnx');
  await repo.copy('test/fixtures/multi_io/1/model.onnx', 'multi_io/1/model.onnx');
  await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
  await repo.copy(FP32_IDENTITY, 'batched/1/model.onnx');
  await repo.write('batched/labels.txt', 'first\nsecond\n'); // config.pbtxt names it: a missing one fails the load
  await repo.write(
    'batched/config.pbtxt',
    [
      'max_batch_size: 8',
      'dynamic_batching { preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 100 }',
      'instance_group [ { count: 2 kind: KIND_CPU } ]',
      'parameters { key: "intra_op_thread_count" value: { string_value: "1" } }',
      'output [ { name: "y" data_type: TYPE_FP32 dims: [ -1 ] label_filename: "labels.txt" } ]',
      'model_warmup [ { name: "not reported: outside the ModelConfig subset" } ]',
    ].join('\n'),
  );
  srv = await startTestServer(repo.dir);
  client = new GrpcTestClient(srv.grpcAddress);
});

after(async () => {
  client?.close();
  await srv?.close();
  await repo?.remove();
});

describe('server health and metadata', () => {
  it('ServerLive and ServerReady answer true', async () => {
    assert.deepEqual(await client.call('ServerLive'), { live: true });
    assert.deepEqual(await client.call('ServerReady'), { ready: true });
  });

  it('ServerMetadata equals GET /v2, with the model_configuration and statistics extensions', async () => {
    const grpc = await client.call('ServerMetadata');
    const rest = (await getJson(`${srv.url}/v2`)).body;
    assert.deepEqual(grpc, rest);
    assert.equal(grpc.name, 'tsserve');
    for (const e of ['model_configuration', 'statistics', 'model_repository']) assert.ok(grpc.extensions.includes(e), e);
  });

  it("ModelReady: true for a ready model, NOT_FOUND with REST's message for an unknown model or version", async () => {
    assert.deepEqual(await client.call('ModelReady', { name: 'classifier' }), { ready: true });
    assert.deepEqual(await client.call('ModelReady', { name: 'classifier', version: '1' }), { ready: true });
    const rest = (await getJson(`${srv.url}/v2/models/nope/ready`)).body.error;
    const error = await assertStatus(client.call('ModelReady', { name: 'nope' }), status.NOT_FOUND);
    assert.equal(error.details, rest);
    await assertStatus(client.call('ModelReady', { name: 'classifier', version: '7' }), status.NOT_FOUND, /'classifier' version 7/);
  });

  it('ModelMetadata equals REST metadata: -1 for variable dims, the batch dim -1 when max_batch_size > 0', async () => {
    for (const [name, path] of [
      ['classifier', 'classifier'],
      ['batched', 'batched/versions/1'],
    ] as const) {
      const grpc = await client.call('ModelMetadata', { name, version: path.includes('versions') ? '1' : '' });
      assert.deepEqual(asJson(grpc), (await getJson(`${srv.url}/v2/models/${path}`)).body);
    }
    const classifier = await client.call('ModelMetadata', { name: 'classifier' });
    assert.deepEqual(classifier.inputs, [{ name: 'input', datatype: 'FP32', shape: ['-1', '4'] }]);
    assert.equal(classifier.platform, 'onnxruntime_onnx');
    assert.deepEqual(classifier.versions, ['1']);
    await assertStatus(client.call('ModelMetadata', { name: 'nope' }), status.NOT_FOUND, /unknown model: 'nope'/);
  });
});

describe('ModelInfer', () => {
  it("answers the classifier with scikit-learn's labels and probabilities, in raw_output_contents only", async () => {
    const rows = cases.inputs.slice(0, 5);
    const response = await client.call('ModelInfer', {
      model_name: 'classifier',
      id: 'req-1',
      inputs: [classifierInput(rows)],
      raw_input_contents: [rawRows(rows)],
    });
    assert.equal(response.model_name, 'classifier');
    assert.equal(response.model_version, '1');
    assert.equal(response.id, 'req-1');
    assert.deepEqual(
      response.outputs.map((o: any) => [o.name, o.datatype, o.shape, o.contents]),
      [
        ['label', 'INT64', ['5'], null],
        ['probabilities', 'FP32', ['5', '3'], null],
      ],
    );
    const labels = new BigInt64Array(new Uint8Array(outputBytes(response, 0)).buffer);
    const probabilities = new Float32Array(new Uint8Array(outputBytes(response, 1)).buffer);
    assert.deepEqual([...labels].map(Number), cases.label.slice(0, 5));
    cases.probabilities
      .slice(0, 5)
      .flat()
      .forEach((p, i) => assert.ok(Math.abs(probabilities[i]! - p) < 1e-6, `probability ${i}: ${probabilities[i]} vs ${p}`));
  });

  it('typed fp32_contents give the same bytes as raw contents', async () => {
    const rows = cases.inputs.slice(5, 9);
    const raw = await client.call('ModelInfer', {
      model_name: 'classifier',
      inputs: [classifierInput(rows)],
      raw_input_contents: [rawRows(rows)],
    });
    const typed = await client.call('ModelInfer', {
      model_name: 'classifier',
      inputs: [{ ...classifierInput(rows), contents: { fp32_contents: rows.flat() } }],
    });
    assert.ok(outputBytes(typed, 0).equals(outputBytes(raw, 0)));
    assert.ok(outputBytes(typed, 1).equals(outputBytes(raw, 1)));
  });

  it('returns only the requested outputs, in request order; an empty id is not echoed', async () => {
    const rows = cases.inputs.slice(0, 2);
    const response = await client.call('ModelInfer', {
      model_name: 'classifier',
      inputs: [classifierInput(rows)],
      outputs: [{ name: 'probabilities' }, { name: 'label' }],
      raw_input_contents: [rawRows(rows)],
    });
    assert.deepEqual(
      response.outputs.map((o: any) => o.name),
      ['probabilities', 'label'],
    );
    assert.equal(response.raw_output_contents[0].length, 2 * 3 * 4);
    assert.equal(response.raw_output_contents[1].length, 2 * 8);
    assert.equal(response.id, '');
  });

  it('accepts every InferParameter kind, on the request and on outputs', async () => {
    const rows = cases.inputs.slice(0, 1);
    const response = await client.call('ModelInfer', {
      model_name: 'classifier',
      parameters: {
        flag: { bool_param: true },
        priority: { uint64_param: '1' },
        timeout: { int64_param: '-5' },
        tag: { string_param: 'x' },
        scale: { double_param: 0.25 },
      },
      inputs: [classifierInput(rows)],
      outputs: [{ name: 'label', parameters: { custom: { int64_param: '3' } } }],
      raw_input_contents: [rawRows(rows)],
    });
    assert.deepEqual(
      response.outputs.map((o: any) => o.name),
      ['label'],
    );
  });

  it('runs a versioned request on that version', async () => {
    const rows = cases.inputs.slice(0, 1);
    const response = await client.call('ModelInfer', {
      model_name: 'classifier',
      model_version: '1',
      inputs: [classifierInput(rows)],
      raw_input_contents: [rawRows(rows)],
    });
    assert.equal(response.model_version, '1');
  });
});

describe('gRPC in the metrics', () => {
  it('counts ModelInfer by model and status (the HTTP status of the gRPC code), and unknown models as _unknown', async () => {
    const scrape = async () => (await fetch(`${srv.url}/metrics`)).text();
    const labels = { model_name: 'classifier', protocol: 'grpc', status: '200' };
    const before = metricSample(await scrape(), 'tsserve_inference_requests_total', labels);
    const rows = [[5.1, 3.5, 1.4, 0.2]];
    await client.call('ModelInfer', { model_name: 'classifier', inputs: [classifierInput(rows)], raw_input_contents: [rawRows(rows)] });
    await client
      .call('ModelInfer', { model_name: 'no-such', inputs: [classifierInput(rows)], raw_input_contents: [rawRows(rows)] })
      .catch(() => undefined);
    const after = await scrape();
    assert.equal(metricSample(after, 'tsserve_inference_requests_total', labels) - before, 1);
    assert.ok(metricSample(after, 'tsserve_inference_requests_total', { model_name: '_unknown', protocol: 'grpc', status: '404' }) >= 1);
    assert.ok(metricSample(after, 'request_predict_seconds_count', { model_name: 'classifier' }) >= 1);
    assert.equal(after.includes('no-such'), false);
  });
});

describe("ModelInfer errors: the status of the error class and REST's message", () => {
  const rows = [[1, 2, 3, 4]];

  it('unknown model or version: NOT_FOUND', async () => {
    const rest = (await postJson(`${srv.url}/v2/models/nope/infer`, { inputs: [{ ...classifierInput(rows), data: rows }] })).body.error;
    const error = await assertStatus(
      client.call('ModelInfer', { model_name: 'nope', inputs: [classifierInput(rows)], raw_input_contents: [rawRows(rows)] }),
      status.NOT_FOUND,
    );
    assert.equal(error.details, rest);
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'classifier',
        model_version: '9',
        inputs: [classifierInput(rows)],
        raw_input_contents: [rawRows(rows)],
      }),
      status.NOT_FOUND,
      /version 9/,
    );
  });

  it('raw contents whose length does not match shape x datatype: INVALID_ARGUMENT', async () => {
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'classifier',
        inputs: [classifierInput(rows)],
        raw_input_contents: [rawRows(rows).subarray(0, 12)],
      }),
      status.INVALID_ARGUMENT,
      /input 'input': expected 16 bytes for FP32 shape \[1,4\], got 12/,
    );
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'classifier',
        inputs: [
          classifierInput([
            [1, 2, 3, 4],
            [5, 6, 7, 8],
          ]),
        ],
        raw_input_contents: [rawRows(rows)],
      }),
      status.INVALID_ARGUMENT,
      /expected 32 bytes for FP32 shape \[2,4\], got 16/,
    );
  });

  it('raw contents for some inputs but not all, or both raw and typed: INVALID_ARGUMENT', async () => {
    const a = { name: 'a', datatype: 'FP32', shape: [1, 3] };
    const b = { name: 'b', datatype: 'FP32', shape: [1, 3] };
    const three = Buffer.from(new Float32Array([1, 2, 3]).buffer);
    await assertStatus(
      client.call('ModelInfer', { model_name: 'multi_io', inputs: [a, b], raw_input_contents: [three] }),
      status.INVALID_ARGUMENT,
      /raw_input_contents has 1 entries for 2 inputs/,
    );
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'multi_io',
        inputs: [a, { ...b, contents: { fp32_contents: [1, 2, 3] } }],
        raw_input_contents: [three, three],
      }),
      status.INVALID_ARGUMENT,
      /input 'b': 'contents' must not be given when raw_input_contents carries the inputs/,
    );
  });

  it('typed contents in the wrong field, of the wrong count, out of range or missing: INVALID_ARGUMENT', async () => {
    const infer = (input: object) => client.call('ModelInfer', { model_name: 'classifier', inputs: [input] });
    await assertStatus(
      infer({ ...classifierInput(rows), contents: { fp64_contents: [1, 2, 3, 4] } }),
      status.INVALID_ARGUMENT,
      /datatype FP32 takes its data in 'contents.fp32_contents', got 'fp64_contents'/,
    );
    await assertStatus(
      infer({ ...classifierInput(rows), contents: { fp32_contents: [1, 2, 3] } }),
      status.INVALID_ARGUMENT,
      /shape \[1,4\] needs 4 elements but 'contents.fp32_contents' holds 3/,
    );
    await assertStatus(infer(classifierInput(rows)), status.INVALID_ARGUMENT, /input 'input' has no data/);
    await assertStatus(
      infer({ name: 'input', datatype: 'INT8', shape: [1, 4], contents: { int_contents: [1, 300, 3, 4] } }),
      status.INVALID_ARGUMENT,
      /element 1 of 'contents.int_contents' is 300; expected an integer in \[-128, 127\] for INT8/,
    );
  });

  it('a negative dim or an unknown datatype: INVALID_ARGUMENT', async () => {
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'classifier',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
        raw_input_contents: [rawRows(rows)],
      }),
      status.INVALID_ARGUMENT,
      /'shape' must be an array of non-negative integers, got \[-1,4\]/,
    );
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'classifier',
        inputs: [{ name: 'input', datatype: 'FLOAT', shape: [1, 4] }],
        raw_input_contents: [rawRows(rows)],
      }),
      status.INVALID_ARGUMENT,
      /'datatype' must be one of .*got "FLOAT"/,
    );
  });

  it('a request that does not fit the model gives the same message over gRPC as over REST', async () => {
    const bad = [
      { name: 'input', datatype: 'FP64', shape: [1, 4] },
      { name: 'x', datatype: 'FP32', shape: [1, 4] },
      { name: 'input', datatype: 'FP32', shape: [1, 3] },
    ];
    for (const input of bad) {
      const data = input.shape[1] === 3 ? [1, 2, 3] : [1, 2, 3, 4];
      const rest = await postJson(`${srv.url}/v2/models/classifier/infer`, { inputs: [{ ...input, data }] });
      assert.equal(rest.status, 400);
      const raw = input.datatype === 'FP64' ? Buffer.from(new Float64Array(data).buffer) : Buffer.from(new Float32Array(data).buffer);
      const error = await assertStatus(
        client.call('ModelInfer', { model_name: 'classifier', inputs: [input], raw_input_contents: [raw] }),
        status.INVALID_ARGUMENT,
      );
      assert.equal(error.details, rest.body.error);
    }
  });

  it('unknown outputs, a bad classification count and an int64 parameter beyond 2^53: INVALID_ARGUMENT', async () => {
    const base = { model_name: 'classifier', inputs: [classifierInput(rows)], raw_input_contents: [rawRows(rows)] };
    await assertStatus(
      client.call('ModelInfer', { ...base, outputs: [{ name: 'nope' }] }),
      status.INVALID_ARGUMENT,
      /unexpected inference output 'nope'/,
    );
    const rest = await postJson(`${srv.url}/v2/models/classifier/infer`, {
      inputs: [{ ...classifierInput(rows), data: rows }],
      outputs: [{ name: 'probabilities', parameters: { classification: 'two' } }],
    });
    const error = await assertStatus(
      client.call('ModelInfer', { ...base, outputs: [{ name: 'probabilities', parameters: { classification: { string_param: 'two' } } }] }),
      status.INVALID_ARGUMENT,
    );
    assert.equal(error.details, rest.body.error);
    await assertStatus(
      client.call('ModelInfer', { ...base, parameters: { big: { uint64_param: '18446744073709551615' } } }),
      status.INVALID_ARGUMENT,
      /'parameters.big': uint64_param 18446744073709551615 is beyond 2\^53/,
    );
    await assertStatus(
      client.call('ModelInfer', { ...base, parameters: { empty: {} } }),
      status.INVALID_ARGUMENT,
      /'parameters.empty' has no value/,
    );
  });

  it("a model that fails while running: INTERNAL with the runtime's message", async () => {
    const a = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const b = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer);
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'multi_io',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2, 3] },
          { name: 'b', datatype: 'FP32', shape: [3, 3] },
        ],
        raw_input_contents: [a, b],
      }),
      status.INTERNAL,
      /broadcast/i,
    );
  });

  it('bytes that are not a ModelInferRequest: INVALID_ARGUMENT, and the server keeps serving', async () => {
    // Field 7 (raw_input_contents) declares 127 bytes, and 1 follows.
    const garbage = Buffer.from([0x3a, 0x7f, 0x01]);
    const error = await new Promise<any>((resolve) => {
      client.inference.makeUnaryRequest(
        '/inference.GRPCInferenceService/ModelInfer',
        (b: Buffer) => b,
        (b: Buffer) => b,
        garbage,
        (e: unknown) => resolve(e),
      );
    });
    assert.equal(error?.code, status.INVALID_ARGUMENT, error?.details);
    assert.match(error.details, /the ModelInfer request is not a valid protobuf message/);
    assert.deepEqual(await client.call('ServerLive'), { live: true });
  });

  it('an rpc the server does not serve (trace settings): UNIMPLEMENTED', async () => {
    const error = await new Promise<any>((resolve) => {
      client.inference.makeUnaryRequest(
        '/inference.GRPCInferenceService/TraceSetting',
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        {},
        (e: unknown) => resolve(e),
      );
    });
    assert.equal(error?.code, status.UNIMPLEMENTED);
  });
});

describe('ModelConfig', () => {
  it("equals GET /config, in Triton's conventions", async () => {
    const rest = (await getJson(`${srv.url}/v2/models/batched/config`)).body;
    const grpc = await client.call('ModelConfig', { name: 'batched' });
    assert.deepEqual(asJson(grpc.config), rest);
    assert.deepEqual(
      asJson((await client.call('ModelConfig', { name: 'batched', version: '1' })).config),
      (await getJson(`${srv.url}/v2/models/batched/versions/1/config`)).body,
    );

    assert.equal(rest.name, 'batched');
    assert.equal(rest.platform, 'onnxruntime_onnx');
    assert.equal(rest.max_batch_size, 8);
    // The model's dims are [-1,-1]; with max_batch_size > 0 the config leaves out the batch dim.
    assert.deepEqual(
      rest.input.map((t: any) => [t.name, t.data_type, t.dims]),
      [['x', 'TYPE_FP32', [-1]]],
    );
    assert.deepEqual(
      rest.output.map((t: any) => [t.name, t.data_type, t.dims, t.label_filename]),
      [['y', 'TYPE_FP32', [-1], 'labels.txt']],
    );
    assert.deepEqual(rest.dynamic_batching.preferred_batch_size, [2, 4]);
    assert.equal(rest.dynamic_batching.max_queue_delay_microseconds, 100);
    assert.deepEqual(
      rest.instance_group.map((g: any) => [g.name, g.count, g.kind]),
      [['batched_0', 2, 'KIND_CPU']],
    );
    assert.deepEqual(rest.parameters, { intra_op_thread_count: { string_value: '1' } });
    assert.deepEqual(rest.version_policy, { latest: { num_versions: 1 } });
    assert.equal('model_warmup' in rest, false);
    // Every primitive field is printed, as Triton's JSON printer does.
    assert.equal(rest.input[0].is_shape_tensor, false);
    assert.equal(rest.input[0].optional, false);
    assert.equal(rest.dynamic_batching.preserve_ordering, false);
  });

  it('keeps every dim and fills the instance group for a model without batching', async () => {
    const rest = (await getJson(`${srv.url}/v2/models/classifier/config`)).body;
    assert.equal(rest.max_batch_size, 0);
    assert.deepEqual(
      rest.input.map((t: any) => [t.name, t.data_type, t.dims]),
      [['input', 'TYPE_FP32', [-1, 4]]],
    );
    assert.deepEqual(
      rest.output.map((t: any) => [t.name, t.data_type, t.dims]),
      [
        ['label', 'TYPE_INT64', [-1]],
        ['probabilities', 'TYPE_FP32', [-1, 3]],
      ],
    );
    assert.deepEqual(
      rest.instance_group.map((g: any) => [g.count, g.kind]),
      [[1, 'KIND_CPU']],
    );
    assert.equal('dynamic_batching' in rest, false);
    assert.deepEqual(asJson((await client.call('ModelConfig', { name: 'classifier' })).config), rest);
  });

  it('unknown model: NOT_FOUND (REST 404)', async () => {
    await assertStatus(client.call('ModelConfig', { name: 'nope' }), status.NOT_FOUND, /unknown model: 'nope'/);
    assert.equal((await getJson(`${srv.url}/v2/models/nope/config`)).status, 404);
  });
});

describe('ModelStatistics', () => {
  it('counts gRPC requests and equals REST stats', async () => {
    const before = (await client.call('ModelStatistics', { name: 'm' })).model_stats[0];
    const x = Buffer.from(new Float32Array([1, 2]).buffer);
    for (let i = 0; i < 3; i++)
      await client.call('ModelInfer', {
        model_name: 'm',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
        raw_input_contents: [x],
      });
    await assertStatus(
      client.call('ModelInfer', { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 1] }], raw_input_contents: [x] }),
      status.INVALID_ARGUMENT,
    );
    const grpc = await client.call('ModelStatistics', { name: 'm' });
    const s = grpc.model_stats[0];
    assert.equal(s.name, 'm');
    assert.equal(s.version, '1');
    assert.equal(Number(s.inference_stats.success.count) - Number(before.inference_stats.success.count), 3);
    assert.equal(Number(s.inference_stats.fail.count) - Number(before.inference_stats.fail.count), 1);
    assert.equal(Number(s.execution_count) - Number(before.execution_count), 3);
    assert.ok(Number(s.inference_stats.compute_infer.ns) > 0);
    assert.deepEqual(Object.keys(s.inference_stats).sort(), [
      'cache_hit',
      'cache_miss',
      'compute_infer',
      'compute_input',
      'compute_output',
      'fail',
      'queue',
      'success',
    ]);

    const rest = (await getJson(`${srv.url}/v2/models/m/stats`)).body;
    const comparable = (stats: any[]) => stats.map(({ memory_usage: _m, response_stats: _r, ...rest }) => rest);
    assert.deepEqual(comparable(asJson(grpc.model_stats) as any[]), rest.model_stats);
  });

  it('an empty name lists every model version; unknown model: NOT_FOUND', async () => {
    const all = await client.call('ModelStatistics', {});
    assert.deepEqual(
      all.model_stats.map((s: any) => s.name),
      ['batched', 'classifier', 'm', 'multi_io'],
    );
    await assertStatus(client.call('ModelStatistics', { name: 'nope' }), status.NOT_FOUND, /unknown model: 'nope'/);
  });
});

describe('repository extension', () => {
  it('RepositoryIndex equals the REST index, with the ready filter', async () => {
    const grpc = await client.call('RepositoryIndex', {});
    const rest = (await postJson(`${srv.url}/v2/repository/index`, {})).body;
    assert.deepEqual(grpc.models, rest);
    assert.deepEqual(
      grpc.models.map((m: any) => [m.name, m.version, m.state]),
      [
        ['batched', '1', 'READY'],
        ['classifier', '1', 'READY'],
        ['m', '1', 'READY'],
        ['multi_io', '1', 'READY'],
      ],
    );
    assert.deepEqual(
      (await client.call('RepositoryIndex', { ready: true })).models,
      (await postJson(`${srv.url}/v2/repository/index`, { ready: true })).body,
    );
  });

  it('RepositoryModelUnload then RepositoryModelLoad', async () => {
    const x = Buffer.from(new Float32Array([1, 2]).buffer);
    const infer = () =>
      client.call('ModelInfer', { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [x] });
    assert.deepEqual(await client.call('RepositoryModelUnload', { model_name: 'm' }), {});
    assert.deepEqual(await client.call('ModelReady', { name: 'm' }), { ready: false });
    await assertStatus(infer(), status.UNAVAILABLE, /'m' is not ready: unloaded/);
    assert.deepEqual(await client.call('RepositoryModelLoad', { model_name: 'm' }), {});
    assert.deepEqual(await client.call('ModelReady', { name: 'm' }), { ready: true });
    assert.ok(outputBytes(await infer(), 0).equals(x));
  });

  it('unknown model: NOT_FOUND; a named repository: UNIMPLEMENTED', async () => {
    await assertStatus(client.call('RepositoryModelLoad', { model_name: 'ghost' }), status.NOT_FOUND, /ghost/);
    await assertStatus(client.call('RepositoryModelUnload', { model_name: 'ghost' }), status.NOT_FOUND, /ghost/);
    await assertStatus(
      client.call('RepositoryIndex', { repository_name: 'other' }),
      status.UNIMPLEMENTED,
      /'repository_name' specification is not supported/,
    );
    await assertStatus(
      client.call('RepositoryModelLoad', { repository_name: 'other', model_name: 'm' }),
      status.UNIMPLEMENTED,
      /repository_name/,
    );
  });
});
