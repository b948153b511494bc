/**
 * Triton's classification extension over REST and gRPC, on the iris logistic regression
 * (models/classifier): `classification: K` on a requested output answers BYTES strings
 * "<value>:<index>[:<label>]", top K per batch row for a batching model, over the whole
 * tensor for one that does not; labels from the output's label_filename.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { type TestServer, getJson, postJson, repoPath } from './helpers/server.js';
import { startTestServer } from './helpers/server.js';

const CASES = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8')) as {
  inputs: number[][];
  probabilities: number[][];
};
// scikit-learn's iris.target_names, the classes the model's indices stand for
const LABELS = ['setosa', 'versicolor', 'virginica'];
const ROWS = [CASES.inputs[0]!, CASES.inputs[5]!, CASES.inputs[12]!];

const UNBATCHED = 'platform: "onnxruntime_onnx"\nmax_batch_size: 0\n';
const BATCHED = `platform: "onnxruntime_onnx"
max_batch_size: 8
output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 3 ] label_filename: "labels.txt" } ]
`;

function input() {
  return { name: 'input', datatype: 'FP32', shape: [ROWS.length, 4], data: ROWS.flat() };
}

/** Indices of `values` best first, as scikit-learn's probabilities rank them. */
function ranking(values: number[]): number[] {
  return values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
}

/** Triton's string for one entry: "%f" value, index, optional label. */
function entry(value: number, index: number, label?: string): string {
  return `${value.toFixed(6)}:${index}${label === undefined ? '' : `:${label}`}`;
}

/** Length-prefixed BYTES elements of a raw gRPC output. */
function bytesElements(raw: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < raw.length;) {
    const n = raw.readUInt32LE(at);
    out.push(raw.subarray(at + 4, at + 4 + n).toString('utf8'));
    at += 4 + n;
  }
  return out;
}

