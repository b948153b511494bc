/** The model repository: layouts, versions, settings, load/unload and failed models, over HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FP32_IDENTITY, FP64_IDENTITY, SLOW_MODEL, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, getJson, postJson, startTestServer, untilMetric } from './helpers/server.js';

const fp32Input = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1.5, -2] }] };
const fp64Input = { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 2], data: [1.5, -2] }] };

describe('Triton-style version folders', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'all/1/model.onnx');
    await repo.copy(FP64_IDENTITY, 'all/2/model.onnx');
    await repo.write('all/config.pbtxt', 'version_policy: { all: {} }\n');
    await repo.copy(FP32_IDENTITY, 'latest/1/model.onnx');
    await repo.copy(FP64_IDENTITY, 'latest/3/model.onnx');
    await repo.copy(FP32_IDENTITY, 'flat/model.onnx');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('serves the highest version on unversioned routes', async () => {
    const { body } = await getJson(`${srv.url}/v2/models/all`);
    assert.deepEqual(body.versions, ['2']);
    assert.equal(body.inputs[0].datatype, 'FP64');
    const infer = await postJson(`${srv.url}/v2/models/all/infer`, fp64Input);
    assert.equal(infer.body.model_version, '2');
    assert.deepEqual(infer.body.outputs[0].data, [1.5, -2]);
  });

  it('serves every version on versioned routes under version_policy all', async () => {
    const { body } = await getJson(`${srv.url}/v2/models/all/versions/1`);
    assert.equal(body.inputs[0].datatype, 'FP32');
    const infer = await postJson(`${srv.url}/v2/models/all/versions/1/infer`, fp32Input);
    assert.equal(infer.status, 200);
    assert.equal(infer.body.model_version, '1');
    assert.deepEqual(infer.body.outputs[0].data, [1.5, -2]);
    assert.equal((await getJson(`${srv.url}/v2/models/all/versions/1/ready`)).status, 200);
  });

  it('loads only the latest version by default, as Triton does', async () => {
    assert.equal((await getJson(`${srv.url}/v2/models/latest/versions/3/ready`)).status, 200);
    assert.equal((await getJson(`${srv.url}/v2/models/latest/versions/1/ready`)).status, 404);
  });

  it('serves a model.onnx placed directly in the model folder as version 1', async () => {
    const infer = await postJson(`${srv.url}/v2/models/flat/infer`, fp32Input);
    assert.equal(infer.status, 200);
    assert.equal(infer.body.model_version, '1');
  });

  it('indexes the repository with version and state', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/repository/index`, {});
    assert.equal(status, 200);
    assert.deepEqual(body, [
      { name: 'all', version: '1', state: 'READY', reason: '' },
      { name: 'all', version: '2', state: 'READY', reason: '' },
      { name: 'flat', version: '1', state: 'READY', reason: '' },
      { name: 'latest', version: '3', state: 'READY', reason: '' },
    ]);
  });
});

describe('a single model file in model_dir', () => {
  it('is served as --model_name', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'identity.onnx');
    const srv = await startTestServer(repo.dir, { model_name: 'my-model' });
    try {
      assert.deepEqual((await getJson(`${srv.url}/v2/models`)).body, { models: ['my-model'] });
      const infer = await postJson(`${srv.url}/v2/models/my-model/infer`, fp32Input);
      assert.deepEqual(infer.body.outputs[0].data, [1.5, -2]);
    } finally {
      await srv.close();
      await repo.remove();
    }
  });

  it('refuses two model files at the top level, naming both', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'a.onnx');
    await repo.copy(FP32_IDENTITY, 'b.onnx');
    try {
      await assert.rejects(startTestServer(repo.dir), /more than one model file.*a\.onnx, b\.onnx/);
    } finally {
      await repo.remove();
    }
  });
});

describe('load and unload through the repository extension', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('unloads a model, then loads it again', async () => {
    const unload = await postJson(`${srv.url}/v2/repository/models/m/unload`, undefined);
    assert.deepEqual(unload, { status: 200, body: { name: 'm', unload: true } });
    const ready = await getJson(`${srv.url}/v2/models/m/ready`);
    assert.equal(ready.status, 503);
    const infer = await postJson(`${srv.url}/v2/models/m/infer`, fp32Input);
    assert.equal(infer.status, 503);
    assert.match(infer.body.error, /'m' is not ready: unloaded/);
    assert.deepEqual((await getJson(`${srv.url}/v2/models`)).body, { models: ['slow'] });
    assert.deepEqual((await getJson(`${srv.url}/v2/health/ready`)).status, 200, 'unloaded models do not count against readiness');

    const load = await postJson(`${srv.url}/v2/repository/models/m/load`, {});
    assert.deepEqual(load, { status: 200, body: { name: 'm', load: true } });
    assert.equal((await postJson(`${srv.url}/v2/models/m/infer`, fp32Input)).status, 200);
  });

  it('loads a model folder that appeared after start', async () => {
    await repo.copy(FP64_IDENTITY, 'late/1/model.onnx');
    assert.equal((await getJson(`${srv.url}/v2/models/late/ready`)).status, 404);
    assert.equal((await postJson(`${srv.url}/v2/repository/models/late/load`, undefined)).status, 200);
    assert.equal((await postJson(`${srv.url}/v2/models/late/infer`, fp64Input)).status, 200);
  });

  it('answers 404 for loading or unloading a model that does not exist', async () => {
    const load = await postJson(`${srv.url}/v2/repository/models/ghost/load`, {});
    assert.equal(load.status, 404);
    assert.match(load.body.error, /ghost/);
    assert.equal((await postJson(`${srv.url}/v2/repository/models/ghost/unload`, {})).status, 404);
    const traversal = await postJson(`${srv.url}/v2/repository/models/..%2F..%2Fetc/load`, {});
    assert.equal(traversal.status, 400);
    assert.match(traversal.body.error, /invalid model name '\.\.\/\.\.\/etc': it holds '\/' or '\\'/);
  });

  it('finishes a request already running when its model is unloaded', async () => {
    const running = postJson(`${srv.url}/v2/models/slow/infer`, { inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [512] }] });
    await untilMetric(srv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
    const unload = await postJson(`${srv.url}/v2/repository/models/slow/unload`, {});
    assert.equal(unload.status, 200);
    const result = await running;
    assert.equal(result.status, 200);
    assert.ok(Math.abs(result.body.outputs[0].data[0] - 512) < 1);
  });
});

describe('a model that fails to load', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'good/1/model.onnx');
    await repo.write('broken/1/model.onnx', 'this is not an onnx file');
    await repo.copy(FP32_IDENTITY, 'badconfig/1/model.onnx');
    await repo.write('badconfig/config.pbtxt', 'max_batch_size: 8\ninstance_group [ { count: } ]\n');
    await repo.write('empty/README', 'no model here');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('does not take the server down: other models serve', async () => {
    assert.equal((await postJson(`${srv.url}/v2/models/good/infer`, fp32Input)).status, 200);
    assert.equal((await getJson(`${srv.url}/v2/health/live`)).status, 200);
  });

  it('shows not ready, with its error in metadata and the index', async () => {
    const ready = await getJson(`${srv.url}/v2/models/broken/ready`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.ready, false);
    const meta = await getJson(`${srv.url}/v2/models/broken`);
    assert.equal(meta.status, 503);
    assert.match(meta.body.error, /Model 'broken' is not ready: .*protobuf/i);
    const config = await getJson(`${srv.url}/v2/models/badconfig`);
    assert.match(config.body.error, /config\.pbtxt: line 2/);
    const { body } = await postJson(`${srv.url}/v2/repository/index`, {});
    const states = Object.fromEntries(body.map((e: { name: string; state: string }) => [e.name, e.state]));
    assert.deepEqual(states, { badconfig: 'UNAVAILABLE', broken: 'UNAVAILABLE', empty: 'UNAVAILABLE', good: 'READY' });
    const empty = body.find((e: { name: string }) => e.name === 'empty');
    assert.match(empty.reason, /no model file found/);
    const readyOnly = await postJson(`${srv.url}/v2/repository/index`, { ready: true });
    assert.deepEqual(
      readyOnly.body.map((e: { name: string }) => e.name),
      ['good'],
    );
  });

  it('makes the server not ready under strict readiness, and ready without it', async () => {
    const strict = await getJson(`${srv.url}/v2/health/ready`);
    assert.equal(strict.status, 503);
    assert.match(strict.body.error, /badconfig, broken, empty/);
    const lenient = await startTestServer(repo.dir, { strict_readiness: false });
    try {
      assert.deepEqual((await getJson(`${lenient.url}/v2/health/ready`)).body, { ready: true });
    } finally {
      await lenient.close();
    }
  });

  it('loads once fixed, through the load endpoint', async () => {
    await repo.copy(FP32_IDENTITY, 'broken/1/model.onnx');
    assert.equal((await postJson(`${srv.url}/v2/repository/models/broken/load`, {})).status, 200);
    assert.equal((await postJson(`${srv.url}/v2/models/broken/infer`, fp32Input)).status, 200);
  });
});

describe('per-model settings in config.pbtxt', () => {
  it('applies max_batch_size: -1 batch dim in metadata, larger batches refused', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'b/1/model.onnx');
    await repo.write(
      'b/config.pbtxt',
      [
        'name: "b"',
        'platform: "onnxruntime_onnx"',
        'max_batch_size: 4',
        'instance_group [ { count: 2, kind: KIND_CPU } ]',
        'parameters { key: "intra_op_thread_count" value: { string_value: "1" } }',
      ].join('\n'),
    );
    const srv = await startTestServer(repo.dir);
    try {
      const meta = await getJson(`${srv.url}/v2/models/b`);
      assert.deepEqual(meta.body.inputs[0].shape, [-1, -1]);
      const ok = await postJson(`${srv.url}/v2/models/b/infer`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [4, 1], data: [1, 2, 3, 4] }],
      });
      assert.equal(ok.status, 200);
      const tooBig = await postJson(`${srv.url}/v2/models/b/infer`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [5, 1], data: [1, 2, 3, 4, 5] }],
      });
      assert.equal(tooBig.status, 400);
      assert.match(tooBig.body.error, /batch-size must be <= 4/);
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});
