/** KServe's V1 protocol: model list and status, `:predict` with instances or inputs. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const cases = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8')) as {
  inputs: number[][];
  label: number[];
  probabilities: number[][];
};

describe('V1 protocol', () => {
  let srv: TestServer;
  let multi: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath('models'));
    multi = await startTestServer(repoPath('test/fixtures'), {});
  });
  after(async () => {
    await srv.close();
    await multi.close();
  });

  it('lists models and reports status', async () => {
    const list = await getJson(`${srv.url}/v1/models`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.models, readdirSync(repoPath('models')).sort());
    // OpenAI's list shares the path: the bundled Hugging Face (text) models.
    const textModels = readdirSync(repoPath('models')).filter((m) => existsSync(repoPath('models', m, 'config.json')));
    assert.equal(list.body.object, 'list');
    assert.deepEqual(list.body.data.map((m: { id: string }) => m.id).sort(), textModels.sort());
    assert.deepEqual(await getJson(`${srv.url}/v1/models/classifier`), { status: 200, body: { name: 'classifier', ready: true } });
    const missing = await getJson(`${srv.url}/v1/models/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /nope/);
  });

  it('predicts rows of numbers as a 2-D tensor, one prediction per row', async () => {
    const { status, body } = await postJson(`${srv.url}/v1/models/classifier:predict`, { instances: cases.inputs.slice(0, 4) });
    assert.equal(status, 200);
    assert.equal(body.predictions.length, 4);
    body.predictions.forEach((p: { label: number; probabilities: number[] }, i: number) => {
      assert.equal(p.label, cases.label[i]);
      p.probabilities.forEach((v, k) => assert.ok(Math.abs(v - cases.probabilities[i]![k]!) < 1e-5));
    });
  });

  it('accepts "inputs" in place of "instances"', async () => {
    const { body } = await postJson(`${srv.url}/v1/models/regressor:predict`, { inputs: [Array(10).fill(0.01)] });
    assert.equal(body.predictions.length, 1);
    assert.equal(typeof body.predictions[0][0], 'number');
  });

  it('maps an object per row to named inputs of a multi-input model', async () => {
    const { status, body } = await postJson(`${multi.url}/v1/models/multi_io:predict`, {
      instances: [
        { a: [1, 2, 3], b: [10, 20, 30] },
        { a: [0.5, 0, -1], b: [2, 2, 2] },
      ],
    });
    assert.equal(status, 200);
    assert.deepEqual(body.predictions, [
      { sum: [11, 22, 33], product: [10, 40, 90] },
      { sum: [2.5, 2, 1], product: [1, 0, -2] },
    ]);
  });

  it('refuses bad V1 bodies with a message naming the field', async () => {
    const notList = await postJson(`${srv.url}/v1/models/classifier:predict`, { instances: 'x' });
    assert.equal(notList.status, 400);
    assert.match(notList.body.error, /"instances" to be a list/);
    const ragged = await postJson(`${srv.url}/v1/models/classifier:predict`, {
      instances: [
        [1, 2, 3, 4],
        [1, 2],
      ],
    });
    assert.equal(ragged.status, 400);
    const rowsForMulti = await postJson(`${multi.url}/v1/models/multi_io:predict`, { instances: [[1, 2, 3]] });
    assert.equal(rowsForMulti.status, 400);
    assert.match(rowsForMulti.body.error, /2 inputs \(a, b\)/);
    const missingField = await postJson(`${multi.url}/v1/models/multi_io:predict`, { instances: [{ a: [1, 2, 3] }] });
    assert.equal(missingField.status, 400);
    assert.match(missingField.body.error, /no field 'b'/);
    const badVerb = await postJson(`${srv.url}/v1/models/classifier:train`, { instances: [] });
    assert.equal(badVerb.status, 400);
  });
});
