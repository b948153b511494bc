/**
 * The per-token Hugging Face tasks over v2 and V1: fill_mask and token_classification, inferred
 * from config.architectures, equal the torch references committed with the fixtures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, assertClose, copyHfModel, mlmExpected, nerExpected } from './helpers/hf.js';
import { type TestServer, getJson, postJson, startTestServer } from './helpers/server.js';

const texts = (data: string[]) => ({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [data.length], data }] });
const params = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `parameters { key: "${k}" value: { string_value: "${v}" } }`)
    .join('\n');

/** The rows of a [N, W(, C)] tensor, each cut to its real length. */
function rows<T>(data: T[], width: number, lengths: number[], inner = 1): T[][] {
  return lengths.map((len, r) => data.slice(r * width * inner, (r * width + len) * inner));
}

describe('Hugging Face fill_mask and token_classification', () => {
  let repo: TempRepo;
  let srv: TestServer;
  const masked = mlmExpected.cases.map((c) => c.text);
  const sentences = nerExpected.cases.map((c) => c.text);
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.bertMlm, 'mlm');
    await copyHfModel(repo, HF.bertMlm, 'mlm_rich');
    await repo.write('mlm_rich/config.pbtxt', params({ hf_rich_outputs: 'true' }));
    await copyHfModel(repo, HF.bertNer, 'ner_rich');
    await repo.write('ner_rich/config.pbtxt', params({ hf_rich_outputs: 'true' }));
    await copyHfModel(repo, HF.bertMlm, 'mlm_probs');
    await repo.write('mlm_probs/config.pbtxt', params({ return_probabilities: 'true' }));
    await copyHfModel(repo, HF.bertMlm, 'mlm_logits');
    await repo.write('mlm_logits/config.pbtxt', params({ return_raw_logits: 'true' }));
    await copyHfModel(repo, HF.bertNer, 'ner');
    await copyHfModel(repo, HF.bertNer, 'ner_probs');
    await repo.write('ner_probs/config.pbtxt', params({ task: 'token_classification', return_probabilities: 'true' }));
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('infers the tasks from config.architectures and describes their outputs', async () => {
    const mlm = await getJson(`${srv.url}/v2/models/mlm`);
    assert.equal(mlm.status, 200);
    assert.deepEqual(mlm.body.outputs, [
      { name: 'output-0', datatype: 'BYTES', shape: [-1] },
      { name: 'predicted', datatype: 'BYTES', shape: [-1] },
      { name: 'token_id', datatype: 'INT64', shape: [-1, -1] },
      { name: 'score', datatype: 'FP32', shape: [-1, -1] },
    ]);
    const ner = await getJson(`${srv.url}/v2/models/ner_probs`);
    assert.deepEqual(
      ner.body.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]),
      [
        ['output-0', [-1, -1, 5]],
        ['label', [-1, -1]],
        ['label_name', [-1, -1]],
        ['score', [-1, -1]],
        ['token_id', [-1, -1]],
        ['probabilities', [-1, -1, 5]],
      ],
    );
  });

  it('v2 fill_mask: the best token at every mask equals torch, decoded as KServe does', async () => {
    const outputs = [{ name: 'predicted' }, { name: 'token_id' }, { name: 'score' }];
    const { status, body } = await postJson(`${srv.url}/v2/models/mlm/infer`, { ...texts(masked), outputs });
    assert.equal(status, 200, JSON.stringify(body));
    const [predicted, ids, score] = body.outputs;
    assert.deepEqual(predicted, { name: 'predicted', datatype: 'BYTES', shape: [4], data: mlmExpected.cases.map((c) => c.predicted) });
    const width = Math.max(...mlmExpected.cases.map((c) => c.token_ids.length));
    assert.equal(width, 2, 'one text has two masks');
    assert.deepEqual(ids.shape, [4, width]);
    assert.deepEqual(
      ids.data,
      mlmExpected.cases.flatMap((c) => [...c.token_ids, ...Array(width - c.token_ids.length).fill(-1)]),
    );
    mlmExpected.cases.forEach((c, r) =>
      assertClose(score.data.slice(r * width, r * width + c.scores.length), c.scores, 1e-5, `score ${r}`),
    );
  });

  it('fill_mask --return_probabilities / --return_raw_logits: every vocabulary score at every mask', async () => {
    const lengths = mlmExpected.cases.map((c) => c.token_ids.length);
    const vocab = mlmExpected.cases[0]!.probabilities[0]!.length;
    const probs = await postJson(`${srv.url}/v2/models/mlm_probs/infer`, { ...texts(masked), outputs: [{ name: 'probabilities' }] });
    assert.deepEqual(probs.body.outputs[0].shape, [4, 2, vocab]);
    rows(probs.body.outputs[0].data as number[], 2, lengths, vocab).forEach((row, r) =>
      assertClose(row, mlmExpected.cases[r]!.probabilities.flat(), 1e-5, `probabilities ${r}`),
    );
    const logits = await postJson(`${srv.url}/v2/models/mlm_logits/infer`, { ...texts(masked), outputs: [{ name: 'logits' }] });
    rows(logits.body.outputs[0].data as number[], 2, lengths, vocab).forEach((row, r) =>
      assertClose(row, mlmExpected.cases[r]!.logits.flat(), 1e-4, `logits ${r}`),
    );
  });

  it('V1 fill_mask with hf_rich_outputs: one object per text', async () => {
    const { status, body } = await postJson(`${srv.url}/v1/models/mlm_rich:predict`, { instances: masked.slice(0, 2) });
    assert.equal(status, 200);
    assert.deepEqual(
      body.predictions.map((p: { predicted: string; token_id: number[] }) => [p.predicted, p.token_id]),
      mlmExpected.cases.slice(0, 2).map((c) => [c.predicted, c.token_ids]),
    );
  });

  it('fill_mask refuses a text without the mask token, naming it', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/mlm/infer`, texts(['the [MASK] sat', 'no mask here']));
    assert.equal(status, 400);
    assert.equal(body.error, "input 'text': element 1 has no mask token '[MASK]'");
  });

  it('v2 token_classification: a label per token (special tokens included) equal to torch', async () => {
    const outputs = [{ name: 'label' }, { name: 'label_name' }, { name: 'score' }, { name: 'token_id' }];
    const { status, body } = await postJson(`${srv.url}/v2/models/ner/infer`, { ...texts(sentences), outputs });
    assert.equal(status, 200, JSON.stringify(body));
    const [label, name, score, tokenId] = body.outputs;
    const lengths = nerExpected.cases.map((c) => c.ids.length);
    const width = Math.max(...lengths);
    for (const t of [label, name, score, tokenId]) assert.deepEqual(t.shape, [5, width], t.name);
    assert.deepEqual(
      rows(label.data, width, lengths),
      nerExpected.cases.map((c) => c.labels),
    );
    assert.deepEqual(
      rows(name.data, width, lengths),
      nerExpected.cases.map((c) => c.label_names),
    );
    assert.deepEqual(
      rows(tokenId.data, width, lengths),
      nerExpected.cases.map((c) => c.ids),
    );
    rows(score.data as number[], width, lengths).forEach((row, r) => assertClose(row, nerExpected.cases[r]!.scores, 1e-5, `score ${r}`));
    // Padding after a short text: label -1, name '', token -1.
    const r0 = lengths[0]!;
    assert.deepEqual([label.data[r0], name.data[r0], tokenId.data[r0]], [-1, '', -1]);
    assert.ok(new Set(nerExpected.cases.flatMap((c) => c.labels)).size >= 3, 'the fixture gives several labels');
  });

  it('token_classification --return_probabilities: softmax per token equal to torch', async () => {
    const { body } = await postJson(`${srv.url}/v2/models/ner_probs/infer`, { ...texts(sentences), outputs: [{ name: 'probabilities' }] });
    const lengths = nerExpected.cases.map((c) => c.ids.length);
    const width = Math.max(...lengths);
    assert.deepEqual(body.outputs[0].shape, [5, width, 5]);
    rows(body.outputs[0].data as number[], width, lengths, 5).forEach((row, r) =>
      assertClose(row, nerExpected.cases[r]!.probabilities.flat(), 1e-5, `probabilities ${r}`),
    );
  });

  it('no texts give empty outputs without running the model', async () => {
    const ner = await postJson(`${srv.url}/v2/models/ner_rich/infer`, texts([]));
    assert.equal(ner.status, 200, JSON.stringify(ner.body));
    assert.deepEqual(
      ner.body.outputs.map((o: { shape: number[]; data: unknown[] }) => [o.shape, o.data.length]),
      [
        [[0, 0], 0],
        [[0, 0], 0],
        [[0, 0], 0],
        [[0, 0], 0],
      ],
    );
    const nerKserve = await postJson(`${srv.url}/v2/models/ner/infer`, texts([]));
    assert.deepEqual(
      nerKserve.body.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]),
      [['output-0', [0, 1, 0]]],
    );
    const mlm = await postJson(`${srv.url}/v2/models/mlm_rich/infer`, texts([]));
    assert.equal(mlm.status, 200, JSON.stringify(mlm.body));
    assert.deepEqual(
      mlm.body.outputs.map((o: { shape: number[] }) => o.shape),
      [[0], [0, 0], [0, 0]],
    );
  });

  it('V1 token_classification with hf_rich_outputs: label names per token of each instance', async () => {
    const { status, body } = await postJson(`${srv.url}/v1/models/ner_rich:predict`, { instances: [sentences[0]] });
    assert.equal(status, 200);
    assert.deepEqual(body.predictions[0].label_name, nerExpected.cases[0]!.label_names);
    assert.deepEqual(body.predictions[0].label, nerExpected.cases[0]!.labels);
  });
});
