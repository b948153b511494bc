/**
 * Predictive models over gRPC (inference.GRPCInferenceService): the same output-0 default,
 * named outputs and predict_proba parameter as over REST, since both frontends decode into
 * the one internal request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GrpcTestClient, outputBytes } from './helpers/grpc-client.js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { PREDICTIVE, assertClose, readCases } from './helpers/predictive.js';
import { type TestServer, startTestServer } from './helpers/server.js';

/** Outputs come back as raw_output_contents (what tritonclient reads). */
function floats(response: unknown, index: number): Float32Array {
  const bytes = outputBytes(response, index);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

describe('predictive models over gRPC', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let client: GrpcTestClient;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(`${PREDICTIVE}/xgboost/multi_softmax/model.json`, 'softmax/model.json');
    srv = await startTestServer(repo.dir);
    client = new GrpcTestClient(srv.grpcAddress);
  });
  after(async () => {
    client.close();
    await srv.close();
    await repo.remove();
  });

  const cases = readCases('xgboost/multi_softmax');
  const request = (extra: object = {}) => ({
    model_name: 'softmax',
    // KServe's own examples name the input input-0; the model takes its one input by position
    inputs: [
      {
        name: 'input-0',
        datatype: 'FP64',
        shape: [cases.inputs.length, 4],
        contents: { fp64_contents: cases.inputs.flat().map((v) => v ?? NaN) },
      },
    ],
    ...extra,
  });

  it('answers output-0 as Booster.predict: the class index as FP32', async () => {
    const response = await client.call('ModelInfer', request());
    assert.deepEqual(
      response.outputs.map((o: { name: string; datatype: string }) => [o.name, o.datatype]),
      [['output-0', 'FP32']],
    );
    assertClose(Array.from(floats(response, 0)), cases['predict'], 'output-0 over gRPC');
  });

  it('returns probabilities with predict_proba, and label by name', async () => {
    const proba = await client.call('ModelInfer', request({ parameters: { predict_proba: { bool_param: true } } }));
    assert.deepEqual(proba.outputs[0].shape.map(Number), [cases.inputs.length, 3]);
    assertClose(Array.from(floats(proba, 0)), cases['proba'], 'probabilities over gRPC');
    const labels = await client.call('ModelInfer', request({ outputs: [{ name: 'label' }] }));
    const bytes = outputBytes(labels, 0);
    assert.deepEqual(Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), Number), cases['label']);
  });
});
