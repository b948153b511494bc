/**
 * ONNX models whose inputs or outputs are not tensors cannot answer a v2 request: they are
 * refused at load with Triton's onnxruntime backend message, and other models keep serving.
 * sklearn-onnx's ZipMap output is the exception, served as a probability tensor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, getJson, postJson, startTestServer } from './helpers/server.js';

describe('models with non-tensor inputs or outputs', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy('test/fixtures/unsupported_io/optional_input/1/model.onnx', 'optional_input/1/model.onnx');
    await repo.copy('test/fixtures/unsupported_io/sequence_output/1/model.onnx', 'sequence_output/1/model.onnx');
    await repo.copy('test/fixtures/multi_io/1/model.onnx', 'multi_io/1/model.onnx');
    await repo.copy('test/fixtures/predictive/sklearn/random_forest_iris/model.onnx', 'zipmap/1/model.onnx');
    srv = await startTestServer(repo.dir, { strict_readiness: false });
  });
  after(async () => {
    await srv?.close();
    await repo?.remove();
  });

  it("are UNAVAILABLE with Triton's reason, naming the I/O and its ONNX type", async () => {
    const { body } = await postJson(`${srv.url}/v2/repository/index`, {});
    const byName = Object.fromEntries(body.map((e: { name: string }) => [e.name, e]));
    // The reason ends with Triton's message (src/pool prefixes its own "Model ... is not ready").
    const refused = (name: string, type: string, io: string) => {
      assert.equal(byName[name].state, 'UNAVAILABLE');
      assert.ok(
        byName[name].reason.endsWith(`Unsupported ONNX Type '${type}' for I/O '${io}', expected 'ONNX_TYPE_TENSOR'.`),
        byName[name].reason,
      );
    };
    refused('optional_input', 'ONNX_TYPE_OPTIONAL', 'optional_input');
    refused('sequence_output', 'ONNX_TYPE_SEQUENCE', 'pair');
    assert.equal(byName['multi_io'].state, 'READY');
    assert.equal(byName['zipmap'].state, 'READY');
  });

  it('answer requests with 503 and the reason, not a 500 from the runtime', async () => {
    const ready = await getJson(`${srv.url}/v2/models/sequence_output/ready`);
    assert.equal(ready.status, 503);
    const infer = await postJson(`${srv.url}/v2/models/sequence_output/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }],
    });
    assert.equal(infer.status, 503);
    assert.match(infer.body.error, /Unsupported ONNX Type 'ONNX_TYPE_SEQUENCE' for I\/O 'pair'/);
  });

  it('leave the other models serving, ZipMap classifiers included', async () => {
    const sum = await postJson(`${srv.url}/v2/models/multi_io/infer`, {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
        { name: 'b', datatype: 'FP32', shape: [1, 3], data: [4, 5, 6] },
      ],
      outputs: [{ name: 'sum' }],
    });
    assert.equal(sum.status, 200, JSON.stringify(sum.body));
    assert.deepEqual(sum.body.outputs[0].data, [5, 7, 9]);
    const meta = await getJson(`${srv.url}/v2/models/zipmap`);
    assert.deepEqual(
      meta.body.outputs.map((o: { name: string; datatype: string }) => [o.name, o.datatype]),
      [
        ['output_label', 'INT64'],
        ['output_probability', 'FP32'],
      ],
    );
  });
});
