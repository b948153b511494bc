/**
 * text2text_generation: an encoder-decoder (T5) model with a KV cache over v2, V1 and the OpenAI
 * completion routes; greedy token ids equal torch's full-recompute reference.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { GrpcTestClient } from './helpers/grpc-client.js';
import { HF, clsExpected, copyHfModel, post, readSse, t5Expected } from './helpers/hf.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const texts = (data: string[]) => ({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [data.length], data }] });

/** BYTES in raw_output_contents: each element is a 4-byte little-endian length, then the bytes. */
function rawStrings(raw: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < raw.length;) {
    const length = raw.readUInt32LE(at);
    out.push(raw.subarray(at + 4, at + 4 + length).toString('utf8'));
    at += 4 + length;
  }
  return out;
}
const [first, second] = t5Expected.prompts as [(typeof t5Expected.prompts)[0], (typeof t5Expected.prompts)[0]];

describe('text2text_generation (T5) over v2, V1 and OpenAI routes', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let api: string;
  before(async () => {
    repo = await tempRepo();
    // No config.pbtxt: the task comes from config.json (T5ForConditionalGeneration, is_encoder_decoder).
    await copyHfModel(repo, HF.t5, 't5');
    await copyHfModel(repo, HF.t5, 't5_short');
    await repo.write('t5_short/config.pbtxt', 'parameters { key: "max_model_len" value: { string_value: "6" } }');
    await copyHfModel(repo, HF.t5, 't5_no_decoder', ['onnx/decoder_model_merged.onnx']);
    await copyHfModel(repo, HF.t5, 't5_as_causal');
    await repo.write('t5_as_causal/config.pbtxt', 'parameters { key: "task" value: { string_value: "text_generation" } }');
    // An encoder-decoder classifier (as BartForSequenceClassification) ships one graph, onnx/model.onnx.
    await copyHfModel(repo, HF.bertCls, 'seq2seq_classifier', ['config.json']);
    const clsConfig = JSON.parse(readFileSync(repoPath(HF.bertCls, 'config.json'), 'utf8'));
    await repo.write('seq2seq_classifier/config.json', JSON.stringify({ ...clsConfig, is_encoder_decoder: true }));
    srv = await startTestServer(repo.dir);
    api = `${srv.url}/openai/v1`;
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('infers the task from config.json and shows generation outputs', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/t5`);
    assert.equal(status, 200);
    assert.equal(body.platform, 'huggingface_transformersjs');
    assert.deepEqual(body.inputs, [{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    assert.deepEqual(body.outputs, [
      { name: 'generated_text', datatype: 'BYTES', shape: [-1] },
      { name: 'generated_token_ids', datatype: 'INT64', shape: [-1, -1] },
    ]);
  });

  it('v2: greedy generation gives torch token ids and text for each prompt', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/t5/infer`, {
      ...texts(t5Expected.prompts.map((p) => p.prompt)),
      parameters: { max_tokens: 8 },
    });
    assert.equal(status, 200);
    const [text, ids] = body.outputs;
    assert.deepEqual(
      text.data,
      t5Expected.prompts.map((p) => p.greedy_text),
    );
    assert.deepEqual(ids.shape, [3, 8]);
    assert.deepEqual(
      ids.data,
      t5Expected.prompts.flatMap((p) => p.greedy_ids),
    );
    // Different prompts give different continuations: the decoder reads the encoder's output.
    assert.equal(new Set(t5Expected.prompts.map((p) => p.greedy_text)).size, 3);
  });

  it('V1: instances of strings give one generation per instance', async () => {
    const { status, body } = await postJson(`${srv.url}/v1/models/t5:predict`, {
      instances: [first.prompt, second.prompt],
      parameters: { max_tokens: 8 },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.predictions.length, 2);
    assert.deepEqual(
      body.predictions.map((p: { generated_text: string }) => p.generated_text),
      [first.greedy_text, second.greedy_text],
    );
    assert.deepEqual(body.predictions[0].generated_token_ids, first.greedy_ids);
  });

  it('gRPC ModelInfer: the same generations, with max_tokens as a request parameter', async () => {
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const response = await client.call('ModelInfer', {
        model_name: 't5',
        inputs: [
          {
            name: 'text',
            datatype: 'BYTES',
            shape: [2],
            contents: { bytes_contents: [first.prompt, second.prompt].map((p) => Buffer.from(p)) },
          },
        ],
        parameters: { max_tokens: { int64_param: 8 } },
      });
      assert.deepEqual(
        response.outputs.map((o: { name: string }) => o.name),
        ['generated_text', 'generated_token_ids'],
      );
      assert.deepEqual(rawStrings(response.raw_output_contents[0]), [first.greedy_text, second.greedy_text]);
      const ids = response.raw_output_contents[1] as Buffer;
      assert.deepEqual(
        Array.from({ length: ids.length / 8 }, (_, i) => Number(ids.readBigInt64LE(i * 8))),
        [...first.greedy_ids, ...second.greedy_ids],
      );
    } finally {
      client.close();
    }
  });

  it('completions: greedy text equals torch, with usage counting the encoder prompt', async () => {
    const res = await post(`${api}/completions`, { model: 't5', prompt: first.prompt, max_tokens: 8, temperature: 0 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.object, 'text_completion');
    assert.deepEqual(body.choices, [{ index: 0, text: first.greedy_text, logprobs: null, finish_reason: 'length' }]);
    assert.deepEqual(body.usage, {
      prompt_tokens: first.ids.length,
      completion_tokens: 8,
      total_tokens: first.ids.length + 8,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const listed = await getJson(`${api}/models`);
    assert.ok(listed.body.data.some((m: { id: string }) => m.id === 't5'));
  });

  it('completions: streamed as server-sent events, stop strings cut the text', async () => {
    const res = await post(`${api}/completions`, { model: 't5', prompt: second.prompt, max_tokens: 8, temperature: 0, stream: true });
    assert.equal(res.status, 200);
    const { events, done } = await readSse(res);
    assert.ok(done, 'the stream ends with [DONE]');
    const last = events.pop();
    assert.equal(last.choices[0].finish_reason, 'length');
    assert.ok(events.length >= 2, 'text arrives in several events');
    assert.equal(events.map((e) => e.choices[0].text).join(''), second.greedy_text);

    const stopAt = second.greedy_text.indexOf(' ', 1);
    assert.ok(stopAt > 0, 'the fixture text has a space to stop at');
    const stopped = (await (
      await post(`${api}/completions`, { model: 't5', prompt: second.prompt, max_tokens: 8, temperature: 0, stop: [' '] })
    ).json()) as any;
    assert.deepEqual([stopped.choices[0].text, stopped.choices[0].finish_reason], [second.greedy_text.slice(0, stopAt), 'stop']);
  });

  it('a client that disconnects mid-stream stops the decoder (counted)', async () => {
    const controller = new AbortController();
    // Greedy decoding of this prompt runs past 64 tokens without an end-of-sequence token.
    const res = await post(
      `${api}/completions`,
      { model: 't5', prompt: first.prompt, max_tokens: 500, temperature: 0, stream: true },
      controller.signal,
    );
    const reader = res.body!.getReader();
    assert.match(Buffer.from((await reader.read()).value!).toString(), /^data: /);
    controller.abort();
    let metrics = '';
    for (let i = 0; i < 200 && !/tsserve_generations_cancelled_total\{model_name="t5"\} 1/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 25));
      metrics = await (await fetch(`${srv.url}/metrics`)).text();
    }
    assert.match(metrics, /tsserve_generations_cancelled_total\{model_name="t5"\} 1/);
  });

  it('completions: sampling with a seed repeats itself', async () => {
    const body = { model: 't5', prompt: first.prompt, max_tokens: 10, temperature: 1.5, seed: 7 };
    const a = (await (await post(`${api}/completions`, body)).json()) as any;
    const b = (await (await post(`${api}/completions`, body)).json()) as any;
    assert.equal(a.choices[0].text, b.choices[0].text);
    const others = new Set<string>();
    for (const seed of [1, 2, 3, 4])
      others.add(((await (await post(`${api}/completions`, { ...body, seed })).json()) as any).choices[0].text);
    assert.ok(others.size > 1, 'different seeds sample different texts');
  });

  it('chat needs a chat template (T5 has none); embeddings need an embedding model', async () => {
    const chat = await post(`${api}/chat/completions`, { model: 't5', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2 });
    assert.equal(chat.status, 400);
    assert.match(((await chat.json()) as any).error.message, /no chat_template/);
    const emb = await post(`${api}/embeddings`, { model: 't5', input: 'hello' });
    assert.equal(emb.status, 400);
    assert.match(((await emb.json()) as any).error.message, /serves text2text_generation; embeddings needs a text_embedding model/);
  });

  it('max_model_len limits the prompt and the completion separately', async () => {
    assert.ok(first.ids.length > 6);
    const long = await postJson(`${srv.url}/v2/models/t5_short/infer`, { ...texts([first.prompt]), parameters: { max_tokens: 2 } });
    assert.equal(long.status, 400);
    assert.equal(
      long.body.error,
      `This model's maximum input length is 6 tokens. However, the prompt has ${first.ids.length} tokens. Please reduce the length of the prompt.`,
    );
    const many = await post(`${api}/completions`, { model: 't5_short', prompt: 'hello', max_tokens: 7 });
    assert.equal(many.status, 400);
    assert.match(((await many.json()) as any).error.message, /generates at most 6 tokens per completion\. However, you requested 7/);
    // A short prompt with the whole budget for the completion fits: the two do not add up.
    const fits = (await (
      await post(`${api}/completions`, { model: 't5_short', prompt: 'the sun is good', max_tokens: 6, temperature: 0 })
    ).json()) as any;
    assert.equal(fits.usage.prompt_tokens, 5);
    assert.equal(fits.usage.completion_tokens, 6);
    assert.deepEqual(fits.choices[0].text, t5Expected.prompts[2]!.greedy_text.slice(0, fits.choices[0].text.length));
  });

  it('a folder without the merged decoder fails to load, naming the file; a wrong task is refused', async () => {
    const missing = await getJson(`${srv.url}/v2/models/t5_no_decoder/ready`);
    assert.equal(missing.status, 503);
    assert.match(missing.body.error, /expected onnx\/encoder_model\.onnx and onnx\/decoder_model_merged\.onnx/);
    const causal = await getJson(`${srv.url}/v2/models/t5_as_causal/ready`);
    assert.equal(causal.status, 503);
    assert.match(
      causal.body.error,
      /T5ForConditionalGeneration is an encoder-decoder model: it serves text2text_generation, not text_generation/,
    );
    const ok = await postJson(`${srv.url}/v2/models/t5/infer`, { ...texts(['hello']), parameters: { max_tokens: 1 } });
    assert.equal(ok.status, 200);
  });

  it('an encoder-decoder classifier still loads its one graph and classifies', async () => {
    const { status, body } = await postJson(`${srv.url}/v2/models/seq2seq_classifier/infer`, texts(clsExpected.sentences));
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.outputs[0].data, clsExpected.labels);
  });
});
