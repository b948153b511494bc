/**
 * The generation engine over HTTP and gRPC: sequences of different requests share decoder
 * steps (continuous batching) and still get the tokens each gets alone; requests join and
 * leave mid-run, stop when cancelled, wait for the KV-cache budget, are refused past the queue
 * limit, reuse cached prompt prefixes; vLLM's metrics follow all of it.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ELEM, FIELDS, tensorValueInfo } from '../runtimes/onnx-ml/onnx-proto.js';
import { ProtoWriter } from '../runtimes/onnx-ml/protobuf.js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, copyHfModel, fp16IoExpected, gpt2Expected, gqaExpected, post, t5Expected } from './helpers/hf.js';
import { type TestServer, metricSample, postJson, repoPath, startTestServer } from './helpers/server.js';
import { GrpcTestClient, assertStatus } from './helpers/grpc-client.js';

interface Generated {
  text: string;
  ids: number[];
}

type Params = Record<string, number | string>;

/** One prompt through v2 REST infer: its text and token ids. */
async function v2Generate(url: string, model: string, prompt: string, parameters: Params): Promise<Generated> {
  const input = { name: 'text', datatype: 'BYTES', shape: [1], data: [prompt] };
  const { status, body } = await postJson(`${url}/v2/models/${model}/infer`, { inputs: [input], parameters });
  assert.equal(status, 200, JSON.stringify(body));
  return { text: body.outputs[0].data[0], ids: (body.outputs[1].data as number[]).filter((id) => id >= 0) };
}

/** One prompt through gRPC ModelInfer. */
async function grpcGenerate(client: GrpcTestClient, model: string, prompt: string, maxTokens: number): Promise<Generated> {
  const response = await client.call('ModelInfer', {
    model_name: model,
    inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(prompt)] } }],
    parameters: { max_tokens: { int64_param: maxTokens } },
  });
  const raw = response.raw_output_contents as Buffer[];
  const ids = raw[1]!;
  return {
    text: raw[0]!.subarray(4).toString('utf8'),
    ids: Array.from({ length: ids.length / 8 }, (_, i) => Number(ids.readBigInt64LE(i * 8))),
  };
}

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Polls until `check` holds; fails naming `what` past the deadline. */
async function until(check: () => Promise<boolean>, what: string, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** Finished requests of a model, whatever their finish reason. */
function finishedCount(text: string, model: string): number {
  return ['stop', 'length', 'abort'].reduce(
    (n, reason) => n + metricSample(text, 'vllm:request_success_total', { model_name: model, finished_reason: reason }),
    0,
  );
}

/**
 * Scrapes once `n` more requests than in `before` have been counted: a worker reports a finished
 * sequence on its own channel, which may reach the main thread just after the response.
 */
async function scrapeAfter(url: string, before: string, n: number, model = 'gpt2'): Promise<string> {
  let text = '';
  await until(
    async () => finishedCount((text = await scrape(url)), model) >= finishedCount(before, model) + n,
    `${n} requests are counted`,
  );
  return text;
}

/** Reads a streamed completion's events as they come; `first` settles at the first text. */
function streamCompletion(api: string, body: object, signal?: AbortSignal) {
  let seen!: () => void;
  const first = new Promise<void>((resolve) => (seen = resolve));
  const done = (async () => {
    const res = await post(`${api}/completions`, { ...body, stream: true }, signal);
    assert.equal(res.status, 200);
    let text = '';
    let finish: string | null = null;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const part of res.body!) {
        buffered += decoder.decode(part as Uint8Array, { stream: true });
        let cut;
        while ((cut = buffered.indexOf('\n\n')) >= 0) {
          const event = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 2);
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const data = JSON.parse(event.slice(6));
          if (!data.choices) throw new Error(`the stream sent ${event}`);
          const choice = data.choices[0];
          if (choice?.text) {
            text += choice.text;
            seen();
          }
          if (choice?.finish_reason) finish = choice.finish_reason;
        }
      }
    } catch (error) {
      if (!signal?.aborted) throw error;
    }
    return { text, finish };
  })();
  return { first, done };
}

// Prompts of different lengths, so that a batch needs padding.
const PROMPTS = [
  gpt2Expected.prompts[0]!.prompt,
  gpt2Expected.prompts[1]!.prompt,
  'a much longer prompt than the others, so that the batch must pad the short ones on the left',
  'x',
  'the quick brown fox jumps over the lazy dog',
  'hello',
];

/** PROMPTS through `model` one after another, prompt i with params(i). */
async function oneByOne(url: string, model: string, params: (i: number) => Params): Promise<Generated[]> {
  const out: Generated[] = [];
  for (const [i, prompt] of PROMPTS.entries()) out.push(await v2Generate(url, model, prompt, params(i)));
  return out;
}

