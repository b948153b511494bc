/**
 * Hugging Face models over v2 and V1: embeddings, classification and generation equal the
 * torch references committed with the fixtures; settings, limits and load failures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, assertClose, bertExpected, clsExpected, copyHfModel, gpt2Expected, post, readSse } from './helpers/hf.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const texts = (data: string[]) => ({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [data.length], data }] });

describe('Hugging Face runtime over v2 and V1', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.bert, 'bert');
    await copyHfModel(repo, HF.bertCls, 'cls');
    await copyHfModel(repo, HF.gpt2, 'gpt2');
    // Per-model settings through config.pbtxt parameters (the flags' names).
    const params = (entries: Record<string, string>) =>
      Object.entries(entries)
        .map(([k, v]) => `parameters { key: "${k}" value: { string_value: "${v}" } }`)
        .join('\n');
    await copyHfModel(repo, HF.bert, 'bert_cls_pool');
    await repo.write('bert_cls_pool/config.pbtxt', params({ pooling: 'cls' }));
    // Only onnx/model_fp16.onnx, its last_hidden_state float16, as an fp16 export.
    await repo.copy(`${HF.bertFp16Io}/onnx/model_fp16.onnx`, 'bert_fp16/onnx/model_fp16.onnx');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await repo.copy(`${HF.bertFp16Io}/${f}`, `bert_fp16/${f}`);
    await copyHfModel(repo, HF.bert, 'bert_short');
    await repo.write('bert_short/config.pbtxt', params({ max_model_len: '8' }));
    await copyHfModel(repo, HF.bertCls, 'cls_rich');
    await repo.write('cls_rich/config.pbtxt', params({ hf_rich_outputs: 'true' }));
    await copyHfModel(repo, HF.bertCls, 'cls_probs');
    await repo.write('cls_probs/config.pbtxt', params({ return_probabilities: 'true' }));
    await copyHfModel(repo, HF.bertCls, 'cls_logits');
    await repo.write('cls_logits/config.pbtxt', params({ return_raw_logits: 'true' }));
    await copyHfModel(repo, HF.bert, 'no_tokenizer', ['tokenizer.json']);
    await copyHfModel(repo, HF.bert, 'no_fp16');
    await repo.write('no_fp16/config.pbtxt', params({ dtype: 'fp16' }));
    // A repository that holds a quantized variant only, as many of onnx-community's do.
    await copyHfModel(repo, HF.gpt2, 'gpt2_q4', ['onnx/model.onnx']);
    await repo.copy(`${HF.gpt2}/onnx/model.onnx`, 'gpt2_q4/onnx/model_q4.onnx');
    await copyHfModel(repo, HF.bert, 'too_long');
    await repo.write('too_long/config.pbtxt', params({ max_model_len: '65' }));
    await copyHfModel(repo, HF.bert, 'qa', ['config.json']);
    const bertConfig = JSON.parse(readFileSync(repoPath(HF.bert, 'config.json'), 'utf8'));
    await repo.write('qa/config.json', JSON.stringify({ ...bertConfig, architectures: ['BertForQuestionAnswering'] }));
    await copyHfModel(repo, HF.bert, 'qa_named');
    await repo.write('qa_named/config.pbtxt', params({ task: 'question_answering' }));
    await copyHfModel(repo, HF.bert, 't2t_bert');
    await repo.write('t2t_bert/config.pbtxt', params({ task: 'text2text_generation' }));
    await copyHfModel(repo, HF.gpt2NoCache, 'gpt2_nocache');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('describes a text model: one BYTES input, task outputs', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/bert`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      name: 'bert',
      versions: ['1'],
      platform: 'huggingface_transformersjs',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'embedding', datatype: 'FP32', shape: [-1, 32] },
        { name: 'token_count', datatype: 'INT64', shape: [-1] },
      ],
    });
    const gen = await getJson(`${srv.url}/v2/models/gpt2`);
    assert.deepEqual(
      gen.body.outputs.map((o: { name: string }) => o.name),
      ['generated_text', 'generated_token_ids'],
    );
  });

  it('v2: texts [N] give mean-pooled, normalised embeddings [N,32] equal to torch', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/bert/infer`, texts(bertExpected.sentences));
    assert.equal(status, 200);
    const out = body.outputs[0];
    assert.deepEqual([out.name, out.datatype, out.shape], ['embedding', 'FP32', [5, 32]]);
    bertExpected.mean_normalized.forEach((row, i) => assertClose(out.data.slice(i * 32, (i + 1) * 32), row, 1e-5, `row ${i}`));
  });

  it('an fp16 export (float16 outputs, model_fp16.onnx only) gives the same embeddings to float16 precision', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/bert_fp16/infer`, texts(bertExpected.sentences));
    assert.equal(status, 200, JSON.stringify(body));
    const out = body.outputs[0];
    assert.deepEqual([out.datatype, out.shape], ['FP32', [5, 32]]);
    bertExpected.mean_normalized.forEach((row, i) => assertClose(out.data.slice(i * 32, (i + 1) * 32), row, 2e-3, `row ${i}`));
  });

  it('v2: CLS pooling when the model asks for it', async () => {
    const { body } = await postJson(`${srv.url}/v2/models/bert_cls_pool/infer`, texts(bertExpected.sentences));
    bertExpected.cls_normalized.forEach((row, i) => assertClose(body.outputs[0].data.slice(i * 32, (i + 1) * 32), row, 1e-5, `row ${i}`));
  });

  it('V1: instances of strings give one embedding per instance', async () => {
    const { status, body } = await postJson(`${srv.url}/v1/models/bert:predict`, { instances: bertExpected.sentences.slice(0, 2) });
    assert.equal(status, 200);
    assert.equal(body.predictions.length, 2);
    body.predictions.forEach((p: number[], i: number) => assertClose(p, bertExpected.mean_normalized[i]!, 1e-5, `prediction ${i}`));
  });

  it('v2: classification gives label, label name and score as torch, when named', async () => {
    const outputs = [{ name: 'label' }, { name: 'label_name' }, { name: 'score' }];
    const { status, body } = await postJson(`${srv.url}/v2/models/cls/infer`, { ...texts(clsExpected.sentences), outputs });
    assert.equal(status, 200);
    const [label, name, score] = body.outputs;
    assert.deepEqual(label, { name: 'label', datatype: 'INT64', shape: [5], data: clsExpected.labels });
    assert.deepEqual(name, { name: 'label_name', datatype: 'BYTES', shape: [5], data: clsExpected.label_names });
    assert.deepEqual(new Set(clsExpected.labels), new Set([0, 1]), 'the fixture covers both labels');
    assertClose(
      score.data,
      clsExpected.probabilities.map((p, i) => p[clsExpected.labels[i]!]!),
      1e-5,
      'score',
    );
  });

  it('V1 with hf_rich_outputs: classification predictions are objects per text', async () => {
    const { body } = await postJson(`${srv.url}/v1/models/cls_rich:predict`, {
      instances: [clsExpected.sentences[0], clsExpected.sentences[1]],
    });
    assert.deepEqual(
      body.predictions.map((p: { label: number; label_name: string }) => [p.label, p.label_name]),
      [
        [clsExpected.labels[0], clsExpected.label_names[0]],
        [clsExpected.labels[1], clsExpected.label_names[1]],
      ],
    );
  });

  it('--return_probabilities and --return_raw_logits add those outputs', async () => {
    const probs = await postJson(`${srv.url}/v2/models/cls_probs/infer`, {
      ...texts(clsExpected.sentences),
      outputs: [{ name: 'probabilities' }],
    });
    assert.deepEqual(probs.body.outputs[0].shape, [5, 2]);
    assertClose(probs.body.outputs[0].data, clsExpected.probabilities.flat(), 1e-5, 'probabilities');
    const logits = await postJson(`${srv.url}/v2/models/cls_logits/infer`, {
      ...texts(clsExpected.sentences),
      outputs: [{ name: 'logits' }],
    });
    assertClose(logits.body.outputs[0].data, clsExpected.logits.flat(), 1e-4, 'logits');
    const none = await postJson(`${srv.url}/v2/models/cls/infer`, { ...texts(['a']), outputs: [{ name: 'probabilities' }] });
    assert.equal(none.status, 400);
    assert.match(none.body.error, /probabilities/);
  });

  it('v2: greedy generation gives torch token ids and text for each prompt', async () => {
    const prompts = gpt2Expected.prompts.map((p) => p.prompt);
    const { status, body } = await postJson(`${srv.url}/v2/models/gpt2/infer`, { ...texts(prompts), parameters: { max_tokens: 8 } });
    assert.equal(status, 200);
    const [text, ids] = body.outputs;
    assert.deepEqual(
      text.data,
      gpt2Expected.prompts.map((p) => p.greedy_text),
    );
    assert.deepEqual(ids.shape, [2, 8]);
    assert.deepEqual(
      ids.data,
      gpt2Expected.prompts.flatMap((p) => p.greedy_ids),
    );
  });

  it('generated text equals a whole decode of the generated ids, also across bytes that are not characters', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${repoPath('test/hf-models')}/`;
    const tokenizer = await AutoTokenizer.from_pretrained('tiny-gpt2');
    let nonAscii = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const parameters = { max_tokens: 64, temperature: 2, seed };
      const { body } = await postJson(`${srv.url}/v2/models/gpt2/infer`, { ...texts(['hello']), parameters });
      const [text, ids] = body.outputs;
      const whole = tokenizer.decode(
        ids.data.filter((id: number) => id >= 0),
        { skip_special_tokens: true },
      );
      assert.equal(text.data[0], whole, `seed ${seed}`);
      if (/[^\x00-\x7f]/.test(whole)) nonAscii++;
      // Streamed deltas add up to the same text; none ends inside a character.
      const res = await post(`${srv.url}/openai/v1/completions`, { model: 'gpt2', prompt: 'hello', stream: true, ...parameters });
      const deltas = (await readSse(res)).events.map((e) => e.choices[0].text as string);
      assert.equal(deltas.join(''), whole, `streamed, seed ${seed}`);
    }
    assert.ok(nonAscii > 0, 'sampling at temperature 2 produced bytes outside ASCII (at least one run is not plain text)');
  });

  it('v2: bad generation parameters are refused by name', async () => {
    const bad = await postJson(`${srv.url}/v2/models/gpt2/infer`, { ...texts(['hello']), parameters: { temperature: 'hot' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /parameter 'temperature' must be a number from 0 to 2/);
  });

  it('--max_model_len truncates encoder inputs, keeping [CLS] and [SEP]', async () => {
    for (const [model, len] of [
      ['bert_short', '8'],
      ['bert', '64'],
    ] as const) {
      const { status, body } = await postJson(`${srv.url}/v2/models/${model}/infer`, texts([bertExpected.long_text]));
      assert.equal(status, 200);
      assertClose(body.outputs[0].data, bertExpected.long_truncated[len]!.mean_normalized, 1e-5, `${model} truncated to ${len}`);
    }
  });

  it('--max_model_len refuses generation that would not fit, as vLLM words it', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/gpt2/infer`, {
      ...texts(['hello world']),
      parameters: { max_tokens: 600 },
    });
    assert.equal(status, 400);
    assert.match(
      body.error,
      /maximum context length is 512 tokens\. However, you requested 602 tokens \(2 in the prompt, 600 in the completion\)/,
    );
  });

  it('a folder without tokenizer.json fails to load, naming the file; others keep serving', async () => {
    const ready = await getJson(`${srv.url}/v2/models/no_tokenizer/ready`);
    assert.equal(ready.status, 503);
    assert.match(ready.body.error, /missing tokenizer\.json/);
    const index = await postJson(`${srv.url}/v2/repository/index`, {});
    const entry = index.body.find((e: { name: string }) => e.name === 'no_tokenizer');
    assert.equal(entry.state, 'UNAVAILABLE');
    assert.match(entry.reason, /no_tokenizer is missing tokenizer\.json/);
    const infer = await postJson(`${srv.url}/v2/models/no_tokenizer/infer`, texts(['a']));
    assert.equal(infer.status, 503);
    const other = await postJson(`${srv.url}/v2/models/bert/infer`, texts(['hello world']));
    assert.equal(other.status, 200);
  });

  it('--dtype picks the ONNX variant and names the missing file; --max_model_len beyond the model is refused', async () => {
    const fp16 = await getJson(`${srv.url}/v2/models/no_fp16/ready`);
    assert.equal(fp16.status, 503);
    assert.match(fp16.body.error, /has no onnx\/model_fp16\.onnx, which dtype 'fp16' needs/);
    // --dtype auto takes the variant the folder holds.
    const q4 = await postJson(`${srv.url}/v2/models/gpt2_q4/infer`, {
      ...texts([gpt2Expected.prompts[0]!.prompt]),
      parameters: { max_tokens: 8 },
    });
    assert.equal(q4.status, 200, JSON.stringify(q4.body));
    assert.deepEqual(q4.body.outputs[1].data, gpt2Expected.prompts[0]!.greedy_ids);
    const long = await getJson(`${srv.url}/v2/models/too_long/ready`);
    assert.equal(long.status, 503);
    assert.match(long.body.error, /max_model_len 65 exceeds the model's limit of 64 tokens/);
  });

  it('text_generation refuses a decoder graph without a KV cache, at load', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/gpt2_nocache/ready`);
    assert.equal(status, 503);
    assert.match(
      body.error,
      /text_generation needs a decoder exported with a KV cache .*takes only input_ids, attention_mask, position_ids/,
    );
  });

  it('tasks tsserve does not serve are refused at load, clearly', async () => {
    const inferred = await getJson(`${srv.url}/v2/models/qa/ready`);
    assert.equal(inferred.status, 503);
    assert.match(inferred.body.error, /the task cannot be inferred from architecture 'BertForQuestionAnswering'; set --task/);
    const named = await getJson(`${srv.url}/v2/models/qa_named/ready`);
    assert.match(
      named.body.error,
      /task 'question_answering' is not supported by tsserve; supported: text_embedding, sequence_classification, token_classification, fill_mask, text_generation, text2text_generation/,
    );
  });

  it('text2text_generation on an encoder-only model is refused at load, naming what it needs', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/t2t_bert/ready`);
    assert.equal(status, 503);
    assert.match(
      body.error,
      /text2text_generation needs an encoder-decoder model \(config\.json "is_encoder_decoder": true, e\.g\. T5 or BART\); BertModel is not one/,
    );
  });

  it('texts must be valid UTF-8', async () => {
    const header = JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }] });
    const body = Buffer.concat([Buffer.from(header), Buffer.from([2, 0, 0, 0, 0xff, 0xfe])]);
    const res = await fetch(`${srv.url}/v2/models/bert/infer`, {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /element 0 is not valid UTF-8/);
  });
});

describe('a Hugging Face model straight in model_dir (KServe storage layout)', () => {
  it('serves it as --model_name with the task from --task', async () => {
    const repo = await tempRepo();
    await copyHfModel(repo, HF.bertCls, '.');
    const srv = await startTestServer(repo.dir, { model_name: 'sentiment', task: 'sequence_classification', return_probabilities: true });
    try {
      const { status, body } = await postJson(`${srv.url}/v1/models/sentiment:predict`, { instances: [clsExpected.sentences[1]] });
      assert.equal(status, 200);
      // KServe's answer with --return_probabilities: {index: probability to 4 decimals}
      const [prediction] = body.predictions;
      assert.deepEqual(Object.keys(prediction), ['0', '1']);
      assertClose(Object.values(prediction) as number[], clsExpected.probabilities[1]!, 5.1e-5, 'probabilities');
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});