describe('classification extension', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let probabilities: number[][];

  before(async () => {
    repo = await tempRepo();
    for (const name of ['iris', 'iris_batch']) await repo.copy('models/classifier/1/model.onnx', `${name}/1/model.onnx`);
    await repo.write('iris/config.pbtxt', UNBATCHED);
    await repo.write('iris_batch/config.pbtxt', BATCHED);
    await repo.write('iris_batch/labels.txt', `${LABELS.join('\n')}\n`);
    srv = await startTestServer(repo.dir);
    const raw = await postJson(`${srv.url}/v2/models/iris/infer`, { inputs: [input()], outputs: [{ name: 'probabilities' }] });
    const flat = raw.body.outputs[0].data as number[];
    probabilities = ROWS.map((_, r) => flat.slice(r * 3, r * 3 + 3));
    // the rows rank their classes as scikit-learn does, and not all alike
    ROWS.forEach((row, r) => assert.deepEqual(ranking(probabilities[r]!), ranking(CASES.probabilities[CASES.inputs.indexOf(row)]!)));
    assert.equal(new Set(probabilities.map((p) => ranking(p)[0])).size, 3);
  });
  after(async () => {
    await srv?.close();
    await repo?.remove();
  });

  it('is listed in the server metadata over REST and gRPC', async () => {
    assert.ok((await getJson(`${srv.url}/v2`)).body.extensions.includes('classification'));
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      assert.ok((await client.call('ServerMetadata')).extensions.includes('classification'));
    } finally {
      client.close();
    }
  });

  it('REST, batching model with labels: top K per row as "value:index:label", shape [batch, K]', async () => {
    const { status: code, body } = await postJson(`${srv.url}/v2/models/iris_batch/infer`, {
      inputs: [input()],
      outputs: [{ name: 'probabilities', parameters: { classification: 2 } }],
    });
    assert.equal(code, 200, JSON.stringify(body));
    const expected = probabilities.flatMap((p) =>
      ranking(p)
        .slice(0, 2)
        .map((i) => entry(p[i]!, i, LABELS[i])),
    );
    assert.deepEqual(body.outputs, [{ name: 'probabilities', datatype: 'BYTES', shape: [ROWS.length, 2], data: expected }]);
  });

  it('REST, model without batching or labels: top K of the whole tensor, flat indices, shape [K]', async () => {
    const { body } = await postJson(`${srv.url}/v2/models/iris/infer`, {
      inputs: [input()],
      outputs: [{ name: 'probabilities', parameters: { classification: 4 } }, { name: 'label' }],
    });
    const flat = probabilities.flat();
    const expected = ranking(flat)
      .slice(0, 4)
      .map((i) => entry(flat[i]!, i));
    assert.deepEqual(body.outputs[0], { name: 'probabilities', datatype: 'BYTES', shape: [4], data: expected });
    assert.equal(body.outputs[1].datatype, 'INT64', 'an output without the parameter is left as it is');
  });

  it('K beyond the classes gives them all; integer outputs print as integers', async () => {
    const { body } = await postJson(`${srv.url}/v2/models/iris_batch/infer`, {
      inputs: [input()],
      outputs: [
        { name: 'probabilities', parameters: { classification: 10 } },
        { name: 'label', parameters: { classification: 1 } },
      ],
    });
    assert.deepEqual(body.outputs[0].shape, [ROWS.length, 3]);
    const labels = probabilities.map((p) => ranking(p)[0]!);
    assert.deepEqual(body.outputs[1], { name: 'label', datatype: 'BYTES', shape: [ROWS.length, 1], data: labels.map((l) => `${l}:0`) });
  });

  it('gRPC: int64_param classification on the requested output, raw BYTES back', async () => {
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const response = await client.call('ModelInfer', {
        model_name: 'iris_batch',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS.length, 4] }],
        raw_input_contents: [Buffer.from(new Float32Array(ROWS.flat()).buffer)],
        outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 3 } } }],
      });
      assert.equal(response.outputs[0].datatype, 'BYTES');
      assert.deepEqual(response.outputs[0].shape.map(Number), [ROWS.length, 3]);
      const expected = probabilities.flatMap((p) => ranking(p).map((i) => entry(p[i]!, i, LABELS[i])));
      assert.deepEqual(bytesElements(outputBytes(response, 0)), expected);
      await assertStatus(
        client.call('ModelInfer', {
          model_name: 'iris_batch',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS.length, 4] }],
          raw_input_contents: [Buffer.from(new Float32Array(ROWS.flat()).buffer)],
          outputs: [{ name: 'probabilities', parameters: { classification: { string_param: 'three' } } }],
        }),
        status.INVALID_ARGUMENT,
        /output 'probabilities': parameter 'classification' must be an integer/,
      );
    } finally {
      client.close();
    }
  });

  it('refuses a K that is not a count, naming the output and parameter', async () => {
    const { status: code, body } = await postJson(`${srv.url}/v2/models/iris/infer`, {
      inputs: [input()],
      outputs: [{ name: 'probabilities', parameters: { classification: -1 } }],
    });
    assert.equal(code, 400);
    assert.match(body.error, /output 'probabilities': parameter 'classification' must be an integer from 0/);
  });

  it('refuses a label file outside the model folder, and a missing one, at load', async () => {
    const bad = await tempRepo();
    try {
      await bad.copy('models/classifier/1/model.onnx', 'escape/1/model.onnx');
      await bad.write('escape/config.pbtxt', BATCHED.replace('labels.txt', '../../etc/passwd'));
      await bad.copy('models/classifier/1/model.onnx', 'missing/1/model.onnx');
      await bad.write('missing/config.pbtxt', BATCHED);
      const server = await startTestServer(bad.dir, { strict_readiness: false });
      try {
        const { body } = await postJson(`${server.url}/v2/repository/index`, {});
        const reasons = Object.fromEntries(body.map((e: { name: string; reason: string }) => [e.name, e.reason]));
        assert.match(reasons['escape'], /label_filename '\.\.\/\.\.\/etc\/passwd' must name a file inside the model folder/);
        assert.match(reasons['missing'], /cannot read label_filename 'labels\.txt'/);
      } finally {
        await server.close();
      }
    } finally {
      await bad.remove();
    }
  });
});
