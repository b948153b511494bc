/**
 * Native XGBoost models (.json, .ubj) over HTTP, against the outputs xgboost 1.7 itself gave
 * (scripts/fixtures/build_xgboost_fixtures.py): Booster.predict (what xgbserver answers),
 * and the scikit-learn wrapper's labels and probabilities. Every fixture's cases include
 * rows exactly on split thresholds and rows whose NaN takes a split's default direction.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { PREDICTIVE, type Row, assertClose, differingRows, nextFloat32, readCases, v2Request } from './helpers/predictive.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const FIXTURES = readdirSync(repoPath(PREDICTIVE, 'xgboost')).sort();
const CLASSIFIERS = ['binary_logistic', 'multi_softprob', 'multi_softmax'];

async function infer(url: string, model: string, rows: Row[], extra: Record<string, unknown> = {}) {
  const request = rows.length ? v2Request(rows, extra) : extra;
  const { status, body } = await postJson(`${url}/v2/models/${model}/infer`, request);
  assert.equal(status, 200, JSON.stringify(body));
  return body.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
}

describe('XGBoost native models', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath(PREDICTIVE, 'xgboost'));
  });
  after(() => srv.close());

  for (const name of FIXTURES) {
    it(`${name}: output-0 equals Booster.predict, threshold and NaN rows included`, async () => {
      const cases = readCases(`xgboost/${name}`);
      assert.equal((cases['threshold_rows'] as number[]).length, 3);
      assert.equal((cases['nan_rows'] as number[]).length, 3);
      const [out] = await infer(srv.url, name, cases.inputs);
      assert.equal(out!.name, 'output-0');
      assert.equal(out!.shape[0], cases.inputs.length);
      assertClose(out!.data, cases['predict'], `${name} output-0`);
    });
  }

  for (const name of CLASSIFIERS) {
    it(`${name}: label and probabilities by name equal XGBoost's`, async () => {
      const cases = readCases(`xgboost/${name}`);
      const [label, proba] = await infer(srv.url, name, cases.inputs, { outputs: [{ name: 'label' }, { name: 'probabilities' }] });
      assert.deepEqual(label, { name: 'label', datatype: 'INT64', shape: [cases.inputs.length], data: cases['label'] });
      assert.equal(proba!.name, 'probabilities');
      assertClose(proba!.data, cases['proba'], `${name} probabilities`);
    });
  }

  it('answers V1 instances as xgbserver: P(class 1), probability rows, class indices, values', async () => {
    const expectations: Record<string, (c: ReturnType<typeof readCases>) => unknown> = {
      binary_logistic: (c) => c['predict'],
      multi_softprob: (c) => c['predict'],
      multi_softmax: (c) => c['predict'],
      reg_squarederror: (c) => c['predict'],
      rank_ndcg: (c) => c['predict'],
    };
    for (const [name, expected] of Object.entries(expectations)) {
      const cases = readCases(`xgboost/${name}`);
      const { status, body } = await postJson(`${srv.url}/v1/models/${name}:predict`, { instances: cases.inputs });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.predictions.length, cases.inputs.length);
      assertClose(body.predictions, expected(cases), `${name} V1`);
    }
    const softmax = await postJson(`${srv.url}/v1/models/multi_softmax:predict`, {
      instances: readCases('xgboost/multi_softmax').inputs.slice(0, 3),
    });
    assert.ok(
      softmax.body.predictions.every((p: unknown) => typeof p === 'number'),
      'multi:softmax answers one class per row',
    );
  });

  it('switches a classifier between labels and probabilities with predict_proba', async () => {
    const cases = readCases('xgboost/binary_logistic');
    const labels = await postJson(`${srv.url}/v1/models/binary_logistic:predict`, {
      instances: cases.inputs,
      parameters: { predict_proba: false },
    });
    assert.deepEqual(labels.body.predictions, cases['label']);
    const proba = await postJson(`${srv.url}/v1/models/binary_logistic:predict`, {
      instances: cases.inputs,
      parameters: { predict_proba: 'true' },
    });
    assertClose(proba.body.predictions, cases['proba'], 'predict_proba rows');
    const [out] = await infer(srv.url, 'binary_logistic', cases.inputs.slice(0, 2), { parameters: { predict_proba: true } });
    assert.deepEqual(out!.shape, [2, 2]);
    const bad = await postJson(`${srv.url}/v1/models/binary_logistic:predict`, {
      instances: cases.inputs,
      parameters: { predict_proba: 'sometimes' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, `request parameter 'predict_proba' must be true or false, got "sometimes"`);
  });

  it('reports the converted model in metadata', async () => {
    const { body } = await getJson(`${srv.url}/v2/models/multi_softmax`);
    assert.deepEqual(body, {
      name: 'multi_softmax',
      versions: ['1'],
      platform: 'xgboost',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'output-0', datatype: 'FP32', shape: [-1] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    const reg = await getJson(`${srv.url}/v2/models/reg_squarederror`);
    assert.deepEqual(reg.body.outputs, [{ name: 'output-0', datatype: 'FP32', shape: [-1] }]);
  });

  it('accepts FP64 and integer requests as numpy would, and refuses a wrong width', async () => {
    const cases = readCases('xgboost/reg_squarederror');
    const rows = cases.inputs.slice(0, 3);
    const [fp64] = await infer(srv.url, 'reg_squarederror', [], {
      inputs: [{ name: 'input', datatype: 'FP64', shape: [3, 10], data: rows }],
    });
    assertClose(fp64!.data, (cases['predict'] as number[]).slice(0, 3), 'FP64 request');
    const wide = await postJson(`${srv.url}/v2/models/reg_squarederror/infer`, v2Request([[1, 2, 3]]));
    assert.equal(wide.status, 400);
    assert.match(wide.body.error, /unexpected shape for input 'input'.*Expected \[-1,10\], got \[1,3\]/);
  });

  it('maps feature-named columns (content_type pd) and V1 rows keyed by feature name', async () => {
    const names = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];
    const cases = readCases('xgboost/reg_squarederror');
    const rows = cases.inputs.slice(0, 4);
    const expected = (cases['predict'] as number[]).slice(0, 4);
    const columns = [...names]
      .reverse()
      .map((n) => ({ name: n, datatype: 'FP32', shape: [4, 1], data: rows.map((r) => r[names.indexOf(n)]) }));
    const [pd] = await infer(srv.url, 'reg_squarederror', [], { parameters: { content_type: 'pd' }, inputs: columns });
    assertClose(pd!.data, expected, 'pd columns in reverse order');
    const keyed = rows.map((r) => Object.fromEntries(names.map((n, j) => [n, r[j]])));
    const v1 = await postJson(`${srv.url}/v1/models/reg_squarederror:predict`, { instances: keyed });
    assertClose(v1.body.predictions, expected, 'V1 rows keyed by feature');
    // a feature a row leaves out (and another row has) is missing, as NaN is: row 0 has NaN features
    const sparse = Object.fromEntries(names.flatMap((n, j) => (cases.inputs[0]![j] === null ? [] : [[n, cases.inputs[0]![j]]])));
    assert.ok(Object.keys(sparse).length < names.length);
    const missing = await postJson(`${srv.url}/v1/models/reg_squarederror:predict`, { instances: [sparse, keyed[1]] });
    assertClose(missing.body.predictions, expected.slice(0, 2), 'left-out features are missing values');
    const unknown = await postJson(`${srv.url}/v1/models/reg_squarederror:predict`, { instances: [{ ...keyed[0], height: 1 }] });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /unknown column\(s\) 'height' for model 'reg_squarederror'; its features are age, sex/);
  });
});

/** Copies of a model file with a converter mistake built in. */
type Json = Record<string, any>;

