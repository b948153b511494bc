/**
 * LightGBM text models over HTTP. LightGBM is not packaged for Debian, so the fixtures are
 * written by scripts/fixtures/build_lightgbm_fixtures.py in LightGBM's documented format, with
 * reference outputs from that script's evaluator. Every served prediction is checked against
 * those outputs and against test/helpers/lightgbm-eval.ts, a second evaluator written here;
 * the two evaluators must also agree with each other. The tiny model is checked by hand.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type EvalModel, parseModel, predict } from './helpers/lightgbm-eval.js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { PREDICTIVE, type Row, assertClose, differingRows, readCases, v2Request } from './helpers/predictive.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const FIXTURES = readdirSync(repoPath(PREDICTIVE, 'lightgbm')).sort();
const modelText = (name: string) => readFileSync(repoPath(PREDICTIVE, 'lightgbm', name, 'model.txt'), 'utf8');
const rowsOf = (inputs: Row[]) => inputs.map((r) => r.map((v) => (v === null ? NaN : v)));

function evaluate(model: EvalModel, inputs: Row[]): number[][] {
  return rowsOf(inputs).map((x) => predict(model, x));
}

/** The served output-0 of FP64 rows, as rows of numbers. */
async function served(url: string, model: string, inputs: Row[]): Promise<number[][]> {
  const { status, body } = await postJson(`${url}/v2/models/${model}/infer`, v2Request(inputs, {}, 'FP64'));
  assert.equal(status, 200, JSON.stringify(body));
  const out = body.outputs[0];
  assert.equal(out.name, 'output-0');
  const width = out.shape[1] ?? 1;
  return inputs.map((_, i) => out.data.slice(i * width, (i + 1) * width));
}

