/**
 * The OpenAI-compatible routes over HTTP: models, embeddings, completions and chat
 * completions (whole and streamed), their errors, and cancellation when a client leaves.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { type RunningServer, startServer } from '../src/app.js';
import { parseTsserveArgs } from '../src/tsserve-flags.js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, assertClose, bertExpected, copyHfModel, gpt2Expected, post, readSse } from './helpers/hf.js';
import { getJson, repoPath } from './helpers/server.js';

/** A server whose log lines the test can read: cancellation is reported there. */
async function startLoggedServer(modelDir: string, overrides: Record<string, unknown> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const { options } = parseTsserveArgs([], {});
  const server: RunningServer = await startServer(
    { ...options, model_dir: modelDir, host: '127.0.0.1', http_port: 0, ...overrides },
    pino({ level: 'info' }, sink),
  );
  return { url: `http://127.0.0.1:${server.httpPort}`, lines, close: () => server.close() };
}

const greedy = gpt2Expected.prompts[0]!;
const chat = gpt2Expected.chat;

describe('OpenAI-compatible routes', () => {
  let repo: TempRepo;
  let srv: Awaited<ReturnType<typeof startLoggedServer>>;
  let api: string;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.bert, 'tiny-bert');
    await copyHfModel(repo, HF.gpt2, 'tiny-gpt2');
    await copyHfModel(repo, HF.gpt2, 'gpt2-no-template', ['tokenizer_config.json']);
    await repo.write(
      'gpt2-no-template/tokenizer_config.json',
      JSON.stringify({ tokenizer_class: 'GPT2Tokenizer', model_max_length: 512, eos_token: '<|endoftext|>', bos_token: '<|endoftext|>' }),
    );
    await repo.copy('models/classifier/1/model.onnx', 'onnx-model/1/model.onnx');
    srv = await startLoggedServer(repo.dir);
    api = `${srv.url}/openai/v1`;
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('lists the ready text models, and answers per model', async () => {
    const { status, body } = await getJson(`${api}/models`);
    assert.equal(status, 200);
    assert.equal(body.object, 'list');
    assert.deepEqual(
      body.data.map((m: { id: string }) => m.id),
      ['gpt2-no-template', 'tiny-bert', 'tiny-gpt2'],
    );
    assert.deepEqual(Object.keys(body.data[1]).sort(), ['created', 'id', 'object', 'owned_by', 'root']);
    // vLLM's extras for a generative model: the model behind the name, and its context length.
    const gpt2 = (await getJson(`${api}/models/tiny-gpt2`)).body;
    assert.equal(gpt2.id, 'tiny-gpt2');
    assert.equal(gpt2.root, 'tiny-gpt2');
    assert.equal(gpt2.max_model_len, 512, "config.json's n_positions");
    assert.equal(body.data.find((m: { id: string }) => m.id === 'tiny-gpt2').max_model_len, 512);
    const missing = await getJson(`${api}/models/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      error: { message: "The model 'nope' does not exist.", type: 'NotFoundError', param: null, code: 404 },
    });
  });

  it('embeddings: a string or a list, as floats or base64, with usage; equal to torch', async () => {
    const one = await post(`${api}/embeddings`, { model: 'tiny-bert', input: bertExpected.sentences[0] });
    assert.equal(one.status, 200);
    const body = (await one.json()) as any;
    assert.equal(body.object, 'list');
    assert.equal(body.model, 'tiny-bert');
    assert.equal(body.data.length, 1);
    assert.deepEqual([body.data[0].object, body.data[0].index], ['embedding', 0]);
    assertClose(body.data[0].embedding, bertExpected.mean_normalized[0]!, 1e-5, 'embedding');
    assert.deepEqual(body.usage, { prompt_tokens: bertExpected.ids[0]!.length, total_tokens: bertExpected.ids[0]!.length });

    const many = (await (
      await post(`${api}/embeddings`, { model: 'tiny-bert', input: bertExpected.sentences, encoding_format: 'base64' })
    ).json()) as any;
    assert.equal(many.data.length, 5);
    many.data.forEach((d: { index: number; embedding: string }, i: number) => {
      assert.equal(d.index, i);
      const bytes = Buffer.from(d.embedding, 'base64');
      const values = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
      assertClose(values, bertExpected.mean_normalized[i]!, 1e-5, `base64 row ${i}`);
    });
    const tokens = bertExpected.ids.reduce((n, ids) => n + ids.length, 0);
    assert.equal(many.usage.prompt_tokens, tokens);
  });

  it('embeddings: errors in OpenAI shape, naming the field', async () => {
    const cases: [unknown, number, string | null, RegExp][] = [
      [{ model: 'tiny-bert', input: [1, 2, 3] }, 400, 'input', /token-id inputs are not supported/],
      [{ model: 'tiny-bert', input: 'x', encoding_format: 'int8' }, 400, 'encoding_format', /'float' or 'base64'/],
      [{ input: 'x' }, 400, 'model', /'model' is required/],
      [{ model: 'tiny-gpt2', input: 'x' }, 400, 'model', /serves text_generation; embeddings needs a text_embedding model/],
      [{ model: 'onnx-model', input: 'x' }, 400, 'model', /not a text model/],
      [{ model: 'ghost', input: 'x' }, 404, null, /The model 'ghost' does not exist/],
    ];
    for (const [body, status, param, message] of cases) {
      const res = await post(`${api}/embeddings`, body);
      const json = (await res.json()) as any;
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(json.error.param, param);
      assert.equal(json.error.code, status);
      assert.equal(json.error.type, status === 404 ? 'NotFoundError' : 'BadRequestError');
      assert.match(json.error.message, message);
    }
    const notJson = await fetch(`${api}/embeddings`, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as any).error.message, /not valid JSON/);
  });

  it('completions: greedy text equals torch, with usage and finish_reason', async () => {
    const res = await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: greedy.prompt, max_tokens: 8, temperature: 0 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.match(body.id, /^cmpl-/);
    assert.equal(body.object, 'text_completion');
    assert.deepEqual(body.choices, [{ index: 0, text: greedy.greedy_text, logprobs: null, finish_reason: 'length' }]);
    assert.deepEqual(body.usage, {
      prompt_tokens: greedy.ids.length,
      completion_tokens: 8,
      total_tokens: greedy.ids.length + 8,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('completions: a list of prompts, echo, and stop strings', async () => {
    const prompts = gpt2Expected.prompts.map((p) => p.prompt);
    const list = (await (
      await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: prompts, max_tokens: 8, temperature: 0, echo: true })
    ).json()) as any;
    assert.deepEqual(
      list.choices.map((c: { text: string }) => c.text),
      gpt2Expected.prompts.map((p) => p.prompt + p.greedy_text),
    );
    // "the cat sat on" continues "onononCCCCC": stop at the first "C".
    const second = gpt2Expected.prompts[1]!;
    const stop = (await (
      await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: second.prompt, max_tokens: 8, temperature: 0, stop: ['C', 'zz'] })
    ).json()) as any;
    const cut = second.greedy_text.indexOf('C');
    assert.ok(cut > 0);
    assert.deepEqual([stop.choices[0].text, stop.choices[0].finish_reason], [second.greedy_text.slice(0, cut), 'stop']);
  });

  it('completions: sampling with a seed repeats itself', async () => {
    const body = { model: 'tiny-gpt2', prompt: 'hello', max_tokens: 12, temperature: 1.2, top_p: 0.95, seed: 42 };
    const a = (await (await post(`${api}/completions`, body)).json()) as any;
    const b = (await (await post(`${api}/completions`, body)).json()) as any;
    assert.equal(a.choices[0].text, b.choices[0].text);
    assert.equal(a.usage.completion_tokens, 12);
    const texts = new Set<string>();
    for (const seed of [1, 2, 3, 4])
      texts.add(((await (await post(`${api}/completions`, { ...body, seed })).json()) as any).choices[0].text);
    assert.ok(texts.size > 1, 'different seeds sample different texts');
    // A nucleus this small holds only the most likely token: sampling becomes greedy.
    const nucleus = (await (
      await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: greedy.prompt, max_tokens: 8, temperature: 1, top_p: 1e-6, seed: 3 })
    ).json()) as any;
    assert.equal(nucleus.choices[0].text, greedy.greedy_text);
  });

  it('completions: streamed as server-sent events ending in [DONE]', async () => {
    const res = await post(`${api}/completions`, {
      model: 'tiny-gpt2',
      prompt: greedy.prompt,
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const { events, done } = await readSse(res);
    assert.ok(done, 'the stream ends with [DONE]');
    const usage = events.pop();
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, {
      prompt_tokens: greedy.ids.length,
      completion_tokens: 8,
      total_tokens: greedy.ids.length + 8,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const last = events.pop();
    assert.deepEqual(last.choices, [{ index: 0, text: '', logprobs: null, finish_reason: 'length' }]);
    assert.ok(events.length >= 2, 'text arrives in several events');
    assert.ok(events.every((e) => e.object === 'text_completion' && e.id === usage.id && e.choices[0].finish_reason === null));
    assert.equal(events.map((e) => e.choices[0].text).join(''), greedy.greedy_text);
  });

  it('chat completions: the chat template renders the prompt; greedy content equals torch', async () => {
    const res = await post(`${api}/chat/completions`, { model: 'tiny-gpt2', messages: chat.messages, max_tokens: 8, temperature: 0 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, 'chat.completion');
    assert.deepEqual(body.choices, [
      { index: 0, message: { role: 'assistant', content: chat.greedy_text }, logprobs: null, finish_reason: 'length' },
    ]);
    assert.deepEqual(body.usage, {
      prompt_tokens: chat.ids.length,
      completion_tokens: 8,
      total_tokens: chat.ids.length + 8,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const parts = await post(`${api}/chat/completions`, {
      model: 'tiny-gpt2',
      temperature: 0,
      max_completion_tokens: 8,
      messages: chat.messages.map((m) => ({ role: m.role, content: [{ type: 'text', text: m.content }] })),
    });
    assert.equal(((await parts.json()) as any).choices[0].message.content, chat.greedy_text);
  });

  it('chat completions: streamed deltas, role first, ending in [DONE]', async () => {
    const res = await post(`${api}/chat/completions`, {
      model: 'tiny-gpt2',
      messages: chat.messages,
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    const { events, done } = await readSse(res);
    assert.ok(done);
    assert.ok(events.every((e) => e.object === 'chat.completion.chunk'));
    assert.equal(events[0].choices[0].delta.role, 'assistant');
    const last = events.pop();
    assert.deepEqual(last.choices[0], { index: 0, delta: {}, logprobs: null, finish_reason: 'length' });
    assert.equal(events.map((e) => e.choices[0].delta.content).join(''), chat.greedy_text);
  });

  it('chat completions: a tokenizer without a chat template gets a clear 400', async () => {
    const res = await post(`${api}/chat/completions`, { model: 'gpt2-no-template', messages: chat.messages, max_tokens: 2 });
    assert.equal(res.status, 400);
    const body = (await res.json()) as any;
    assert.equal(body.error.type, 'BadRequestError');
    assert.match(body.error.message, /no chat_template/);
    const plain = await post(`${api}/completions`, { model: 'gpt2-no-template', prompt: greedy.prompt, max_tokens: 8, temperature: 0 });
    assert.equal(((await plain.json()) as any).choices[0].text, greedy.greedy_text);
  });

  it('too long for max_model_len: 400 before any event, also when streaming', async () => {
    const longPrompt = 'hello world '.repeat(300);
    for (const stream of [false, true]) {
      const res = await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: longPrompt, max_tokens: 4, stream });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type')!, /application\/json/);
      const message = ((await res.json()) as any).error.message as string;
      const m =
        /maximum context length is 512 tokens\. However, you requested (\d+) tokens \((\d+) in the prompt, 4 in the completion\)/.exec(
          message,
        );
      assert.ok(m, message);
      assert.ok(Number(m[2]) > 512 && Number(m[1]) === Number(m[2]) + 4);
    }
    const tooMany = await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: greedy.prompt, max_tokens: 511 });
    assert.equal(tooMany.status, 400);
  });

  it('refuses what it cannot honour, by name', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ n: 0 }, 'n'],
      [{ best_of: 2 }, 'best_of'],
      [{ logit_bias: { '5': 101 } }, 'logit_bias'],
      [{ response_format: { type: 'json_object' } }, 'response_format'],
      [{ suffix: 'x' }, 'suffix'],
      [{ logprobs: 21 }, 'logprobs'],
      [{ temperature: 3 }, 'temperature'],
      [{ stop: 7 }, 'stop'],
      [{ max_tokens: -1 }, 'max_tokens'],
      [{ prompt: [[1.5, 2]] }, 'prompt'],
    ];
    for (const [extra, param] of cases) {
      const res = await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: 'hi', ...extra });
      assert.equal(res.status, 400, param);
      assert.equal(((await res.json()) as any).error.param, param);
    }
    const chatBad = await post(`${api}/chat/completions`, { model: 'tiny-gpt2', messages: [{ content: 'no role' }] });
    assert.equal(((await chatBad.json()) as any).error.param, 'messages[0]');
  });

  it('a prompt list runs its prompts together: streamed, the choices interleave by index and each ends once', async () => {
    const prompts = [greedy.prompt, 'the quick brown fox', 'hello'];
    const body = { model: 'tiny-gpt2', prompt: prompts, max_tokens: 16, temperature: 0 };
    const solo: string[] = [];
    for (const prompt of prompts)
      solo.push(((await (await post(`${api}/completions`, { ...body, prompt })).json()) as any).choices[0].text);
    const whole = (await (await post(`${api}/completions`, body)).json()) as any;
    assert.deepEqual(
      whole.choices.map((c: any) => c.text),
      solo,
    );
    const res = await post(`${api}/completions`, { ...body, stream: true, stream_options: { include_usage: true } });
    const { events, done } = await readSse(res);
    assert.ok(done);
    const chunks = events.filter((e) => e.choices.length);
    const texts = prompts.map((_, i) => chunks.filter((e) => e.choices[0].index === i).map((e) => e.choices[0].text as string));
    assert.deepEqual(
      texts.map((t) => t.join('')),
      solo,
    );
    for (const i of prompts.keys()) {
      const ends = chunks.filter((e) => e.choices[0].index === i && e.choices[0].finish_reason !== null);
      assert.equal(ends.length, 1, `choice ${i} ends once`);
    }
    // Together, not one after another: a later choice's text starts before the first choice ends.
    const order = chunks.map((e) => e.choices[0].index as number);
    assert.ok(order.indexOf(1) < order.lastIndexOf(0), `chunks by index: ${order.join(',')}`);
    assert.equal(events.at(-1).usage.completion_tokens, whole.usage.completion_tokens);
  });

  it('a client that disconnects mid-stream stops its generation (logged with the tokens made)', async () => {
    const maxTokens = gpt2Expected.long_greedy_tokens - 10; // greedy never ends early on this prompt
    const controller = new AbortController();
    const res = await post(
      `${api}/completions`,
      { model: 'tiny-gpt2', prompt: greedy.prompt, max_tokens: maxTokens, temperature: 0, stream: true },
      controller.signal,
    );
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value!).toString(), /^data: /);
    controller.abort();
    let cancelled: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && !cancelled; i++) {
      await new Promise((r) => setTimeout(r, 25));
      cancelled = srv.lines.find((l) => l.msg === 'generation cancelled: client disconnected');
    }
    assert.ok(cancelled, 'the server logs the cancelled generation');
    assert.equal(cancelled.model, 'tiny-gpt2');
    assert.equal(cancelled.maxTokens, maxTokens);
    assert.ok((cancelled.generatedTokens as number) < maxTokens, `stopped after ${cancelled.generatedTokens} of ${maxTokens} tokens`);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /tsserve_generations_cancelled_total\{model_name="tiny-gpt2"\} 1/);
    assert.match(metrics, /tsserve_inference_requests_total\{model_name="tiny-gpt2",protocol="openai",status="200"\}/);
    // The worker is free again.
    const next = await post(`${api}/completions`, { model: 'tiny-gpt2', prompt: greedy.prompt, max_tokens: 8, temperature: 0 });
    assert.equal(((await next.json()) as any).choices[0].text, greedy.greedy_text);
  });
});

describe('OpenAI route prefix', () => {
  it('KSERVE_OPENAI_ROUTE_PREFIX="" serves /v1/completions next to KServe V1', async () => {
    const { options } = parseTsserveArgs([], { KSERVE_OPENAI_ROUTE_PREFIX: '' });
    assert.equal(options.openai_route_prefix, '');
    const repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'tiny-gpt2');
    const srv = await startLoggedServer(repo.dir, { openai_route_prefix: '' });
    try {
      const res = await post(`${srv.url}/v1/completions`, { model: 'tiny-gpt2', prompt: greedy.prompt, max_tokens: 8, temperature: 0 });
      assert.equal(((await res.json()) as any).choices[0].text, greedy.greedy_text);
      const models = (await getJson(`${srv.url}/v1/models`)).body;
      assert.deepEqual([models.models, models.data.map((m: { id: string }) => m.id)], [['tiny-gpt2'], ['tiny-gpt2']]);
      assert.equal((await post(`${srv.url}/openai/v1/completions`, {})).status, 404);
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});

describe("OpenAI sampling defaults from the model's generation_config.json", () => {
  let repo: TempRepo;
  let srv: Awaited<ReturnType<typeof startLoggedServer>>;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'tiny-gpt2');
    // A model whose creator recommends sampling settings, read as vLLM reads them by default,
    // and the same model told to ignore them (--generation_config vllm).
    const own = JSON.parse(readFileSync(repoPath(HF.gpt2, 'generation_config.json'), 'utf8'));
    // repetition_penalty 1 restates Hugging Face's default, which vLLM leaves out.
    const recommended = JSON.stringify({ ...own, top_k: 1, temperature: 0.7, repetition_penalty: 1, max_new_tokens: 6 });
    await copyHfModel(repo, HF.gpt2, 'gpt2-recommends', ['generation_config.json']);
    await repo.write('gpt2-recommends/generation_config.json', recommended);
    await copyHfModel(repo, HF.gpt2, 'gpt2-vllm-defaults', ['generation_config.json']);
    await repo.write('gpt2-vllm-defaults/generation_config.json', recommended);
    await repo.write('gpt2-vllm-defaults/config.pbtxt', 'parameters { key: "generation_config" value: { string_value: "vllm" } }');
    srv = await startLoggedServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it("sampling defaults come from the model's generation_config.json, as vLLM's --generation-config auto; a request's own fields win", async () => {
    const complete = async (model: string, fields: object) =>
      (await (await post(`${srv.url}/v1/completions`, { model, prompt: greedy.prompt, seed: 5, ...fields })).json()) as any;
    const chatWith = async (model: string, fields: object) =>
      (await (await post(`${srv.url}/v1/chat/completions`, { model, messages: chat.messages, seed: 5, ...fields })).json()) as any;
    // top_k 1 from the file: sampling at the file's temperature takes the most likely token.
    const recommended = await complete('gpt2-recommends', {});
    const greedySix = await complete('tiny-gpt2', { temperature: 0, max_tokens: 6 });
    assert.equal(recommended.choices[0].text, greedySix.choices[0].text);
    // max_new_tokens 6 is the default and a cap, for completions and chat alike.
    assert.equal(recommended.usage.completion_tokens, 6);
    assert.equal((await complete('gpt2-recommends', { max_tokens: 50 })).usage.completion_tokens, 6);
    assert.equal((await complete('gpt2-recommends', { max_tokens: 3 })).usage.completion_tokens, 3);
    const chatted = await chatWith('gpt2-recommends', {});
    assert.equal(chatted.usage.completion_tokens, 6);
    assert.equal(
      chatted.choices[0].message.content,
      (await chatWith('tiny-gpt2', { temperature: 0, max_tokens: 6 })).choices[0].message.content,
    );
    // Without the file's settings (vllm) the same requests sample from every token at temperature 1.
    const drawn = async (model: string) =>
      new Set(
        await Promise.all([1, 2, 3, 4, 5, 6].map(async (seed) => (await complete(model, { seed, prompt: 'hello' })).choices[0].text)),
      );
    assert.equal((await drawn('gpt2-recommends')).size, 1);
    assert.ok((await drawn('gpt2-vllm-defaults')).size > 1);
    assert.equal((await complete('gpt2-vllm-defaults', {})).usage.completion_tokens, 16, "OpenAI's default max_tokens");
    // Fields the request sets win over the file's: the same draw as the model without them.
    const own = await complete('gpt2-recommends', { top_k: -1, temperature: 1, max_tokens: 6 });
    assert.equal(own.choices[0].text, (await complete('gpt2-vllm-defaults', { max_tokens: 6 })).choices[0].text);
  });
});

describe('OpenAI prompts: special tokens as vLLM adds them', () => {
  let repo: TempRepo;
  let srv: Awaited<ReturnType<typeof startLoggedServer>>;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'tiny-gpt2');
    // A tokenizer that puts a BOS before every text, and a chat template that writes one, as Llama's.
    const tokenizer = JSON.parse(readFileSync(repoPath(HF.gpt2, 'tokenizer.json'), 'utf8'));
    const bos = '<|endoftext|>';
    tokenizer.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [283], tokens: [bos] } },
    };
    const config = JSON.parse(readFileSync(repoPath(HF.gpt2, 'tokenizer_config.json'), 'utf8'));
    await copyHfModel(repo, HF.gpt2, 'bos-gpt2', ['tokenizer.json', 'tokenizer_config.json']);
    await repo.write('bos-gpt2/tokenizer.json', JSON.stringify(tokenizer));
    await repo.write(
      'bos-gpt2/tokenizer_config.json',
      JSON.stringify({ ...config, chat_template: `{{ bos_token }}${config.chat_template}` }),
    );
    srv = await startLoggedServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('a text prompt gets the BOS the tokenizer adds, chat messages only the one their template writes; add_special_tokens and add_generation_prompt change that', async () => {
    const usage = async (route: string, body: object) => {
      const res = (await (await post(`${srv.url}/v1/${route}`, { max_tokens: 1, temperature: 0, ...body })).json()) as any;
      assert.ok(res.usage, JSON.stringify(res));
      return res.usage.prompt_tokens as number;
    };
    const text = await usage('completions', { model: 'tiny-gpt2', prompt: greedy.prompt });
    assert.equal(await usage('completions', { model: 'bos-gpt2', prompt: greedy.prompt }), text + 1);
    assert.equal(await usage('completions', { model: 'bos-gpt2', prompt: greedy.prompt, add_special_tokens: false }), text);
    const chatted = await usage('chat/completions', { model: 'tiny-gpt2', messages: chat.messages });
    assert.equal(chatted, chat.ids.length);
    assert.equal(await usage('chat/completions', { model: 'bos-gpt2', messages: chat.messages }), chatted + 1, 'one BOS, not two');
    assert.equal(await usage('chat/completions', { model: 'bos-gpt2', messages: chat.messages, add_special_tokens: true }), chatted + 2);
    // Without the generation prompt the rendered chat lacks "assistant:".
    const open = await usage('chat/completions', { model: 'tiny-gpt2', messages: chat.messages, add_generation_prompt: false });
    assert.ok(open < chatted, `${open} < ${chatted}`);
    const bad = await post(`${srv.url}/v1/chat/completions`, { model: 'tiny-gpt2', messages: chat.messages, add_special_tokens: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error.message, /'add_special_tokens' must be true or false/);
  });
});
