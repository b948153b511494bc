/**
 * KServe huggingfaceserver's answers (encoder_model.py + get_predict_response), which tsserve
 * gives by default, against the torch references committed with the fixtures:
 * sequence_classification, token_classification and fill_mask, with no flag,
 * --return_probabilities and --return_raw_logits, over V1 and v2 (`output-0`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, assertClose, clsExpected, copyHfModel, mlmExpected, nerExpected } from './helpers/hf.js';
import { type TestServer, postJson, startTestServer } from './helpers/server.js';

const texts = (data: string[]) => ({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [data.length], data }] });
const params = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `parameters { key: "${k}" value: { string_value: "${v}" } }`)
    .join('\n');

/** Asserts a V1 dict keyed 0..n-1 whose values are within tol of `expected`. */
function assertIndexed(actual: Record<string, number>, expected: readonly number[], tol: number, what: string): void {
  assert.deepEqual(
    Object.keys(actual),
    expected.map((_, i) => String(i)),
    what,
  );
  assertClose(Object.values(actual), expected, tol, what);
}

describe("KServe huggingfaceserver's answers", () => {
  let repo: TempRepo;
  let srv: TestServer;
  const url = (model: string) => `${srv.url}/v1/models/${model}:predict`;
  before(async () => {
    repo = await tempRepo();
    for (const [fixture, name] of [
      [HF.bertCls, 'cls'],
      [HF.bertNer, 'ner'],
      [HF.bertMlm, 'mlm'],
    ] as const) {
      await copyHfModel(repo, fixture, name);
      await copyHfModel(repo, fixture, `${name}_probs`);
      await repo.write(`${name}_probs/config.pbtxt`, params({ return_probabilities: 'true' }));
      await copyHfModel(repo, fixture, `${name}_logits`);
      await repo.write(`${name}_logits/config.pbtxt`, params({ return_raw_logits: 'true' }));
    }
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv?.close();
    await repo?.remove();
  });

  it('sequence_classification: the argmax index per instance; v2 output-0 INT64 [N]', async () => {
    const v1 = await postJson(url('cls'), { instances: clsExpected.sentences });
    assert.deepEqual(v1.body, { predictions: clsExpected.labels });
    const v2 = await postJson(`${srv.url}/v2/models/cls/infer`, texts(clsExpected.sentences));
    assert.deepEqual(v2.body.outputs, [{ name: 'output-0', datatype: 'INT64', shape: [5], data: clsExpected.labels }]);
  });

  it('sequence_classification --return_probabilities: {index: probability to 4 decimals} per instance', async () => {
    const v1 = await postJson(url('cls_probs'), { instances: clsExpected.sentences });
    assert.equal(v1.body.predictions.length, 5);
    v1.body.predictions.forEach((p: Record<string, number>, i: number) => {
      assertIndexed(p, clsExpected.probabilities[i]!, 5.1e-5, `instance ${i}`);
      for (const v of Object.values(p)) assert.equal(v, Number(v.toFixed(4)), `instance ${i}: ${v} has 4 decimals at most`);
    });
    const v2 = await postJson(`${srv.url}/v2/models/cls_probs/infer`, texts(clsExpected.sentences));
    assert.deepEqual([v2.body.outputs[0].name, v2.body.outputs[0].shape], ['output-0', [5, 2]]);
    assertClose(v2.body.outputs[0].data, clsExpected.probabilities.flat(), 5.1e-5, 'v2 output-0');
  });

  it('sequence_classification --return_raw_logits: {index: logit} per instance', async () => {
    const v1 = await postJson(url('cls_logits'), { instances: clsExpected.sentences.slice(0, 2) });
    v1.body.predictions.forEach((p: Record<string, number>, i: number) => assertIndexed(p, clsExpected.logits[i]!, 1e-4, `instance ${i}`));
  });

  it('token_classification: the label index per token, as [[labels]] per instance; v2 output-0 [N, 1, S]', async () => {
    const [first, second] = nerExpected.cases;
    const v1 = await postJson(url('ner'), { instances: [first!.text] });
    assert.deepEqual(v1.body, { predictions: [[first!.labels]] });
    const v2 = await postJson(`${srv.url}/v2/models/ner/infer`, texts([first!.text, second!.text]));
    const width = Math.max(first!.ids.length, second!.ids.length);
    const out = v2.body.outputs[0];
    assert.deepEqual([out.name, out.datatype, out.shape], ['output-0', 'INT64', [2, 1, width]]);
    // KServe labels the padding after a shorter text too; the real tokens equal torch
    assert.deepEqual(out.data.slice(0, first!.labels.length), first!.labels);
    assert.deepEqual(out.data.slice(width, width + second!.labels.length), second!.labels);
  });

  it('token_classification --return_probabilities / --return_raw_logits: {index: value} per token', async () => {
    const [first] = nerExpected.cases;
    const probs = await postJson(url('ner_probs'), { instances: [first!.text] });
    assert.equal(probs.body.predictions[0].length, first!.ids.length);
    probs.body.predictions[0].forEach((p: Record<string, number>, t: number) =>
      assertIndexed(p, first!.probabilities[t]!, 5.1e-5, `token ${t}`),
    );
    const logits = await postJson(url('ner_logits'), { instances: [first!.text] });
    logits.body.predictions[0].forEach((p: Record<string, number>, t: number) => assertIndexed(p, first!.logits[t]!, 1e-4, `token ${t}`));
  });

  it('fill_mask: the decoded token per instance; v2 output-0 BYTES [N]', async () => {
    const masked = mlmExpected.cases.map((c) => c.text);
    const v1 = await postJson(url('mlm'), { instances: masked });
    assert.deepEqual(v1.body, { predictions: mlmExpected.cases.map((c) => c.predicted) });
    const v2 = await postJson(`${srv.url}/v2/models/mlm/infer`, texts(masked));
    assert.deepEqual(v2.body.outputs, [
      { name: 'output-0', datatype: 'BYTES', shape: [4], data: mlmExpected.cases.map((c) => c.predicted) },
    ]);
  });

  it('fill_mask --return_probabilities: per mask, a list of {token id: "0.1234"}; --return_raw_logits: {token id: logit}', async () => {
    const one = mlmExpected.cases.find((c) => c.token_ids.length === 1)!;
    const probs = await postJson(url('mlm_probs'), { instances: [one.text] });
    const [masks] = probs.body.predictions;
    assert.equal(masks.length, 1);
    assert.equal(masks[0].length, one.probabilities[0]!.length);
    masks[0].forEach((entry: Record<string, string>, id: number) => {
      assert.deepEqual(Object.keys(entry), [String(id)]);
      assert.match(entry[String(id)]!, /^\d\.\d{4}$/);
    });
    assertClose(
      masks[0].map((e: Record<string, string>, id: number) => Number(e[String(id)])),
      one.probabilities[0]!,
      5.1e-5,
      'probabilities',
    );
    const logits = await postJson(url('mlm_logits'), { instances: [one.text] });
    const values = logits.body.predictions[0][0].map((e: Record<string, number>, id: number) => e[String(id)]);
    assertClose(values, one.logits[0]!, 1e-4, 'logits');
  });

  it("tsserve's named outputs stay available to a v2 request that names them", async () => {
    const { body } = await postJson(`${srv.url}/v2/models/cls_probs/infer`, {
      ...texts(clsExpected.sentences),
      outputs: [{ name: 'label_name' }, { name: 'probabilities' }],
    });
    assert.deepEqual(body.outputs[0].data, clsExpected.label_names);
    assertClose(body.outputs[1].data, clsExpected.probabilities.flat(), 1e-5, 'probabilities');
  });
});