describe('LightGBM text models', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath(PREDICTIVE, 'lightgbm'));
  });
  after(() => srv.close());

  for (const name of FIXTURES) {
    it(`${name}: served output-0 equals both reference evaluators, edge rows included`, async () => {
      const cases = readCases(`lightgbm/${name}`);
      const ours = evaluate(parseModel(modelText(name)), cases.inputs);
      // the two evaluators agree to double precision
      assertClose(ours, cases['predict'], `${name} TypeScript vs Python evaluator`, 1e-12);
      const got = await served(srv.url, name, cases.inputs);
      assertClose(got, cases['predict'], `${name} served vs Python evaluator`);
      assertClose(got, ours, `${name} served vs TypeScript evaluator`);
      for (const key of ['threshold_rows', 'nan_rows', 'zero_rows', 'float32_rows']) {
        assert.ok(Array.isArray(cases[key]), `${name}: cases list ${key}`);
      }
    });
  }

  it('matches the tiny model computed by hand', async () => {
    // Tree 0: x0 <= 0.5 (NaN left) ? 0.4 : (x1 <= -1.25 (NaN as 0) ? -0.3 : 0.1)
    // Tree 1: x1 zero or NaN -> default right; else x1 <= 2 ? 0.2 : -0.2
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const rows: Row[] = [
      [0.5, 2.25],
      [0.6, -1.25],
      [0.6, 0],
      [null, 1],
      [1, null],
      [0.50000001, -1.2499999],
    ];
    const expected = [0.4 - 0.2, -0.3 + 0.2, 0.1 - 0.2, 0.4 + 0.2, 0.1 - 0.2, 0.1 + 0.2].map(sigmoid);
    assertClose(await served(srv.url, 'tiny_binary', rows), expected, 'tiny_binary by hand');
  });

  it('answers V1 instances as lgbserver does: P(class 1) for binary, probability rows for multiclass', async () => {
    const binary = readCases('lightgbm/binary');
    const v1 = await postJson(`${srv.url}/v1/models/binary:predict`, { instances: binary.inputs.slice(0, 5) });
    assert.equal(v1.status, 200);
    assert.equal(v1.body.predictions.length, 5);
    assertClose(v1.body.predictions, (binary['predict'] as number[]).slice(0, 5), 'binary V1');
    const multi = readCases('lightgbm/multiclass');
    const m = await postJson(`${srv.url}/v1/models/multiclass:predict`, { instances: multi.inputs.slice(0, 3) });
    assert.equal(m.body.predictions.length, 3);
    assert.equal(m.body.predictions[0].length, 3);
    assertClose(m.body.predictions, (multi['predict'] as number[][]).slice(0, 3), 'multiclass V1');
    const reg = readCases('lightgbm/regression');
    const r = await postJson(`${srv.url}/v1/models/regression:predict`, { instances: reg.inputs.slice(0, 4) });
    assertClose(r.body.predictions, (reg['predict'] as number[]).slice(0, 4), 'regression V1 (a flat list)');
  });

  it('gives labels or probabilities per request with predict_proba', async () => {
    const multi = readCases('lightgbm/multiclass');
    const rows = multi.inputs.slice(0, 6);
    const probs = multi['predict'] as number[][];
    const labels = rows.map((_, i) => probs[i]!.indexOf(Math.max(...probs[i]!)));
    const asLabels = await postJson(`${srv.url}/v1/models/multiclass:predict`, { instances: rows, parameters: { predict_proba: false } });
    assert.deepEqual(asLabels.body.predictions, labels);
    const binary = readCases('lightgbm/binary');
    const asProba = await postJson(
      `${srv.url}/v2/models/binary/infer`,
      v2Request(binary.inputs.slice(0, 2), { parameters: { predict_proba: true } }, 'FP64'),
    );
    const p = binary['predict'] as number[];
    assert.deepEqual(asProba.body.outputs[0].shape, [2, 2]);
    assertClose(asProba.body.outputs[0].data, [1 - p[0]!, p[0]!, 1 - p[1]!, p[1]!], 'binary predict_proba');
  });

  it('answers an empty batch with empty outputs of the declared widths', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/multiclass/infer`, {
      inputs: [{ name: 'input', datatype: 'FP64', shape: [0, 4], data: [] }],
      outputs: [{ name: 'output-0' }, { name: 'label' }, { name: 'probabilities' }],
    });
    assert.equal(status, 200);
    assert.deepEqual(
      body.outputs.map((o: { shape: number[]; data: unknown[] }) => [o.shape, o.data]),
      [
        [[0, 3], []],
        [[0], []],
        [[0, 3], []],
      ],
    );
  });

  it('reports float64 input and KServe-style outputs in metadata', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/multiclass`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      name: 'multiclass',
      versions: ['1'],
      platform: 'lightgbm',
      inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, 4] }],
      outputs: [
        { name: 'output-0', datatype: 'FP32', shape: [-1, 3] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
  });

  it('converts FP32 and INT64 requests to the model float64 input, as numpy would', async () => {
    const rows = [[1, -2, 0, 2]];
    const expected = evaluate(parseModel(modelText('regression')), rows);
    for (const datatype of ['FP32', 'INT64']) {
      const { status, body } = await postJson(`${srv.url}/v2/models/regression/infer`, v2Request(rows, {}, datatype));
      assert.equal(status, 200, JSON.stringify(body));
      assertClose(body.outputs[0].data, expected, `regression from ${datatype}`);
    }
    const bytes = await postJson(`${srv.url}/v2/models/regression/infer`, {
      inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 4], data: ['1', '2', '3', '4'] }],
    });
    assert.equal(bytes.status, 400);
    assert.match(bytes.body.error, /'BYTES', but model 'regression' expects 'FP64'/);
  });

  it('maps named columns to features with content_type pd, and V1 rows keyed by feature', async () => {
    const rows = [
      [0.5, -1, 2, 0.25],
      [1.5, 0, -2, 1],
    ];
    const expected = evaluate(parseModel(modelText('regression')), rows);
    const names = ['temp', 'humidity', 'wind', 'pressure'];
    const columns = [3, 1, 0, 2].map((j) => ({ name: names[j], datatype: 'FP64', shape: [2], data: rows.map((r) => r[j]) }));
    const pd = await postJson(`${srv.url}/v2/models/regression/infer`, { parameters: { content_type: 'pd' }, inputs: columns });
    assert.equal(pd.status, 200, JSON.stringify(pd.body));
    assertClose(pd.body.outputs[0].data, expected, 'pd columns');
    const keyed = rows.map((r) => Object.fromEntries(names.map((n, j) => [n, r[j]])));
    const v1 = await postJson(`${srv.url}/v1/models/regression:predict`, { instances: keyed });
    assertClose(v1.body.predictions, expected, 'V1 rows keyed by feature name');
    const missing = await postJson(`${srv.url}/v2/models/regression/infer`, {
      parameters: { content_type: 'pd' },
      inputs: columns.slice(1),
    });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /missing column\(s\) 'pressure'/);
  });
});

/** Mutations that emulate a converter bug, and the fixture rows that must expose each. */
function mapValues(text: string, key: string, f: (v: number) => number): string {
  return text
    .split('\n')
    .map((line) =>
      line.startsWith(`${key}=`) && line.length > key.length + 1
        ? `${key}=${line
            .slice(key.length + 1)
            .split(' ')
            .map((v) => String(f(Number(v))))
            .join(' ')}`
        : line,
    )
    .join('\n');
}

function previousDouble(t: number): number {
  const f = new Float64Array([t]);
  const bits = new BigInt64Array(f.buffer);
  if (t === 0) return -Number.MIN_VALUE;
  bits[0]! += t > 0 ? -1n : 1n;
  return f[0]!;
}