/** PROMPTS through `model` all at once, prompt i with params(i). */
function allAtOnce(url: string, model: string, params: (i: number) => Params): Promise<Generated[]> {
  return Promise.all(PROMPTS.map((prompt, i) => v2Generate(url, model, prompt, params(i))));
}

describe('generation engine: continuous batching', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let api: string;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'gpt2');
    await copyHfModel(repo, HF.t5, 't5');
    await copyHfModel(repo, HF.gpt2MaskPositions, 'mask-positions');
    await copyHfModel(repo, HF.llamaGqa, 'gqa');
    await copyHfModel(repo, HF.gpt2Fp16Io, 'fp16-io');
    // A config claiming a vocabulary of 2^24 tokens: prefill runs of a graph that answers every
    // position's logits then take 4 tokens each (256 MiB of float32 logits).
    await copyHfModel(repo, HF.gpt2, 'gpt2-vast-vocab', ['config.json']);
    const config = JSON.parse(await readFile(repoPath(HF.gpt2, 'config.json'), 'utf8'));
    await repo.write('gpt2-vast-vocab/config.json', JSON.stringify({ ...config, vocab_size: 2 ** 24 }));
    await copyHfModel(repo, HF.gpt2Gemma3Io, 'gemma3-io');
    // A graph input the engine does not know: the model must be refused at load, not fail each request.
    await copyHfModel(repo, HF.gpt2, 'extra-input');
    const graph = new ProtoWriter().bytes(FIELDS.graph.input, tensorValueInfo('token_type_ids', ELEM.INT64)).finish();
    const file = join(repo.dir, 'extra-input', 'onnx', 'model.onnx');
    await writeFile(file, Buffer.concat([await readFile(file), new ProtoWriter().bytes(FIELDS.model.graph, graph).finish()]));
    srv = await startTestServer(repo.dir, { enable_grpc: true });
    api = `${srv.url}/openai/v1`;
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('decoder-only: greedy ids of requests running together equal their ids alone (REST v2)', async () => {
    const params = (i: number) => ({ max_tokens: 100 + 7 * i });
    const solo = await oneByOne(srv.url, 'gpt2', params);
    // The fixture's torch expectation holds for the solo run too.
    assert.deepEqual(solo[0]!.ids.slice(0, 8), gpt2Expected.prompts[0]!.greedy_ids);
    let most = 0;
    let running = true;
    const watch = (async () => {
      while (running) {
        most = Math.max(most, metricSample(await scrape(srv.url), 'vllm:num_requests_running', { model_name: 'gpt2' }));
      }
    })();
    const together = await allAtOnce(srv.url, 'gpt2', params);
    running = false;
    await watch;
    assert.deepEqual(together, solo);
    assert.ok(most >= 2, `several sequences ran at once (most seen: ${most})`);
  });

  it('decoder-only graphs that count positions from the attention mask (no position_ids; steps fetch whole present outputs): requests together get the solo ids', async () => {
    const params = (i: number) => ({ max_tokens: 40 + 7 * i });
    const solo = await oneByOne(srv.url, 'gpt2', params);
    // The same weights as tiny-gpt2: its torch expectation, alone and together.
    for (const { prompt, greedy_ids } of gpt2Expected.prompts) {
      assert.deepEqual((await v2Generate(srv.url, 'mask-positions', prompt, { max_tokens: 8 })).ids, greedy_ids, prompt);
    }
    // Twice: the second time the long prompt's first block comes from the prefix cache.
    for (let round = 0; round < 2; round++) {
      const together = await allAtOnce(srv.url, 'mask-positions', params);
      assert.deepEqual(together, solo, `round ${round}`);
    }
  });

  it('decoder-only graphs with float16 past, present and logits (fp16 and q4f16 exports): the torch ids alone, and the solo ids together', async () => {
    for (const { prompt, greedy_ids } of fp16IoExpected.prompts) {
      assert.deepEqual((await v2Generate(srv.url, 'fp16-io', prompt, { max_tokens: 8 })).ids, greedy_ids, prompt);
    }
    const params = (i: number) => ({ max_tokens: 20 + 5 * i });
    const solo = await oneByOne(srv.url, 'fp16-io', params);
    const together = await allAtOnce(srv.url, 'fp16-io', params);
    assert.deepEqual(together, solo);
    // Log-probabilities are read from the same float16 logits: finite, at most 0, the chosen token's the largest when greedy.
    const scored = (await (
      await post(`${api}/completions`, { model: 'fp16-io', prompt: PROMPTS[0], max_tokens: 4, temperature: 0, logprobs: 2 })
    ).json()) as any;
    const { token_logprobs: lps, top_logprobs: tops } = scored.choices[0].logprobs;
    lps.forEach((lp: number, i: number) => {
      assert.ok(Number.isFinite(lp) && lp <= 0, `logprob ${lp}`);
      assert.equal(lp, Math.max(...(Object.values(tops[i]) as number[])));
    });
  });

  it("a graph that answers every position's logits is prefilled in runs their size bounds, with the same ids", async () => {
    const params = (i: number) => ({ max_tokens: 12 + 3 * i });
    const solo = await oneByOne(srv.url, 'gpt2', params);
    assert.deepEqual(await v2Generate(srv.url, 'gpt2-vast-vocab', PROMPTS[2]!, params(2)), solo[2]);
    const together = await allAtOnce(srv.url, 'gpt2-vast-vocab', params);
    assert.deepEqual(together, solo);
  });

  it('GroupQueryAttention decoders (onnx-community exports; weights in an external data file): alone, together and from cached blocks, the ids of the numpy reference', async () => {
    const want = gqaExpected.prompts.map((p) => p.greedy_ids);
    const generate = (prompt: string, i: number) => v2Generate(srv.url, 'gqa', prompt, { max_tokens: want[i]!.length });
    for (const [i, { prompt }] of gqaExpected.prompts.entries()) assert.deepEqual((await generate(prompt, i)).ids, want[i], prompt);
    // Rows of different lengths share prefills and steps, the long prompt from the blocks its solo
    // run cached; requests that stop early leave the others mid-run.
    const together = await Promise.all(gqaExpected.prompts.map(({ prompt }, i) => generate(prompt, i)));
    assert.deepEqual(
      together.map((g) => g.ids),
      want,
    );
    const early = await Promise.all(
      gqaExpected.prompts.map(({ prompt }, i) => v2Generate(srv.url, 'gqa', prompt, { max_tokens: 3 + 4 * i })),
    );
    assert.deepEqual(
      early.map((g) => g.ids),
      want.map((ids, i) => ids.slice(0, 3 + 4 * i)),
    );
    const text = await scrape(srv.url);
    assert.ok(metricSample(text, 'vllm:prefix_cache_hits_total', { model_name: 'gqa' }) >= 48, 'the long prompt hit its cached blocks');
  });

  it('decoder-only graphs with use_cache_branch, num_logits_to_keep and positions from 1 (Gemma 3 exports) get the same tokens', async () => {
    // The fixture holds tiny-gpt2's weights; fed as transformers.js feeds it, it gives tiny-gpt2's ids.
    for (const { prompt, greedy_ids } of gpt2Expected.prompts) {
      assert.deepEqual((await v2Generate(srv.url, 'gemma3-io', prompt, { max_tokens: 8 })).ids, greedy_ids, prompt);
    }
    const params = (i: number) => ({ max_tokens: 30 + 5 * i });
    const reference = await oneByOne(srv.url, 'gpt2', params);
    // Twice together: the second time the long prompt's first block comes from the prefix cache.
    for (let round = 0; round < 2; round++) {
      const together = await allAtOnce(srv.url, 'gemma3-io', params);
      assert.deepEqual(together, reference, `round ${round}`);
    }
    const { status, body } = await postJson(`${srv.url}/v2/models/extra-input/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['hello'] }],
    });
    assert.equal(status, 503);
    assert.match(
      body.error,
      /the decoder graph takes token_type_ids, which the generation engine does not feed; it feeds input_ids, attention_mask/,
    );
  });

  it('decoder-only: a v2 request of several prompts runs them together with the same ids', async () => {
    const input = { name: 'text', datatype: 'BYTES', shape: [PROMPTS.length], data: PROMPTS };
    const { status, body } = await postJson(`${srv.url}/v2/models/gpt2/infer`, { inputs: [input], parameters: { max_tokens: 12 } });
    assert.equal(status, 200);
    const width = body.outputs[1].shape[1];
    for (const [i, prompt] of PROMPTS.entries()) {
      const alone = await v2Generate(srv.url, 'gpt2', prompt, { max_tokens: 12 });
      assert.deepEqual(
        (body.outputs[1].data as number[]).slice(i * width, (i + 1) * width).filter((id) => id >= 0),
        alone.ids,
        prompt,
      );
    }
  });

  it('encoder-decoder: greedy ids under concurrent gRPC requests equal torch and the solo ids', async () => {
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const prompts = t5Expected.prompts.map((p) => p.prompt);
      const solo: Generated[] = [];
      for (const prompt of prompts) solo.push(await grpcGenerate(client, 't5', prompt, 30));
      solo.forEach((g, i) => assert.deepEqual(g.ids.slice(0, 8), t5Expected.prompts[i]!.greedy_ids));
      const together = await Promise.all([...prompts, ...prompts].map((prompt) => grpcGenerate(client, 't5', prompt, 30)));
      assert.deepEqual(together, [...solo, ...solo]);
    } finally {
      client.close();
    }
  });

  it('a request joins a running one mid-run and leaves before it; both get their solo tokens', async () => {
    const long = { model: 'gpt2', prompt: PROMPTS[2], max_tokens: 400, temperature: 0 };
    const short = { model: 'gpt2', prompt: PROMPTS[4], max_tokens: 6, temperature: 0 };
    const longAlone = (await (await post(`${api}/completions`, long)).json()) as any;
    const shortAlone = (await (await post(`${api}/completions`, short)).json()) as any;
    const running = streamCompletion(api, long);
    await running.first; // the long one is decoding now
    let longDone = false;
    const longResult = running.done.then((r) => ((longDone = true), r));
    const joined = (await (await post(`${api}/completions`, short)).json()) as any;
    assert.equal(longDone, false, 'the short request finished while the long one kept running');
    assert.equal(joined.choices[0].text, shortAlone.choices[0].text);
    const finished = await longResult;
    assert.equal(finished.text, longAlone.choices[0].text);
    assert.equal(finished.finish, 'length');
  });

  it('requests join and leave one after another beside a long one, the last longer than the batch; all get their solo tokens', async () => {
    const request = (prompt: string, maxTokens: number) => ({ model: 'gpt2', prompt, max_tokens: maxTokens, temperature: 0 });
    const completion = async (body: object) => {
      const res = await post(`${api}/completions`, body);
      const answer = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(answer));
      return answer.choices[0].text as string;
    };
    const long = request(PROMPTS[0]!, 490);
    // Each joiner leaves before the next comes; the last one's prompt is longer than the long
    // request's cache, so the batch grows wider for it and narrows again when it leaves.
    const joiners = [PROMPTS[4]!, PROMPTS[5]!, `${PROMPTS[2]} ${PROMPTS[2]} ${PROMPTS[2]}`].map((p) => request(p, 6));
    const alone = [];
    for (const body of [long, ...joiners]) alone.push(await completion(body));
    const running = streamCompletion(api, long);
    await running.first;
    let longDone = false;
    const longResult = running.done.then((r) => ((longDone = true), r));
    for (const [i, body] of joiners.entries()) assert.equal(await completion(body), alone[i + 1], `joiner ${i}`);
    assert.equal(longDone, false, 'the joiners ran while the long request kept running');
    assert.equal((await longResult).text, alone[0]);
  });

  it('stop strings, different max_tokens and sampling settings share steps and act per request', async () => {
    const base = { model: 'gpt2', prompt: PROMPTS[1], temperature: 0 };
    const greedy = (await (await post(`${api}/completions`, { ...base, max_tokens: 20 })).json()) as any;
    const text: string = greedy.choices[0].text;
    const stop = text.slice(5, 7);
    const bodies = [
      { ...base, max_tokens: 20 },
      { ...base, max_tokens: 3 },
      { ...base, max_tokens: 20, stop: [stop] },
      { ...base, max_tokens: 20, temperature: 1.3, seed: 11 },
      { ...base, max_tokens: 20, temperature: 1, top_p: 1e-6, seed: 5 },
      { ...base, prompt: PROMPTS[3], max_tokens: 25, temperature: 0.8, top_p: 0.9, seed: 99 },
    ];
    const solo: any[] = [];
    for (const body of bodies) solo.push(await (await post(`${api}/completions`, body)).json());
    const together = (await Promise.all(bodies.map(async (body) => (await post(`${api}/completions`, body)).json()))) as any[];
    assert.deepEqual(
      together.map((r) => r.choices[0]),
      solo.map((r) => r.choices[0]),
    );
    assert.equal(solo[0].choices[0].text, text);
    assert.equal(solo[1].usage.completion_tokens, 3);
    assert.equal(solo[2].choices[0].text, text.slice(0, text.indexOf(stop)));
    assert.equal(solo[2].choices[0].finish_reason, 'stop');
    assert.equal(solo[4].choices[0].text, text, 'a nucleus of one token is greedy');
  });

  it('a cancelled stream leaves the batch at once; the others go on unchanged', async () => {
    const text = await scrape(srv.url);
    const aborted = metricSample(text, 'vllm:request_success_total', { model_name: 'gpt2', finished_reason: 'abort' });
    const other = { model: 'gpt2', prompt: PROMPTS[0], max_tokens: 120, temperature: 0 };
    const alone = (await (await post(`${api}/completions`, other)).json()) as any;
    const controller = new AbortController();
    const doomed = streamCompletion(api, { model: 'gpt2', prompt: PROMPTS[5], max_tokens: 500, temperature: 0 }, controller.signal);
    await doomed.first;
    const survivor = post(`${api}/completions`, other);
    controller.abort();
    await doomed.done;
    assert.equal(((await (await survivor).json()) as any).choices[0].text, alone.choices[0].text);
    await until(
      async () =>
        metricSample(await scrape(srv.url), 'vllm:request_success_total', { model_name: 'gpt2', finished_reason: 'abort' }) === aborted + 1,
      'the abort is counted',
    );
    await until(async () => metricSample(await scrape(srv.url), 'vllm:num_requests_running', { model_name: 'gpt2' }) === 0, 'nothing runs');
  });

  it("prefix caching: a repeated prompt's leading blocks are hits, counted, and the output is unchanged", async () => {
    const system = 'You are a helpful assistant that answers briefly and never repeats itself. ';
    const prompt = `${system}Question: what is the weather like today?`;
    const before = await scrape(srv.url);
    const first = (await (await post(`${api}/completions`, { model: 'gpt2', prompt, max_tokens: 16, temperature: 0 })).json()) as any;
    const second = (await (await post(`${api}/completions`, { model: 'gpt2', prompt, max_tokens: 16, temperature: 0 })).json()) as any;
    const n = first.usage.prompt_tokens as number;
    assert.ok(n > 32, `the prompt spans full blocks (${n} tokens)`);
    const reusable = Math.floor((n - 1) / 16) * 16;
    assert.equal(first.usage.prompt_tokens_details.cached_tokens, 0);
    assert.equal(second.usage.prompt_tokens_details.cached_tokens, reusable);
    assert.equal(second.choices[0].text, first.choices[0].text);
    const after = await scrapeAfter(srv.url, before, 2);
    const delta = (name: string) => metricSample(after, name, { model_name: 'gpt2' }) - metricSample(before, name, { model_name: 'gpt2' });
    assert.equal(delta('vllm:prefix_cache_queries_total'), 2 * n);
    assert.equal(delta('vllm:prefix_cache_hits_total'), reusable);
    // A prompt that shares only the system prompt's blocks reuses those.
    const other = (await (
      await post(`${api}/completions`, { model: 'gpt2', prompt: `${system}Question: and tomorrow?`, max_tokens: 16, temperature: 0 })
    ).json()) as any;
    assert.ok(other.usage.prompt_tokens_details.cached_tokens >= 16);
    const info = after.split('\n').find((l) => l.startsWith('vllm:cache_config_info{') && l.includes('model_name="gpt2"'));
    assert.match(info ?? '', /block_size="16"/);
    assert.match(info ?? '', /enable_prefix_caching="true"/);
  });

  it('prompts that start from cached blocks prefill in one run beside fresh ones and keep their solo output', async () => {
    const system = 'Answer in one short sentence, as a patient teacher would answer a curious child who asks. ';
    // Different rests after the shared blocks, and one prompt with nothing cached, share one padded prefill.
    const prompts = [
      `${system}Why is the sky blue?`,
      `${system}And why do the leaves of the trees turn red and yellow and brown in the autumn, every single year?`,
      'hello', // shorter than a block: never cached
      `${system}Why?`,
    ];
    const complete = async (prompt: string | string[]) =>
      (await (await post(`${api}/completions`, { model: 'gpt2', prompt, max_tokens: 12, temperature: 0 })).json()) as any;
    const solo: string[] = [];
    for (const prompt of prompts) solo.push((await complete(prompt)).choices[0].text);
    const together = await complete(prompts);
    const texts = [...together.choices].sort((a, b) => a.index - b.index).map((c) => c.text);
    assert.deepEqual(texts, solo);
    const cached = together.usage.prompt_tokens_details.cached_tokens as number;
    assert.ok(cached >= 3 * 16, `the three prompts with the system prompt started from its cached blocks (${cached} tokens)`);
  });

  it("vLLM's metrics move under load as the requests run and finish", async () => {
    const before = await scrape(srv.url);
    const value = (text: string, name: string, labels: Record<string, string> = {}) =>
      metricSample(text, name, { model_name: 'gpt2', ...labels });
    // Long enough that scrapes see the batch however slow the machine makes them.
    const bodies = PROMPTS.map((prompt) => ({ model: 'gpt2', prompt, max_tokens: 300, temperature: 0 }));
    let most = 0;
    let usage = 0;
    let running = true;
    const watch = (async () => {
      while (running) {
        const text = await scrape(srv.url);
        most = Math.max(most, value(text, 'vllm:num_requests_running'));
        usage = Math.max(usage, value(text, 'vllm:kv_cache_usage_perc'));
      }
    })();
    // One more over gRPC: the engine counts every route.
    const client = new GrpcTestClient(srv.grpcAddress);
    const viaGrpc = grpcGenerate(client, 'gpt2', PROMPTS[0]!, 300).finally(() => client.close());
    const results = (await Promise.all(bodies.map(async (body) => (await post(`${api}/completions`, body)).json()))) as any[];
    const grpcIds = (await viaGrpc).ids.length;
    running = false;
    await watch;
    const after = await scrapeAfter(srv.url, before, results.length + 1);
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    results.push({
      usage: { prompt_tokens: results[0].usage.prompt_tokens, completion_tokens: grpcIds },
      choices: [{ finish_reason: grpcIds < 300 ? 'stop' : 'length' }],
    });
    const prompt = results.reduce((n, r) => n + r.usage.prompt_tokens, 0);
    const generated = results.reduce((n, r) => n + r.usage.completion_tokens, 0);
    assert.ok(most >= 2, `running gauge saw the batch (${most})`);
    assert.ok(usage > 0 && usage <= 1, `kv_cache_usage_perc moved (${usage})`);
    assert.equal(delta('vllm:prompt_tokens_total'), prompt);
    assert.equal(delta('vllm:generation_tokens_total'), generated);
    const finished = results.length;
    const stops = results.filter((r) => r.choices[0].finish_reason === 'stop').length;
    assert.equal(
      delta('vllm:request_success_total', { finished_reason: 'length' }) + delta('vllm:request_success_total', { finished_reason: 'stop' }),
      finished,
    );
    assert.equal(delta('vllm:request_success_total', { finished_reason: 'stop' }), stops);
    for (const h of ['vllm:time_to_first_token_seconds', 'vllm:e2e_request_latency_seconds', 'vllm:request_queue_time_seconds']) {
      assert.equal(delta(`${h}_count`), finished, h);
    }
    assert.equal(delta('vllm:inter_token_latency_seconds_count'), generated - finished);
    assert.equal(value(after, 'vllm:num_requests_running'), 0);
    assert.equal(value(after, 'vllm:num_requests_waiting'), 0);
  });
});

describe('generation engine: limits', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let api: string;
  // tiny-gpt2: 2 layers x 4 heads x 8 x 2 x 4 bytes = 512 bytes per token; 30 blocks of 16 tokens.
  const BUDGET = 512 * 16 * 30;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'gpt2');
    srv = await startTestServer(repo.dir, {
      enable_grpc: true,
      kv_cache_memory_bytes: BUDGET,
      enable_prefix_caching: false,
      max_queue_size: 2,
    });
    api = `${srv.url}/openai/v1`;
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('sequences that outgrow the KV-cache budget are preempted, wait (the waiting gauge shows them), resume and get their solo tokens', async () => {
    // Each request grows to 2 + 450 tokens, 29 of the 30 blocks: three start together, and the
    // latest admitted gives its K/V back whenever the others need room.
    const body = { model: 'gpt2', prompt: gpt2Expected.prompts[0]!.prompt, max_tokens: 450, temperature: 0 };
    const solo = (await (await post(`${api}/completions`, body)).json()) as any;
    const preempted = async () => metricSample(await scrape(srv.url), 'vllm:num_preemptions_total', { model_name: 'gpt2' });
    const before = await preempted();
    assert.equal(before, 0, 'a request alone is never preempted');
    let most = 0;
    let running = true;
    const watch = (async () => {
      while (running) most = Math.max(most, metricSample(await scrape(srv.url), 'vllm:num_requests_waiting', { model_name: 'gpt2' }));
    })();
    const replies = await Promise.all([0, 1, 2].map(async () => post(`${api}/completions`, body)));
    running = false;
    await watch;
    const results = (await Promise.all(replies.map((r) => r.json()))) as any[];
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    for (const result of results) assert.equal(result.choices[0].text, solo.choices[0].text);
    assert.ok(most >= 1, `the waiting gauge showed queued requests (most seen: ${most})`);
    assert.ok((await preempted()) >= 2, `at least two sequences were preempted (${await preempted()})`);
    const text = await scrape(srv.url);
    assert.equal(metricSample(text, 'vllm:num_requests_waiting', { model_name: 'gpt2' }), 0);
    assert.match(text, /vllm:cache_config_info\{[^}]*num_gpu_blocks="30"/);
  });

  it('with prefix caching on, preempted sequences resume from cached blocks and still get their solo tokens', async () => {
    const cached = await startTestServer(repo.dir, { kv_cache_memory_bytes: BUDGET });
    try {
      const cachedApi = `${cached.url}/openai/v1`;
      // Different prompts of about 70 tokens (four full blocks), and 350 tokens each: 27 blocks
      // alone, so three together preempt, and a resumed one finds its prompt's blocks in the cache.
      const prompts = [0, 1, 2].map((i) => `request ${i}: ${'the cat sat on the mat and looked at the dog. '.repeat(2)}`);
      const complete = async (prompt: string) =>
        (await (await post(`${cachedApi}/completions`, { model: 'gpt2', prompt, max_tokens: 350, temperature: 0 })).json()) as any;
      const solo: any[] = [];
      for (const prompt of prompts) solo.push(await complete(prompt));
      assert.ok(solo[0].usage.prompt_tokens > 48, `three full blocks (${solo[0].usage.prompt_tokens} tokens)`);
      const together = await Promise.all(prompts.map(complete));
      together.forEach((r, i) => assert.equal(r.choices[0].text, solo[i].choices[0].text, `prompt ${i}`));
      const text = await scrape(cached.url);
      assert.ok(metricSample(text, 'vllm:num_preemptions_total', { model_name: 'gpt2' }) >= 1, 'sequences were preempted');
      assert.ok(metricSample(text, 'vllm:prefix_cache_hits_total', { model_name: 'gpt2' }) > 0, 'cached blocks were reused');
    } finally {
      await cached.close();
    }
  });

  it('admission takes room for the prompt, not for all of max_tokens: requests whose max_tokens the budget cannot all hold start together', async () => {
    // Three requests of up to 2 + 300 tokens, 19 blocks each: 57 of the 30 if reserved up front,
    // when one would run and two wait. All three run until their 160th token or so, when the
    // latest admitted start to give way.
    const body = { model: 'gpt2', prompt: gpt2Expected.prompts[0]!.prompt, max_tokens: 300, temperature: 0 };
    const solo = (await (await post(`${api}/completions`, body)).json()) as any;
    let most = 0;
    let running = true;
    const watch = (async () => {
      while (running) most = Math.max(most, metricSample(await scrape(srv.url), 'vllm:num_requests_running', { model_name: 'gpt2' }));
    })();
    const results = (await Promise.all([0, 1, 2].map(async () => (await post(`${api}/completions`, body)).json()))) as any[];
    running = false;
    await watch;
    for (const result of results) assert.equal(result.choices[0].text, solo.choices[0].text);
    assert.equal(most, 3, 'all three ran at once');
  });

  it('a request that can never fit the budget gets 400 naming the limit, over HTTP and gRPC', async () => {
    const res = await post(`${api}/completions`, { model: 'gpt2', prompt: 'hello world', max_tokens: 500 });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as any).error.message ?? '', /kv_cache_memory_bytes/);
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      await assertStatus(grpcGenerate(client, 'gpt2', 'hello world', 500), grpc.status.INVALID_ARGUMENT, /kv_cache_memory_bytes/);
    } finally {
      client.close();
    }
  });

  it('a prompt list with one prompt that can never fit: 400 naming the limit, and its other prompt stops', async () => {
    const aborted = (text: string) => metricSample(text, 'vllm:request_success_total', { model_name: 'gpt2', finished_reason: 'abort' });
    const before = aborted(await scrape(srv.url));
    // 'x' and 445 tokens fit in 28 of the 30 blocks; the longer prompt (about 50 tokens) and 445
    // tokens never fit the 480 the budget holds, though they are within max_model_len (512).
    const long = 'the quick brown fox jumps over the lazy dog, then runs away.';
    const res = await post(`${api}/completions`, { model: 'gpt2', prompt: ['x', long], max_tokens: 445, temperature: 0 });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as any).error.message ?? '', /kv_cache_memory_bytes/);
    await until(async () => aborted(await scrape(srv.url)) === before + 1, "the list's other prompt is stopped");
    // Streamed: the error is the answer (a 400, or an error event if tokens went out first), the
    // other prompt stops, and none of its late tokens is written after the answer ended.
    const streamed = await post(`${api}/completions`, {
      model: 'gpt2',
      prompt: ['x', long],
      max_tokens: 445,
      temperature: 0,
      stream: true,
    });
    const text = await streamed.text();
    assert.match(text, /kv_cache_memory_bytes/);
    await until(async () => aborted(await scrape(srv.url)) === before + 2, "the streamed list's other prompt is stopped");
    await until(async () => metricSample(await scrape(srv.url), 'vllm:num_requests_running', { model_name: 'gpt2' }) === 0, 'nothing runs');
    const after = await post(`${api}/completions`, { model: 'gpt2', prompt: 'x', max_tokens: 4, temperature: 0 });
    assert.equal(after.status, 200, 'the server still answers');
  });

  it('past max_queue_size a request gets 503 / UNAVAILABLE at once; the queued ones still finish', async () => {
    // One sequence at a time (--max_num_seqs 1, one worker): the first request runs, the next ones wait.
    const one = await startTestServer(repo.dir, { enable_grpc: true, max_num_seqs: 1, workers: 1, max_queue_size: 2 });
    const oneApi = `${one.url}/openai/v1`;
    try {
      const body = { model: 'gpt2', prompt: gpt2Expected.prompts[1]!.prompt, max_tokens: 450, temperature: 0 };
      const controller = new AbortController();
      const first = streamCompletion(oneApi, body, controller.signal);
      await first.first; // holds the only sequence slot now
      const queued = [post(`${oneApi}/completions`, body), post(`${oneApi}/completions`, body)];
      await until(
        async () => metricSample(await scrape(one.url), 'vllm:num_requests_waiting', { model_name: 'gpt2' }) === 2,
        'two requests wait',
      );
      const refused = await post(`${oneApi}/completions`, body);
      assert.equal(refused.status, 503);
      assert.match(JSON.stringify(await refused.json()), /max_queue_size/);
      const client = new GrpcTestClient(one.grpcAddress);
      try {
        await assertStatus(grpcGenerate(client, 'gpt2', 'hello', 4), grpc.status.UNAVAILABLE, /queue is full/);
      } finally {
        client.close();
      }
      controller.abort();
      await first.done;
      for (const reply of await Promise.all(queued)) assert.equal(reply.status, 200);
    } finally {
      await one.close();
    }
  });
});

describe('generation engine: chunked prefill, and continuous batching off', () => {
  let repo: TempRepo;
  let chunked: TestServer;
  let serial: TestServer;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'gpt2');
    await copyHfModel(repo, HF.llamaGqa, 'gqa');
    // Prompts longer than 8 tokens are prefilled 8 tokens (less the running sequences) per step.
    chunked = await startTestServer(repo.dir, { max_num_seqs: 4, max_num_batched_tokens: 8 });
    // --max_num_seqs 1: one sequence per engine, one engine per worker, as before engines.
    serial = await startTestServer(repo.dir, { max_num_seqs: 1, workers: 2 });
  });
  after(async () => {
    await chunked.close();
    await serial.close();
    await repo.remove();
  });

  it('chunked prompts, alone and beside running sequences, give the ids an unchunked prefill gives', async () => {
    const long = PROMPTS[2]!;
    const reference = await v2Generate(serial.url, 'gpt2', long, { max_tokens: 30 });
    assert.deepEqual(await v2Generate(chunked.url, 'gpt2', long, { max_tokens: 30 }), reference);
    const others = PROMPTS.filter((p) => p !== long).slice(0, 3);
    const together = await Promise.all([
      ...others.map((p) => v2Generate(chunked.url, 'gpt2', p, { max_tokens: 60 })),
      v2Generate(chunked.url, 'gpt2', long, { max_tokens: 30 }),
    ]);
    assert.deepEqual(together.at(-1), reference);
    for (const [i, p] of others.entries()) assert.deepEqual(together[i], await v2Generate(serial.url, 'gpt2', p, { max_tokens: 60 }));
  });

  it('a GroupQueryAttention decoder prefills a long prompt in chunks, alone and beside running sequences, with the reference ids', async () => {
    const generate = ({ prompt, greedy_ids }: (typeof gqaExpected.prompts)[number]) =>
      v2Generate(chunked.url, 'gqa', prompt, { max_tokens: greedy_ids.length });
    const long = gqaExpected.prompts.at(-1)!;
    assert.ok(long.ids.length > 8, 'the prompt spans several chunks');
    assert.deepEqual((await generate(long)).ids, long.greedy_ids);
    const together = await Promise.all(gqaExpected.prompts.map(generate));
    assert.deepEqual(
      together.map((g) => g.ids),
      gqaExpected.prompts.map((p) => p.greedy_ids),
    );
  });

  it('with --max_num_seqs 1 each worker runs one sequence at a time; the rest wait', async () => {
    let mostRunning = 0;
    let mostWaiting = 0;
    let running = true;
    const watch = (async () => {
      while (running) {
        const text = await scrape(serial.url);
        mostRunning = Math.max(mostRunning, metricSample(text, 'vllm:num_requests_running', { model_name: 'gpt2' }));
        mostWaiting = Math.max(mostWaiting, metricSample(text, 'vllm:num_requests_waiting', { model_name: 'gpt2' }));
      }
    })();
    const results = await Promise.all([0, 1, 2].map(() => v2Generate(serial.url, 'gpt2', PROMPTS[1]!, { max_tokens: 400 })));
    running = false;
    await watch;
    assert.equal(new Set(results.map((r) => r.ids.join())).size, 1);
    assert.ok(mostRunning <= 2, `two workers run one sequence each (most seen: ${mostRunning})`);
    assert.ok(mostWaiting >= 1, `the third request waited (most seen: ${mostWaiting})`);
  });
});
