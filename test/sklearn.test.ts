/**
 * scikit-learn models exported to ONNX with sklearn-onnx's conventions (float_input;
 * output_label and a ZipMap output_probability), over HTTP, against scikit-learn's own
 * predict / predict_proba (scripts/fixtures/build_sklearn_fixtures.py).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { PREDICTIVE, assertClose, readCases, v2Request } from './helpers/predictive.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const SKLEARN = repoPath(PREDICTIVE, 'sklearn');
const FIXTURES = readdirSync(SKLEARN).sort();
const isClassifier = (name: string) => 'label' in readCases(`sklearn/${name}`);
const CLASSIFIERS = FIXTURES.filter(isClassifier);
const REGRESSORS = FIXTURES.filter((n) => !isClassifier(n));
const inputName = (name: string) => (name === 'linear_regression' ? 'input' : 'float_input');

function request(name: string, rows: (number | null)[][], extra: Record<string, unknown> = {}) {
  return v2Request(rows, extra, 'FP32', inputName(name));
}

describe('scikit-learn ONNX models under --framework sklearn', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(SKLEARN, { framework: 'sklearn' });
  });
  after(() => srv.close());

  for (const name of CLASSIFIERS) {
    it(`${name}: V1 predictions are scikit-learn's labels, exactly and of the same type`, async () => {
      const cases = readCases(`sklearn/${name}`);
      const { status, body } = await postJson(`${srv.url}/v1/models/${name}:predict`, { instances: cases.inputs });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body, { predictions: cases['label'] });
    });

    it(`${name}: predict_proba answers scikit-learn's probabilities; label and probabilities by name`, async () => {
      const cases = readCases(`sklearn/${name}`);
      const proba = await postJson(`${srv.url}/v1/models/${name}:predict`, {
        instances: cases.inputs,
        parameters: { predict_proba: true },
      });
      assertClose(proba.body.predictions, cases['proba'], `${name} predict_proba`);
      const { body } = await postJson(
        `${srv.url}/v2/models/${name}/infer`,
        request(name, cases.inputs, { outputs: [{ name: 'probabilities' }, { name: 'label' }] }),
      );
      const [probabilities, label] = body.outputs;
      assert.deepEqual(probabilities.shape, [cases.inputs.length, (cases['proba'] as number[][])[0]!.length]);
      assertClose(probabilities.data, cases['proba'], `${name} probabilities`);
      assert.deepEqual(label.data, cases['label']);
    });
  }

  for (const name of REGRESSORS) {
    it(`${name}: V1 predictions are scikit-learn's values, one number per row`, async () => {
      const cases = readCases(`sklearn/${name}`);
      const { status, body } = await postJson(`${srv.url}/v1/models/${name}:predict`, { instances: cases.inputs });
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(body.predictions.every((p: unknown) => typeof p === 'number'));
      assertClose(body.predictions, cases['value'], `${name} V1`);
    });
  }

  it('answers a v2 request with output-0 only, as KServe does', async () => {
    const cases = readCases('sklearn/logreg_iris_strings');
    const { body } = await postJson(`${srv.url}/v2/models/logreg_iris_strings/infer`, request('logreg_iris_strings', cases.inputs));
    assert.deepEqual(body.outputs, [{ name: 'output-0', datatype: 'BYTES', shape: [cases.inputs.length], data: cases['label'] }]);
    const reg = readCases('sklearn/random_forest_regressor');
    const r = await postJson(`${srv.url}/v2/models/random_forest_regressor/infer`, request('random_forest_regressor', reg.inputs));
    assert.deepEqual(
      r.body.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]),
      [['output-0', [reg.inputs.length]]],
    );
    assertClose(r.body.outputs[0].data, reg['value'], 'regressor output-0');
  });

  it('reports sklearn-onnx inputs and the KServe outputs in metadata', async () => {
    const { body } = await getJson(`${srv.url}/v2/models/random_forest_iris`);
    assert.deepEqual(body, {
      name: 'random_forest_iris',
      versions: ['1'],
      platform: 'sklearn',
      inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'output-0', datatype: 'INT64', shape: [-1] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    const lin = await getJson(`${srv.url}/v2/models/linear_regression`);
    assert.deepEqual(lin.body.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 10] }]);
    assert.deepEqual(lin.body.outputs, [{ name: 'output-0', datatype: 'FP32', shape: [-1] }]);
  });

  it("takes the one input whatever its name, as KServe's examples send 'input-0'", async () => {
    const cases = readCases('sklearn/logreg_binary');
    const { status, body } = await postJson(`${srv.url}/v2/models/logreg_binary/infer`, {
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [cases.inputs.length, 8], data: cases.inputs }],
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.outputs[0].data, cases['label']);
    const two = await postJson(`${srv.url}/v2/models/logreg_binary/infer`, {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 8], data: cases.inputs[0] },
        { name: 'b', datatype: 'FP32', shape: [1, 8], data: cases.inputs[0] },
      ],
    });
    assert.equal(two.status, 400);
    assert.match(two.body.error, /unexpected inference input 'a' for model 'logreg_binary'; it expects 'float_input'/);
  });

  it('takes FP64 and INT64 rows, converted to the float input', async () => {
    const cases = readCases('sklearn/random_forest_iris');
    const rows = cases.inputs.slice(0, 3);
    for (const datatype of ['FP64', 'INT32']) {
      const data = datatype === 'INT32' ? rows.map((r) => r.map((v) => Math.round(v!))) : rows;
      const { status, body } = await postJson(
        `${srv.url}/v2/models/random_forest_iris/infer`,
        v2Request(data, {}, datatype, 'float_input'),
      );
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.outputs[0].datatype, 'INT64');
    }
    const fp64 = await postJson(`${srv.url}/v2/models/random_forest_iris/infer`, v2Request(rows, {}, 'FP64', 'float_input'));
    assert.deepEqual(fp64.body.outputs[0].data, (cases['label'] as number[]).slice(0, 3));
  });
});

describe('scikit-learn ONNX models on the plain onnx runtime', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(SKLEARN);
  });
  after(() => srv.close());

  it('serves ZipMap outputs as probability tensors, under their own names', async () => {
    const cases = readCases('sklearn/gradient_boosting_iris_strings');
    const meta = await getJson(`${srv.url}/v2/models/gradient_boosting_iris_strings`);
    assert.equal(meta.body.platform, 'onnxruntime_onnx');
    assert.deepEqual(meta.body.outputs, [
      { name: 'output_label', datatype: 'BYTES', shape: [-1] },
      { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
    ]);
    const { body } = await postJson(`${srv.url}/v2/models/gradient_boosting_iris_strings/infer`, request('x', cases.inputs));
    const [label, probability] = body.outputs;
    assert.deepEqual(label.data, cases['label']);
    assertClose(probability.data, cases['proba'], 'output_probability');
  });

  it("labels a binary random forest as scikit-learn's predict does, rows of both classes (onnxruntime's P(1) > 0.5)", async () => {
    const cases = readCases('sklearn/random_forest_binary');
    const labels = cases['label'] as number[];
    const proba = cases['proba'] as number[][];
    assert.deepEqual([...new Set(labels)].sort(), [0, 1]);
    // class-0 rows that some tree votes 1 for: a graph labelling by P(1) > 0 calls them 1
    assert.ok(
      labels.some((l, i) => l === 0 && proba[i]![1]! > 0),
      'cases lack doubtful class-0 rows',
    );
    const { status, body } = await postJson(`${srv.url}/v2/models/random_forest_binary/infer`, request('x', cases.inputs));
    assert.equal(status, 200, JSON.stringify(body));
    const [label, probability] = body.outputs;
    assert.equal(label.name, 'output_label');
    assert.deepEqual(label.data, labels);
    assertClose(probability.data, proba, 'output_probability');
  });

  it('still picks the sklearn runtime where config.pbtxt names it', async () => {
    const { body } = await getJson(`${srv.url}/v2/models/logreg_binary`);
    assert.equal(body.platform, 'sklearn');
  });
});

describe('PREDICT_PROBA and the predict_proba model parameter', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(`${PREDICTIVE}/sklearn/random_forest_iris/model.onnx`, 'proba/model.onnx');
    await repo.copy(`${PREDICTIVE}/sklearn/random_forest_iris/model.onnx`, 'labels/model.onnx');
    await repo.write('labels/config.pbtxt', 'parameters { key: "predict_proba" value: { string_value: "false" } }\n');
    await repo.copy(`${PREDICTIVE}/sklearn/random_forest_regressor/model.onnx`, 'regressor/model.onnx');
    await repo.write('pickle/model.joblib', 'not really a pickle');
    await repo.write('bad_param/config.pbtxt', 'parameters { key: "predict_proba" value: { string_value: "often" } }\n');
    await repo.copy(`${PREDICTIVE}/sklearn/random_forest_iris/model.onnx`, 'bad_param/model.onnx');
    srv = await startTestServer(repo.dir, { framework: 'sklearn', predict_proba: true });
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('answers probabilities by default when PREDICT_PROBA is set, labels when the request says false', async () => {
    const cases = readCases('sklearn/random_forest_iris');
    const proba = await postJson(`${srv.url}/v1/models/proba:predict`, { instances: cases.inputs });
    assertClose(proba.body.predictions, cases['proba'], 'PREDICT_PROBA default');
    const labels = await postJson(`${srv.url}/v1/models/proba:predict`, { instances: cases.inputs, parameters: { predict_proba: false } });
    assert.deepEqual(labels.body.predictions, cases['label']);
    const meta = await getJson(`${srv.url}/v2/models/proba`);
    assert.deepEqual(meta.body.outputs[0], { name: 'output-0', datatype: 'FP32', shape: [-1, 3] });
  });

  it("lets a model's config.pbtxt override PREDICT_PROBA", async () => {
    const cases = readCases('sklearn/random_forest_iris');
    const { body } = await postJson(`${srv.url}/v1/models/labels:predict`, { instances: cases.inputs });
    assert.deepEqual(body.predictions, cases['label']);
  });

  it('leaves regressors alone', async () => {
    const cases = readCases('sklearn/random_forest_regressor');
    const { body } = await postJson(`${srv.url}/v1/models/regressor:predict`, {
      instances: cases.inputs,
      parameters: { predict_proba: true },
    });
    assertClose(body.predictions, cases['value'], 'regressor');
  });

  it('explains that a pickled model needs exporting to ONNX', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/pickle`);
    assert.equal(status, 503);
    assert.match(
      body.error,
      /'model.joblib' is a pickled scikit-learn model, which only Python can load\. Export it to ONNX with skl2onnx/,
    );
  });

  it('refuses a model parameter predict_proba that is not a boolean', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/bad_param`);
    assert.equal(status, 503);
    assert.match(body.error, /model parameter 'predict_proba' must be true or false, got "often"/);
  });
});