const MUTATIONS: Record<string, { rows: string; mutate: (text: string) => string }> = {
  // default_left ignored: NaN (and Zero-type zeros) take the other side
  flipped_default_left: { rows: 'nan_rows', mutate: (t) => mapValues(t, 'decision_type', (d) => d ^ 2) },
  // x < threshold instead of x <= threshold
  strict_less: { rows: 'threshold_rows', mutate: (t) => mapValues(t, 'threshold', previousDouble) },
  // missing type Zero read as None: zeros compared instead of sent to the default side
  zero_as_none: { rows: 'zero_rows', mutate: (t) => mapValues(t, 'decision_type', (d) => (((d >> 2) & 3) === 1 ? d & ~12 : d)) },
  // thresholds rounded to float32, as a float graph would hold them
  float32_thresholds: { rows: 'float32_rows', mutate: (t) => mapValues(t, 'threshold', Math.fround) },
};

describe('LightGBM negative controls: the fixtures catch each converter mistake', () => {
  let repo: TempRepo;
  let srv: TestServer;
  const models = ['binary', 'multiclass'];
  before(async () => {
    repo = await tempRepo();
    for (const m of models) {
      for (const [mutation, { mutate }] of Object.entries(MUTATIONS)) await repo.write(`${m}_${mutation}/model.txt`, mutate(modelText(m)));
    }
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  for (const m of models) {
    for (const [mutation, { rows, mutate }] of Object.entries(MUTATIONS)) {
      it(`${m}, ${mutation}: the ${rows} no longer match the reference`, async () => {
        const cases = readCases(`lightgbm/${m}`);
        const edge = cases[rows] as number[];
        const got = await served(srv.url, `${m}_${mutation}`, cases.inputs);
        // the server follows the mutated model faithfully...
        assertClose(got, evaluate(parseModel(mutate(modelText(m))), cases.inputs), 'mutated model vs evaluator');
        // ...and the reference rows of this behaviour expose the mutation
        const wrong = differingRows(got, cases['predict'] as unknown[]);
        assert.ok(
          edge.some((i) => wrong.includes(i)),
          `${mutation} changed none of rows ${edge}`,
        );
      });
    }
  }
});

describe('LightGBM files: lgbserver .bst, unsupported features, corrupt files', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.write('lgb_bst/model.bst', modelText('tiny_binary'));
    for (const name of ['categorical', 'linear_tree', 'regression_sqrt']) {
      await repo.copy(`${PREDICTIVE}/lightgbm-unsupported/${name}/model.txt`, `${name}/model.txt`);
    }
    const text = modelText('binary');
    await repo.write('truncated/model.txt', text.slice(0, text.indexOf('Tree=3')));
    await repo.write('bad_number/model.txt', text.replace(/threshold=\S+/, 'threshold=abc'));
    await repo.write('bad_child/model.txt', text.replace(/left_child=\S+/, 'left_child=40'));
    await repo.write('xentlambda/model.txt', text.replace(/objective=.*/, 'objective=cross_entropy_lambda'));
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it("serves lgbserver's model.bst holding the text format", async () => {
    const rows: Row[] = [[0.5, 2.25]];
    const { body } = await getJson(`${srv.url}/v2/models/lgb_bst`);
    assert.equal(body.platform, 'lightgbm');
    assertClose(await served(srv.url, 'lgb_bst', rows), [1 / (1 + Math.exp(-0.2))], 'model.bst');
  });

  const reasons: Record<string, RegExp> = {
    categorical: /Tree=0 has categorical splits \(num_cat=1\), which tsserve does not convert/,
    linear_tree: /Tree=0 is a linear tree/,
    regression_sqrt: /objective 'regression sqrt' is not supported: the sqrt transform/,
    truncated: /truncated: no 'end of trees' line/,
    bad_number: /Tree=0 threshold: 'abc' is not a number/,
    bad_child: /tree 0 refers to node 40, which does not exist/,
    xentlambda: /objective 'cross_entropy_lambda' is not supported; supported: binary, multiclass/,
  };
  for (const [name, reason] of Object.entries(reasons)) {
    it(`refuses ${name} at load with a clear reason, and keeps serving`, async () => {
      const { status, body } = await getJson(`${srv.url}/v2/models/${name}/ready`);
      assert.equal(status, 503);
      assert.match(body.error, reason);
      const infer = await postJson(`${srv.url}/v2/models/${name}/infer`, v2Request([[1, 2]], {}, 'FP64'));
      assert.equal(infer.status, 503);
      assert.equal((await getJson(`${srv.url}/v2/health/live`)).status, 200);
    });
  }
});
