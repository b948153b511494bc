/** The v2 REST API on the bundled models: health, metadata, infer and its errors. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TestServer, binaryBody, getJson, postJson, readInferResponse, repoPath, startTestServer } from './helpers/server.js';

interface ClassifierCases {
  inputs: number[][];
  label: number[];
  probabilities: number[][];
}
interface RegressorCases {
  inputs: (number | null)[][];
  variable: number[];
}

const classifierCases: ClassifierCases = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8'));
const regressorCases: RegressorCases = JSON.parse(readFileSync(repoPath('models/regressor/cases.json'), 'utf8'));

function classifierRequest(rows: number[][], extra: Record<string, unknown> = {}) {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows }], ...extra };
}

describe('v2 REST on the bundled models', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath('models'));
  });
  after(() => srv.close());

  it('answers live and ready with JSON bodies', async () => {
    assert.deepEqual(await getJson(`${srv.url}/v2/health/live`), { status: 200, body: { live: true } });
    assert.deepEqual(await getJson(`${srv.url}/v2/health/ready`), { status: 200, body: { ready: true } });
    assert.deepEqual(await getJson(`${srv.url}/`), { status: 200, body: { status: 'alive' } });
  });

  it('reports server metadata with the extensions it supports', async () => {
    const { status, body } = await getJson(`${srv.url}/v2`);
    assert.equal(status, 200);
    assert.equal(body.name, 'tsserve');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(body.extensions.includes('binary_tensor_data'));
    assert.ok(body.extensions.includes('model_repository'));
  });

  it('lists models and reports metadata from the ONNX session', async () => {
    assert.deepEqual((await getJson(`${srv.url}/v2/models`)).body, { models: readdirSync(repoPath('models')).sort() });
    const { status, body } = await getJson(`${srv.url}/v2/models/classifier`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      name: 'classifier',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    const versioned = await getJson(`${srv.url}/v2/models/classifier/versions/1`);
    assert.deepEqual(versioned.body, body);
  });

  it('answers model ready, plain and versioned', async () => {
    assert.deepEqual(await getJson(`${srv.url}/v2/models/regressor/ready`), { status: 200, body: { name: 'regressor', ready: true } });
    assert.equal((await getJson(`${srv.url}/v2/models/regressor/versions/1/ready`)).status, 200);
    assert.equal((await getJson(`${srv.url}/v2/models/regressor/versions/7/ready`)).status, 404);
    assert.equal((await getJson(`${srv.url}/v2/models/nope/ready`)).status, 404);
  });

  it('classifies every reference row as scikit-learn did', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/classifier/infer`, classifierRequest(classifierCases.inputs));
    assert.equal(status, 200);
    assert.equal(body.model_name, 'classifier');
    assert.equal(body.model_version, '1');
    const [label, probabilities] = body.outputs;
    assert.deepEqual(label, { name: 'label', datatype: 'INT64', shape: [16], data: classifierCases.label });
    assert.deepEqual(probabilities.shape, [16, 3]);
    classifierCases.probabilities.flat().forEach((p, i) => assert.ok(Math.abs(probabilities.data[i] - p) < 1e-5, `probability ${i}`));
  });

  it('regresses every reference row as XGBoost did, NaN sent as null', async () => {
    const rows = regressorCases.inputs;
    const { status, body } = await postJson(`${srv.url}/v2/models/regressor/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 10], data: rows }],
    });
    assert.equal(status, 200);
    assert.deepEqual(body.outputs[0].shape, [rows.length, 1]);
    regressorCases.variable.forEach((v, i) => {
      const got = body.outputs[0].data[i];
      assert.ok(Math.abs(got - v) <= 1e-5 * Math.max(1, Math.abs(v)), `row ${i}: ${got} vs ${v}`);
    });
  });

  it('returns only the requested outputs, in request order, and echoes the id', async () => {
    const { body } = await postJson(
      `${srv.url}/v2/models/classifier/infer`,
      classifierRequest(classifierCases.inputs.slice(0, 2), {
        id: 'req-42',
        outputs: [{ name: 'probabilities' }, { name: 'label' }],
      }),
    );
    assert.equal(body.id, 'req-42');
    assert.deepEqual(
      body.outputs.map((o: { name: string }) => o.name),
      ['probabilities', 'label'],
    );
    const noId = await postJson(`${srv.url}/v2/models/classifier/infer`, classifierRequest(classifierCases.inputs.slice(0, 1)));
    assert.equal('id' in noId.body, false);
  });

  it('returns binary outputs that equal the JSON ones', async () => {
    const rows = classifierCases.inputs.slice(0, 3);
    const json = await postJson(`${srv.url}/v2/models/classifier/infer`, classifierRequest(rows));
    const input = new Float32Array(rows.flat());
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 4], parameters: { binary_data_size: input.byteLength } }],
        outputs: [
          { name: 'label', parameters: { binary_data: true } },
          { name: 'probabilities', parameters: { binary_data: true } },
        ],
      },
      new Uint8Array(input.buffer),
    );
    const res = await fetch(`${srv.url}/v2/models/classifier/infer`, {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(headerLength), 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const { json: header, binary } = await readInferResponse(res);
    assert.deepEqual(header.outputs[0].parameters, { binary_data_size: 24 });
    assert.deepEqual(header.outputs[1].parameters, { binary_data_size: 36 });
    const labels = new BigInt64Array(binary.buffer.slice(binary.byteOffset, binary.byteOffset + 24));
    const probs = new Float32Array(binary.buffer.slice(binary.byteOffset + 24, binary.byteOffset + 60));
    assert.deepEqual([...labels].map(Number), json.body.outputs[0].data);
    assert.deepEqual([...probs], json.body.outputs[1].data);
  });

  it('answers each error class with the right status and a message naming the problem', async () => {
    const infer = (model: string, body: unknown) => postJson(`${srv.url}/v2/models/${model}/infer`, body);
    const unknownModel = await infer('nope', classifierRequest([[1, 2, 3, 4]]));
    assert.equal(unknownModel.status, 404);
    assert.match(unknownModel.body.error, /unknown model: 'nope'/);
    const unknownVersion = await postJson(`${srv.url}/v2/models/classifier/versions/9/infer`, classifierRequest([[1, 2, 3, 4]]));
    assert.equal(unknownVersion.status, 404);
    assert.match(unknownVersion.body.error, /version 9/);

    const wrongName = await infer('classifier', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    assert.equal(wrongName.status, 400);
    assert.match(wrongName.body.error, /unexpected inference input 'x'.*'input'/);
    const wrongShape = await infer('classifier', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    assert.equal(wrongShape.status, 400);
    assert.match(wrongShape.body.error, /Expected \[-1,4\], got \[1,3\]/);
    const wrongType = await infer('classifier', { inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] }] });
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.body.error, /data-type is 'FP64', but model 'classifier' expects 'FP32'/);
    const wrongCount = await infer('classifier', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4] }] });
    assert.equal(wrongCount.status, 400);
    assert.match(wrongCount.body.error, /needs 8 elements but 'data' holds 4/);
    const missing = await infer('classifier', { inputs: [] });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /missing 'input'/);
    const unknownOutput = await infer('classifier', classifierRequest([[1, 2, 3, 4]], { outputs: [{ name: 'logits' }] }));
    assert.equal(unknownOutput.status, 400);
    assert.match(unknownOutput.body.error, /unexpected inference output 'logits'/);
    const notList = await infer('classifier', { inputs: {} });
    assert.equal(notList.status, 400);
    assert.match(notList.body.error, /"inputs" to be a list/);

    const badJson = await fetch(`${srv.url}/v2/models/classifier/infer`, {
      method: 'POST',
      body: '{"inputs": [',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(badJson.status, 400);
    assert.match((await badJson.json()).error, /not valid JSON/);

    const noRoute = await getJson(`${srv.url}/v2/nothing/here`);
    assert.deepEqual(noRoute, { status: 404, body: { error: 'Not Found' } });
    const explain = await postJson(`${srv.url}/v1/models/classifier:explain`, { instances: [[1, 2, 3, 4]] });
    assert.equal(explain.status, 501);
    assert.match(explain.body.error, /no explainer/);
  });

  it('answers many concurrent requests, each with its own rows', async () => {
    const rows = classifierCases.inputs;
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const row = rows[i % rows.length]!;
        const { status, body } = await postJson(`${srv.url}/v2/models/classifier/infer`, classifierRequest([row], { id: String(i) }));
        return { i, status, id: body.id, label: body.outputs?.[0].data[0] };
      }),
    );
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.id, String(r.i));
      assert.equal(r.label, classifierCases.label[r.i % rows.length]);
    }
  });
});

describe('a model that fails while running', () => {
  it('answers 500 with the runtime message, and keeps serving', async () => {
    const srv = await startTestServer(repoPath('test/fixtures'));
    try {
      // Both inputs are [-1,3], so validation passes; onnxruntime cannot add 2 rows to 3.
      const { status, body } = await postJson(`${srv.url}/v2/models/multi_io/infer`, {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
          { name: 'b', datatype: 'FP32', shape: [3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
        ],
      });
      assert.equal(status, 500);
      assert.match(body.error, /broadcast/i);
      const ok = await postJson(`${srv.url}/v2/models/multi_io/infer`, {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
          { name: 'b', datatype: 'FP32', shape: [1, 3], data: [4, 5, 6] },
        ],
        outputs: [{ name: 'sum' }],
      });
      assert.deepEqual(ok.body.outputs, [{ name: 'sum', datatype: 'FP32', shape: [1, 3], data: [5, 7, 9] }]);
    } finally {
      await srv.close();
    }
  });
});