function mutateTrees(model: Json, mutate: (tree: Json) => void): Json {
  const copy = structuredClone(model);
  for (const tree of copy.learner.gradient_booster.model.trees) mutate(tree);
  return copy;
}

const XGB_MUTATIONS: Record<string, { rows: string; mutate: (tree: Json) => void }> = {
  // x <= t instead of x < t: for float32 x that is x < nextUp(t)
  less_or_equal: {
    rows: 'threshold_rows',
    mutate: (t) =>
      (t.split_conditions = t.split_conditions.map((c: number, i: number) => (t.left_children[i] === -1 ? c : nextFloat32(c, 1)))),
  },
  // missing values routed against default_left
  flipped_default_left: { rows: 'nan_rows', mutate: (t) => (t.default_left = t.default_left.map((d: number) => 1 - d)) },
};

describe('XGBoost negative controls and best_iteration', () => {
  let repo: TempRepo;
  let srv: TestServer;
  const model = JSON.parse(readFileSync(repoPath(PREDICTIVE, 'xgboost/binary_logistic/model.json'), 'utf8')) as Json;
  before(async () => {
    repo = await tempRepo();
    for (const [name, { mutate }] of Object.entries(XGB_MUTATIONS))
      await repo.write(`${name}/model.json`, JSON.stringify(mutateTrees(model, mutate)));
    // leaf values read from base_weights (before the learning rate) instead of split_conditions
    await repo.write(
      'base_weights/model.json',
      JSON.stringify(
        mutateTrees(model, (t) => {
          t.split_conditions = t.split_conditions.map((c: number, i: number) => (t.left_children[i] === -1 ? t.base_weights[i] : c));
        }),
      ),
    );
    await repo.copy(`${PREDICTIVE}/xgboost/binary_best_iteration/model.json`, 'best/model.json');
    await repo.write('best/config.pbtxt', 'parameters { key: "use_best_iteration" value: { string_value: "true" } }\n');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  const cases = readCases('xgboost/binary_logistic');
  const clean = cases.inputs.map((r, i) => (r.includes(null) ? -1 : i)).filter((i) => i >= 0);

  for (const [name, { rows }] of Object.entries(XGB_MUTATIONS)) {
    it(`${name}: every one of the ${rows} exposes the mistake`, async () => {
      const [out] = await infer(srv.url, name, cases.inputs);
      const wrong = differingRows(out!.data, cases['predict'] as unknown[]);
      for (const i of cases[rows] as number[]) assert.ok(wrong.includes(i), `row ${i} did not change`);
      if (name === 'flipped_default_left')
        assert.ok(
          clean.every((i) => !wrong.includes(i)),
          'rows without NaN are unaffected',
        );
    });
  }

  it('base_weights as leaf values: every row is wrong', async () => {
    const [out] = await infer(srv.url, 'base_weights', cases.inputs);
    assert.equal(differingRows(out!.data, cases['predict'] as unknown[]).length, cases.inputs.length);
  });

  it('predicts with every tree by default, as Booster.predict (xgbserver) does', async () => {
    const best = readCases('xgboost/binary_best_iteration');
    const direct = await startTestServer(repoPath(PREDICTIVE, 'xgboost'));
    try {
      const [out] = await infer(direct.url, 'binary_best_iteration', best.inputs);
      assertClose(out!.data, best['predict'], 'all trees');
    } finally {
      await direct.close();
    }
  });

  it('predicts up to best_iteration with use_best_iteration, as the scikit-learn wrapper does', async () => {
    const best = readCases('xgboost/binary_best_iteration');
    const [out, label, proba] = await infer(srv.url, 'best', best.inputs, {
      outputs: [{ name: 'output-0' }, { name: 'label' }, { name: 'probabilities' }],
    });
    assertClose(out!.data, best['predict_best'], 'up to best_iteration');
    assert.deepEqual(label!.data, best['label_best']);
    assertClose(proba!.data, best['proba_best'], 'wrapper predict_proba');
  });
});

describe('XGBoost files: formats, unsupported features, corrupt files', () => {
  let repo: TempRepo;
  let srv: TestServer;
  const unsupported = ['dart', 'gblinear', 'categorical'];
  before(async () => {
    repo = await tempRepo();
    for (const name of unsupported) await repo.copy(`${PREDICTIVE}/xgboost-unsupported/${name}/model.json`, `${name}/model.json`);
    await repo.copy(`${PREDICTIVE}/xgboost-unsupported/legacy_binary/model.bst`, 'legacy/model.bst');
    await repo.copy(`${PREDICTIVE}/xgboost/binary_logistic/model.json`, 'json_as_bst/model.bst');
    await repo.copy(`${PREDICTIVE}/xgboost/multi_softprob/model.ubj`, 'ubj_as_bst/model.bst');
    const json = readFileSync(repoPath(PREDICTIVE, 'xgboost/binary_logistic/model.json'), 'utf8');
    await repo.write('truncated_json/model.json', json.slice(0, json.length / 2));
    const ubj = readFileSync(repoPath(PREDICTIVE, 'xgboost/reg_squarederror/model.ubj'));
    await repo.write('truncated_ubj/model.ubj', ubj.subarray(0, 3000));
    await repo.write('bad_feature/model.json', json.replace(/"split_indices":\[\d+/, '"split_indices":[99'));
    await repo.write('unknown_objective/model.json', json.replace('"name":"binary:logistic"', '"name":"survival:aft"'));
    await repo.write('multi_target/model.json', json.replace('"num_target":"1"', '"num_target":"2"'));
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('reads a .bst that holds JSON or UBJSON, as XGBoost does', async () => {
    const binary = readCases('xgboost/binary_logistic');
    const [a] = await infer(srv.url, 'json_as_bst', binary.inputs);
    assertClose(a!.data, binary['predict'], '.bst holding JSON');
    const multi = readCases('xgboost/multi_softprob');
    const [b] = await infer(srv.url, 'ubj_as_bst', multi.inputs);
    assertClose(b!.data, multi['predict'], '.bst holding UBJSON');
  });

  const reasons: Record<string, RegExp> = {
    dart: /booster 'dart' is not supported: tsserve converts gbtree models only/,
    gblinear: /booster 'gblinear' is not supported/,
    categorical: /node 0 is a categorical split \(feature 2\), which tsserve does not convert/,
    legacy:
      /'model.bst' is in XGBoost's deprecated binary format.*bst = xgboost.Booster\(model_file='model.bst'\); bst.save_model\('model.json'\)/,
    truncated_json: /'model.json' is not a valid XGBoost JSON model/,
    truncated_ubj: /'model.ubj' is not a valid XGBoost UBJSON model: unexpected end of data/,
    bad_feature: /model.learner.gradient_booster.model.trees\[0\]: node 0 splits on feature 99, but the model has 8/,
    unknown_objective: /objective 'survival:aft' is not supported; supported: binary:logistic, multi:softprob/,
    multi_target: /multi-target models \(num_target > 1, vector leaves\) are not supported/,
  };
  for (const [name, reason] of Object.entries(reasons)) {
    it(`refuses ${name} at load with a clear reason, and keeps serving`, async () => {
      const { status, body } = await getJson(`${srv.url}/v2/models/${name}`);
      assert.equal(status, 503);
      assert.match(body.error, reason);
      const index = await postJson(`${srv.url}/v2/repository/index`, {});
      const entry = index.body.find((e: { name: string }) => e.name === name);
      assert.equal(entry.state, 'UNAVAILABLE');
      assert.match(entry.reason, reason);
    });
  }
});
