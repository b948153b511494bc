/**
 * How a model finds its runtime: KServe's --framework (and PREDICT_PROBA) on the command line,
 * config.pbtxt's platform/backend, file extensions, and file contents where formats share an
 * extension (.json, .txt, .bst), in both of KServe's and Triton's directory layouts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { PREDICTIVE, assertClose, readCases } from './helpers/predictive.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const CLI = repoPath('dist/src/cli.js');
const RF_IRIS = `${PREDICTIVE}/sklearn/random_forest_iris/model.onnx`;
const XGB_JSON = `${PREDICTIVE}/xgboost/binary_logistic/model.json`;
const XGB_UBJ = `${PREDICTIVE}/xgboost/multi_softprob/model.ubj`;
const LGB_TEXT = `${PREDICTIVE}/lightgbm/tiny_binary/model.txt`;

function serve(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line);
      if (entry.msg === 'tsserve is serving') resolve({ child, port: entry.httpPort });
    });
    child.on('exit', (code) => reject(new Error(`tsserve exited with ${code}`)));
  });
}

describe('the command line as kserve-predictiveserver passes it', () => {
  it('serves the one model file with --framework sklearn and PREDICT_PROBA=true', async () => {
    const repo = await tempRepo();
    await repo.copy(RF_IRIS, 'model.onnx');
    const { child, port } = await serve(
      ['--model_name=iris', `--model_dir=${repo.dir}`, '--framework=sklearn', '--nthread=1', '--http_port=0', '--host=127.0.0.1'],
      { PREDICT_PROBA: 'true' },
    );
    try {
      const cases = readCases('sklearn/random_forest_iris');
      const { body } = await postJson(`http://127.0.0.1:${port}/v1/models/iris:predict`, { instances: cases.inputs });
      assertClose(body.predictions, cases['proba'], 'probabilities by default');
    } finally {
      child.kill('SIGTERM');
      await repo.remove();
    }
  });

  it('refuses an unknown --framework, naming the ones it knows', () => {
    const out = spawnSync(process.execPath, [CLI, '--model_dir', repoPath('models'), '--framework', 'pytorch', '--http_port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, TSSERVE_LOG_LEVEL: 'info' },
    });
    assert.equal(out.status, 1);
    assert.match(out.stdout, /--framework 'pytorch' is not one of onnx, sklearn, xgboost, lightgbm, huggingface/);
  });

  it('lists --framework and --predict_proba with their environment variables in --help', () => {
    const out = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.match(out.stdout, /--framework .*env TSSERVE_FRAMEWORK/);
    assert.match(out.stdout, /--predict_proba .*env TSSERVE_PREDICT_PROBA, PREDICT_PROBA/);
  });
});

describe('one model file at the top of model_dir', () => {
  it("recognises lgbserver's model.bst by its content, beside files that only share an extension", async () => {
    const repo = await tempRepo();
    await repo.copy(LGB_TEXT, 'model.bst');
    await repo.write('README.txt', 'trained on 2024-01-01\n');
    await repo.write('config.json', '{"threshold": 0.5}');
    const srv = await startTestServer(repo.dir, { model_name: 'lgb' });
    try {
      const { body } = await getJson(`${srv.url}/v2/models/lgb`);
      assert.equal(body.platform, 'lightgbm');
      const v1 = await postJson(`${srv.url}/v1/models/lgb:predict`, { instances: [[0.5, 2.25]] });
      assertClose(v1.body.predictions, [1 / (1 + Math.exp(-0.2))], 'model.bst');
    } finally {
      await srv.close();
      await repo.remove();
    }
  });

  it('refuses two model files, as KServe does', async () => {
    const repo = await tempRepo();
    await repo.copy(XGB_JSON, 'model.json');
    await repo.copy(XGB_UBJ, 'model.ubj');
    try {
      await assert.rejects(startTestServer(repo.dir), /more than one model file in .*: model.json, model.ubj/);
    } finally {
      await repo.remove();
    }
  });
});

describe('model folders: config.pbtxt names, versions, --framework', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(XGB_UBJ, 'named_xgb/model.ubj');
    await repo.write('named_xgb/config.pbtxt', 'backend: "xgboost"\n');
    await repo.copy(LGB_TEXT, 'named_lgb/model.bst');
    await repo.write('named_lgb/config.pbtxt', 'platform: "lightgbm"\n');
    await repo.copy(RF_IRIS, 'named_onnx/model.onnx');
    await repo.write('named_onnx/config.pbtxt', 'backend: "onnxruntime"\n');
    await repo.copy(RF_IRIS, 'fil/model.onnx');
    await repo.write('fil/config.pbtxt', 'backend: "fil"\n');
    await repo.copy(XGB_JSON, 'versions/1/model.json');
    await repo.copy(XGB_UBJ, 'versions/2/model.ubj');
    await repo.write('versions/config.pbtxt', 'version_policy: { all: {} }\n');
    await repo.copy(XGB_JSON, 'with_cases/model.json');
    await repo.copy(`${PREDICTIVE}/xgboost/binary_logistic/cases.json`, 'with_cases/cases.json');
    await repo.copy('bench/models/trees/1/model.onnx', 'xgb_onnx/model.onnx');
    await repo.write('xgb_onnx/config.pbtxt', 'backend: "xgboost"\n');
    await repo.copy(RF_IRIS, 'lgb_onnx/model.onnx');
    await repo.write('lgb_onnx/config.pbtxt', 'backend: "lightgbm"\n');
    await repo.write('corrupt_onnx/model.onnx', 'this is not protobuf');
    await repo.write('corrupt_onnx/config.pbtxt', 'backend: "sklearn"\n');
    await repo.copy(XGB_JSON, 'wrong_format/model.json');
    await repo.write('wrong_format/config.pbtxt', 'backend: "lightgbm"\n');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('picks the runtime config.pbtxt names, whatever the file is called', async () => {
    const platforms = await Promise.all(
      ['named_xgb', 'named_lgb', 'named_onnx'].map(async (m) => (await getJson(`${srv.url}/v2/models/${m}`)).body.platform),
    );
    assert.deepEqual(platforms, ['xgboost', 'lightgbm', 'onnxruntime_onnx']);
  });

  it('serves native XGBoost files in Triton version folders', async () => {
    const v1 = readCases('xgboost/binary_logistic');
    const v2 = readCases('xgboost/multi_softprob');
    const one = await postJson(`${srv.url}/v2/models/versions/versions/1/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [v1.inputs.length, 8], data: v1.inputs }],
    });
    assertClose(one.body.outputs[0].data, v1['predict'], 'version 1 (.json)');
    const two = await postJson(`${srv.url}/v2/models/versions/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [v2.inputs.length, 4], data: v2.inputs }],
    });
    assert.equal(two.body.model_version, '2');
    assertClose(two.body.outputs[0].data, v2['predict'], 'version 2 (.ubj)');
  });

  it('does not take a cases.json beside the model for a second model file', async () => {
    assert.equal((await getJson(`${srv.url}/v2/models/with_cases/ready`)).status, 200);
  });

  it('answers an XGBoost ONNX export as xgbserver would: P(class 1), labels on request', async () => {
    const cases = JSON.parse(readFileSync(repoPath('bench/models/trees/cases.json'), 'utf8'));
    const { body } = await postJson(`${srv.url}/v1/models/xgb_onnx:predict`, { instances: cases.inputs });
    assertClose(
      body.predictions,
      cases.probabilities.map((p: number[]) => p[1]),
      'P(class 1)',
    );
    const labels = await postJson(`${srv.url}/v1/models/xgb_onnx:predict`, {
      instances: cases.inputs,
      parameters: { predict_proba: false },
    });
    assert.deepEqual(labels.body.predictions, cases.label);
  });

  it('answers a LightGBM ONNX export (ZipMap included) as lgbserver would: probability rows', async () => {
    const cases = readCases('sklearn/random_forest_iris');
    const { body } = await postJson(`${srv.url}/v1/models/lgb_onnx:predict`, { instances: cases.inputs });
    assertClose(body.predictions, cases['proba'], 'probabilities');
    const meta = await getJson(`${srv.url}/v2/models/lgb_onnx`);
    assert.equal(meta.body.platform, 'lightgbm');
  });

  it('reports a corrupt ONNX file as a load error', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/corrupt_onnx/ready`);
    assert.equal(status, 503);
    assert.match(body.error, /corrupt_onnx\/model\.onnx is not a valid ONNX file \(onnxruntime: Protobuf parsing failed\)/);
  });

  it('names what is wrong when the named runtime is unknown or finds no file of its own', async () => {
    const fil = await getJson(`${srv.url}/v2/models/fil/ready`);
    assert.equal(fil.status, 503);
    assert.match(fil.body.error, /unsupported platform\/backend 'fil'; tsserve serves onnx, sklearn, xgboost, lightgbm, huggingface/);
    const wrong = await getJson(`${srv.url}/v2/models/wrong_format/ready`);
    assert.match(wrong.body.error, /no model file found for model 'wrong_format' .*runtime 'lightgbm' loads .txt, .bst, .onnx files/);
  });
});
