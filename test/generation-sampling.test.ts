/**
 * vLLM's sampling extras and OpenAI's penalties, over the OpenAI and v2 routes, on tiny-gpt2.
 * The expected tokens come from an independent reference: the fixture's graph run in-process
 * with no cache (the whole sequence each step), the penalties applied to its logits as vLLM
 * defines them, and the argmax taken.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, copyHfModel, gpt2Expected, post, readSse } from './helpers/hf.js';
import { type TestServer, postJson, repoPath, startTestServer } from './helpers/server.js';
import { GrpcTestClient } from './helpers/grpc-client.js';

type Params = Record<string, unknown>;
type Adjust = (logits: Float32Array, generated: readonly number[]) => void;

const PROMPT = gpt2Expected.prompts[1]!;

/** Greedy ids from the graph alone: each step reruns the whole sequence, `adjust` edits the last logits. */
class Reference {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async open(): Promise<Reference> {
    return new Reference(await ort.InferenceSession.create(repoPath(HF.gpt2, 'onnx', 'model.onnx')));
  }

  async logits(ids: readonly number[]): Promise<Float32Array> {
    const n = ids.length;
    const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, n]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64([...ids]),
      attention_mask: int64(new Array(n).fill(1)),
      position_ids: int64(ids.map((_, i) => i)),
    };
    for (const name of this.session.inputNames.filter((x) => x.startsWith('past_key_values.')))
      feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 8]);
    const out = (await this.session.run(feeds))['logits']!;
    const vocab = out.dims[2]!;
    return Float32Array.from((out.data as Float32Array).subarray((n - 1) * vocab));
  }

  async greedy(prompt: readonly number[], steps: number, adjust: Adjust = () => {}): Promise<number[]> {
    const generated: number[] = [];
    for (let i = 0; i < steps; i++) {
      const logits = await this.logits([...prompt, ...generated]);
      adjust(logits, generated);
      generated.push(argmax(logits));
    }
    return generated;
  }
}

/** tiny-gpt2's tokenizer in transformers.js, independent of the server's. */
async function tokenizer() {
  env.allowRemoteModels = false;
  env.localModelPath = `${repoPath('test/hf-models')}/`;
  return AutoTokenizer.from_pretrained('tiny-gpt2');
}

/** A prompt's token ids. */
async function tokenize(text: string): Promise<number[]> {
  return (await tokenizer()).encode(text);
}

/** The natural-log softmax of a row. */
function logSoftmax(row: Float32Array): number[] {
  const max = Math.max(...row);
  const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  return Array.from(row, (v) => v - logZ);
}

function assertNear(actual: readonly number[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-4, `${what}[${i}]: ${v} vs ${expected[i]}`));
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** The same request over v2 (token ids) and OpenAI completions (text): both must agree. */
async function generate(url: string, model: string, params: Params): Promise<{ ids: number[]; text: string; finish: string }> {
  const v2 = await postJson(`${url}/v2/models/${model}/infer`, {
    inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [PROMPT.prompt] }],
    // v2 parameters are scalars: a list of ids goes as one string.
    parameters: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v])),
  });
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  const openai = await postJson(`${url}/v1/completions`, { model, prompt: PROMPT.prompt, ...params });
  assert.equal(openai.status, 200, JSON.stringify(openai.body));
  const text = openai.body.choices[0].text as string;
  assert.equal(text, v2.body.outputs[0].data[0], 'OpenAI and v2 answer the same text');
  return { ids: (v2.body.outputs[1].data as number[]).filter((id) => id >= 0), text, finish: openai.body.choices[0].finish_reason };
}

describe('generation: sampling extras and penalties', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let reference: Reference;
  let plain: number[];
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'gpt2');
    reference = await Reference.open();
    plain = await reference.greedy(PROMPT.ids, 12);
    // A copy whose end-of-sequence token is the plain run's fourth token, so that greedy decoding
    // reaches it after three tokens.
    await copyHfModel(repo, HF.t5, 't5');
    await copyHfModel(repo, HF.gpt2Gemma3Io, 'gemma3-io');
    await copyHfModel(repo, HF.gpt2, 'eos');
    await writeFile(join(repo.dir, 'eos', 'generation_config.json'), JSON.stringify({ eos_token_id: plain[3] }));
    srv = await startTestServer(repo.dir, { enable_grpc: true });
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('greedy ids without extras equal the reference (the oracle agrees with the server)', async () => {
    assert.deepEqual((await generate(srv.url, 'gpt2', { max_tokens: 12, temperature: 0 })).ids, plain);
    assert.deepEqual(plain.slice(0, 8), PROMPT.greedy_ids, "the fixture's torch expectation");
  });

  it('repetition_penalty divides positive logits and multiplies negative ones, over prompt and generated tokens', async () => {
    const penalty = 1.8;
    const want = await reference.greedy(PROMPT.ids, 12, (logits, generated) => {
      for (const id of new Set([...PROMPT.ids, ...generated])) logits[id] = logits[id]! > 0 ? logits[id]! / penalty : logits[id]! * penalty;
    });
    assert.notDeepEqual(want, plain, 'the penalty changes the tokens of this prompt');
    assert.deepEqual((await generate(srv.url, 'gpt2', { max_tokens: 12, temperature: 0, repetition_penalty: penalty })).ids, want);
  });

  it('presence_penalty and frequency_penalty subtract from the logits of generated tokens', async () => {
    const [presence, frequency] = [0.6, 0.9];
    const want = await reference.greedy(PROMPT.ids, 12, (logits, generated) => {
      const counts = new Map<number, number>();
      for (const id of generated) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const [id, n] of counts) logits[id] = logits[id]! - presence - frequency * n;
    });
    assert.notDeepEqual(want, plain, 'the penalties change the tokens of this prompt');
    const params = { max_tokens: 12, temperature: 0, presence_penalty: presence, frequency_penalty: frequency };
    assert.deepEqual((await generate(srv.url, 'gpt2', params)).ids, want);
  });

  it('top_k 1 and min_p 1 leave only the most likely token, so sampling at any seed is greedy', async () => {
    for (const seed of [1, 2, 3]) {
      assert.deepEqual(
        (await generate(srv.url, 'gpt2', { max_tokens: 12, temperature: 1.5, top_k: 1, seed })).ids,
        plain,
        `top_k, seed ${seed}`,
      );
      assert.deepEqual(
        (await generate(srv.url, 'gpt2', { max_tokens: 12, temperature: 1.5, min_p: 1, seed })).ids,
        plain,
        `min_p, seed ${seed}`,
      );
    }
  });

  it('top_k draws only among the k most likely tokens of each step', async () => {
    const k = 3;
    let outside = 0;
    for (const seed of [7, 8, 9, 10]) {
      const { ids } = await generate(srv.url, 'gpt2', { max_tokens: 10, temperature: 2, top_k: k, seed });
      for (let i = 0; i < ids.length; i++) {
        const logits = await reference.logits([...PROMPT.ids, ...ids.slice(0, i)]);
        const kth = [...logits].sort((a, b) => b - a)[k - 1]!;
        if (logits[ids[i]!]! < kth) outside++;
      }
    }
    assert.equal(outside, 0, 'tokens drawn from outside the top k');
    // At temperature 2 without top_k, the same seeds draw outside the top 3.
    let wide = 0;
    for (const seed of [7, 8, 9, 10]) {
      const { ids } = await generate(srv.url, 'gpt2', { max_tokens: 10, temperature: 2, seed });
      for (let i = 0; i < ids.length; i++) {
        const logits = await reference.logits([...PROMPT.ids, ...ids.slice(0, i)]);
        if (logits[ids[i]!]! < [...logits].sort((a, b) => b - a)[k - 1]!) wide++;
      }
    }
    assert.ok(wide > 0, 'without top_k some draws fall outside the top k');
  });

  it('stop_token_ids end generation at the token, min_tokens holds them off, ignore_eos goes past end-of-sequence', async () => {
    const stopped = await generate(srv.url, 'gpt2', { max_tokens: 12, temperature: 0, stop_token_ids: [plain[2]] });
    assert.deepEqual(stopped.ids, plain.slice(0, plain.indexOf(plain[2]!) + 1));
    assert.equal(stopped.finish, 'stop');

    // The eos model: greedy decoding meets end-of-sequence as its fourth token.
    const eosAt = plain.indexOf(plain[3]!);
    const ended = await generate(srv.url, 'eos', { max_tokens: 12, temperature: 0 });
    assert.deepEqual(ended.ids, plain.slice(0, eosAt + 1));
    assert.equal(ended.finish, 'stop');
    const ignored = await generate(srv.url, 'eos', { max_tokens: 12, temperature: 0, ignore_eos: true });
    assert.deepEqual(ignored.ids, plain);
    assert.equal(ignored.finish, 'length');

    const min = 6;
    const banned = plain[3]!;
    const want = await reference.greedy(PROMPT.ids, 12, (logits, generated) => {
      if (generated.length < min) logits[banned] = Number.NEGATIVE_INFINITY;
    });
    const cut = want.findIndex((id, i) => i >= min && id === banned);
    const held = await generate(srv.url, 'eos', { max_tokens: 12, temperature: 0, min_tokens: min });
    assert.deepEqual(held.ids, cut < 0 ? want : want.slice(0, cut + 1));
    assert.ok(held.ids.length > min, `at least min_tokens before end-of-sequence (${held.ids.length})`);
  });

  it('takes the same fields as gRPC parameters', async () => {
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const response = await client.call('ModelInfer', {
        model_name: 'gpt2',
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(PROMPT.prompt)] } }],
        parameters: {
          max_tokens: { int64_param: 12 },
          repetition_penalty: { double_param: 1.8 },
          frequency_penalty: { double_param: 0.5 },
          stop_token_ids: { string_param: '999,998' },
          ignore_eos: { bool_param: true },
        },
      });
      const raw = (response.raw_output_contents as Buffer[])[1]!;
      const ids = Array.from({ length: raw.length / 8 }, (_, i) => Number(raw.readBigInt64LE(i * 8)));
      const http = await generate(srv.url, 'gpt2', {
        max_tokens: 12,
        temperature: 0,
        repetition_penalty: 1.8,
        frequency_penalty: 0.5,
        stop_token_ids: [999, 998],
        ignore_eos: true,
      });
      assert.deepEqual(ids, http.ids);
      assert.notDeepEqual(ids, plain, 'the penalties took effect');
    } finally {
      client.close();
    }
  });

  it("logprobs: each generated token's log-probability under the raw model, with the most likely alternatives", async () => {
    const steps = 6;
    const expected = await Promise.all(
      plain.slice(0, steps).map(async (_, i) => logSoftmax(await reference.logits([...PROMPT.ids, ...plain.slice(0, i)]))),
    );
    const top = (row: number[], n: number) => [...row].sort((a, b) => b - a).slice(0, n);
    const whole = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: PROMPT.prompt,
      max_tokens: steps,
      temperature: 0,
      logprobs: 3,
    });
    assert.equal(whole.status, 200, JSON.stringify(whole.body));
    const lp = whole.body.choices[0].logprobs;
    assertNear(
      lp.token_logprobs,
      expected.map((row, i) => row[plain[i]!]!),
      'token_logprobs',
    );
    // Greedy: the chosen token is the most likely, so the alternatives are the top 3.
    lp.top_logprobs.forEach((alternatives: Record<string, number>, i: number) =>
      assertNear(
        Object.values(alternatives).sort((a, b) => b - a),
        top(expected[i]!, 3),
        `top_logprobs[${i}]`,
      ),
    );
    assert.equal(lp.tokens.join(''), whole.body.choices[0].text);
    assert.deepEqual(
      lp.text_offset,
      lp.tokens.map((_: string, i: number) => lp.tokens.slice(0, i).join('').length),
    );

    const res = await post(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: PROMPT.prompt,
      max_tokens: steps,
      temperature: 0,
      logprobs: 3,
      stream: true,
    });
    const { events } = await readSse(res);
    const streamed = events.map((e) => e.choices[0]?.logprobs).filter(Boolean);
    assert.deepEqual(
      streamed.flatMap((l) => l.tokens),
      lp.tokens,
      'streamed tokens',
    );
    assert.deepEqual(
      streamed.flatMap((l) => l.token_logprobs),
      lp.token_logprobs,
      'streamed logprobs',
    );
    assert.deepEqual(
      streamed.flatMap((l) => l.text_offset),
      lp.text_offset,
      'streamed offsets',
    );

    const chat = await postJson(`${srv.url}/v1/chat/completions`, {
      model: 'gpt2',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    const content = chat.body.choices[0].logprobs.content as {
      token: string;
      logprob: number;
      bytes: number[];
      top_logprobs: { logprob: number }[];
    }[];
    assert.equal(content.length, 4);
    assert.equal(content.map((c) => c.token).join(''), chat.body.choices[0].message.content);
    for (const c of content) {
      assert.equal(Buffer.from(c.bytes).toString('utf8'), c.token);
      assert.equal(c.top_logprobs.length, 2);
      assert.equal(c.top_logprobs[0]!.logprob, c.logprob, 'greedy: the chosen token is the most likely');
      assert.ok(c.top_logprobs[1]!.logprob <= c.logprob);
    }
  });

  it("logprobs are the raw model's, before penalties", async () => {
    const penalty = 1.8;
    const want = await reference.greedy(PROMPT.ids, 8, (logits, generated) => {
      for (const id of new Set([...PROMPT.ids, ...generated])) logits[id] = logits[id]! > 0 ? logits[id]! / penalty : logits[id]! * penalty;
    });
    const raw = await Promise.all(want.map(async (id, i) => logSoftmax(await reference.logits([...PROMPT.ids, ...want.slice(0, i)]))[id]!));
    const { status, body } = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: PROMPT.prompt,
      max_tokens: 8,
      temperature: 0,
      repetition_penalty: penalty,
      logprobs: 0,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assertNear(body.choices[0].logprobs.token_logprobs, raw, 'token_logprobs');
  });

  it("takes prompts as token ids, one list or several, as OpenAI's completions do", async () => {
    const text = await postJson(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: PROMPT.prompt, max_tokens: 8, temperature: 0 });
    const one = await postJson(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: PROMPT.ids, max_tokens: 8, temperature: 0 });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.choices[0].text, text.body.choices[0].text);
    assert.equal(one.body.usage.prompt_tokens, PROMPT.ids.length);
    const other = gpt2Expected.prompts[0]!;
    const two = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: [PROMPT.ids, other.ids],
      max_tokens: 8,
      temperature: 0,
    });
    assert.equal(two.status, 200, JSON.stringify(two.body));
    const alone = await postJson(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: other.prompt, max_tokens: 8, temperature: 0 });
    assert.deepEqual(
      two.body.choices.map((c: { text: string }) => c.text),
      [text.body.choices[0].text, alone.body.choices[0].text],
    );

    const outside = await post(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: [5, 284], max_tokens: 2 });
    assert.equal(outside.status, 400);
    assert.match((await outside.json()).error.message, /token id 284 is outside the model's vocabulary \(ids 0 to 283\)/);
    const echo = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: PROMPT.ids,
      echo: true,
      max_tokens: 8,
      temperature: 0,
    });
    assert.equal(echo.body.choices[0].text, PROMPT.prompt + text.body.choices[0].text, 'a token-id prompt echoes decoded');
    const streamedEcho = await post(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: [5, 6], echo: true, stream: true });
    assert.equal(streamedEcho.status, 400);
    assert.match((await streamedEcho.json()).error.message, /answered whole: set 'stream' to false/);
    const mixed = await post(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: ['a', [5]] });
    assert.equal(mixed.status, 400);
    assert.equal((await mixed.json()).error.param, 'prompt');
  });

  it('n: several choices per prompt, numbered prompt by prompt; seeded choices draw apart and each is reproducible', async () => {
    const other = gpt2Expected.prompts[0]!.prompt;
    const greedy = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: [PROMPT.prompt, other],
      n: 2,
      max_tokens: 6,
      temperature: 0,
    });
    assert.equal(greedy.status, 200, JSON.stringify(greedy.body));
    const texts = greedy.body.choices.map((c: { index: number; text: string }) => [c.index, c.text]);
    const alone = async (prompt: string, extra: Params = {}) =>
      (await postJson(`${srv.url}/v1/completions`, { model: 'gpt2', prompt, max_tokens: 6, temperature: 0, ...extra })).body.choices[0]
        .text;
    const [a, b] = [await alone(PROMPT.prompt), await alone(other)];
    assert.deepEqual(texts, [
      [0, a],
      [1, a],
      [2, b],
      [3, b],
    ]);
    assert.equal(greedy.body.usage.completion_tokens, 4 * 6);
    assert.equal(
      greedy.body.usage.prompt_tokens,
      PROMPT.ids.length + gpt2Expected.prompts[0]!.ids.length,
      'each prompt counted once, as vLLM counts it',
    );

    const sampled = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: PROMPT.prompt,
      n: 3,
      max_tokens: 8,
      temperature: 1.5,
      seed: 40,
    });
    const choices = sampled.body.choices.map((c: { text: string }) => c.text);
    assert.equal(new Set(choices).size, 3, `seeded choices differ: ${JSON.stringify(choices)}`);
    for (const [j, text] of choices.entries())
      assert.equal(await alone(PROMPT.prompt, { temperature: 1.5, seed: 40 + j, max_tokens: 8 }), text, `choice ${j}`);

    const res = await post(`${srv.url}/v1/chat/completions`, {
      model: 'gpt2',
      messages: [{ role: 'user', content: 'hi' }],
      n: 2,
      max_tokens: 3,
      temperature: 0,
      stream: true,
    });
    const { events, done } = await readSse(res);
    assert.ok(done);
    for (const index of [0, 1]) {
      const mine = events.filter((e) => e.choices[0]?.index === index);
      assert.equal(mine[0].choices[0].delta.role, 'assistant', `choice ${index} opens with the role`);
      assert.equal(mine.filter((e) => e.choices[0].finish_reason).length, 1, `choice ${index} finishes once`);
    }

    const over = await post(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: 'x', n: 65 });
    assert.equal(over.status, 400);
    assert.match((await over.json()).error.message, /65 generations \(prompts x n\).*at most 64.*--max_prompts_per_request/);
  });

  it('echo with logprobs scores the prompt (as lm-evaluation-harness asks): each token given the ones before it, cache or not', async () => {
    const long = `${PROMPT.prompt} and then the cat sat on the mat again and again`;
    const ids = (await postJson(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: long, max_tokens: 0, echo: true, logprobs: 2 })).body;
    const tokens: string[] = ids.choices[0].logprobs.tokens;
    assert.equal(tokens.join(''), long);
    assert.equal(ids.choices[0].text, long);
    const promptIds = await tokenize(long);
    assert.equal(promptIds.length, tokens.length);
    assert.ok(promptIds.length > 32, 'long enough for two cached blocks');
    const scores = async (ids: number[]) =>
      Promise.all(ids.slice(1).map(async (id, k) => logSoftmax(await reference.logits(ids.slice(0, k + 1)))[id]!));
    const want = await scores(promptIds);
    const short = await tokenize(PROMPT.prompt);
    const wantShort = await scores(short);
    const score = async (prompt: string | number[]) => {
      const scored = await postJson(`${srv.url}/v1/completions`, {
        model: 'gpt2',
        prompt,
        max_tokens: 2,
        temperature: 0,
        echo: true,
        logprobs: 2,
      });
      assert.equal(scored.status, 200, JSON.stringify(scored.body));
      return scored.body;
    };
    for (let round = 0; round < 2; round++) {
      // A plain request first puts the prompt's blocks in the prefix cache; scoring must not take them.
      await postJson(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: long, max_tokens: 2, temperature: 0 });
      // Together, so that prompts of different lengths are prefilled in one padded run.
      const [asText, asIds, other] = await Promise.all([score(long), score(promptIds), score(PROMPT.prompt)]);
      for (const body of [asText, asIds]) {
        const lp = body.choices[0].logprobs;
        assert.equal(lp.token_logprobs[0], null);
        assert.equal(lp.top_logprobs[0], null);
        assertNear(lp.token_logprobs.slice(1, promptIds.length), want, `prompt logprobs, round ${round}`);
        assert.equal(lp.tokens.length, promptIds.length + 2, 'the prompt tokens, then the generated ones');
        assert.ok(body.choices[0].text.startsWith(long), 'echoed, a token-id prompt decoded');
        assert.equal(body.usage.prompt_tokens_details.cached_tokens, 0);
      }
      assertNear(other.choices[0].logprobs.token_logprobs.slice(1, short.length), wantShort, `the shorter prompt, round ${round}`);
    }
    // A graph that returns the last position's logits unless told otherwise (num_logits_to_keep), same weights.
    const kept = await postJson(`${srv.url}/v1/completions`, { model: 'gemma3-io', prompt: long, max_tokens: 0, echo: true, logprobs: 1 });
    assertNear(kept.body.choices[0].logprobs.token_logprobs.slice(1), want, 'num_logits_to_keep graph');
    // A step budget of 8 tokens prefills the prompt in chunks: each chunk's positions score the tokens after them.
    const chunked = await startTestServer(repo.dir, { max_num_seqs: 4, max_num_batched_tokens: 8 });
    try {
      const body = (
        await postJson(`${chunked.url}/v1/completions`, { model: 'gpt2', prompt: long, max_tokens: 0, echo: true, logprobs: 1 })
      ).body;
      assertNear(body.choices[0].logprobs.token_logprobs.slice(1), want, 'chunked prefill');
    } finally {
      await chunked.close();
    }
    const streamed = await post(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: 'x', echo: true, logprobs: 1, stream: true });
    assert.equal(streamed.status, 400);
    assert.equal((await streamed.json()).error.param, 'stream');
    const t5 = await post(`${srv.url}/v1/completions`, { model: 't5', prompt: 'x', echo: true, logprobs: 1, max_tokens: 0 });
    assert.equal(t5.status, 400);
    assert.match((await t5.json()).error.message, /prompt log-probabilities need a decoder-only model/);
  });

  it('logit_bias is added to the logits before the penalties, over the OpenAI routes', async () => {
    const [down, up, penalty] = [plain[0]!, PROMPT.ids[0]!, 2];
    const greedy = (bias: number, biasFirst: boolean) =>
      reference.greedy(PROMPT.ids, 8, (logits, generated) => {
        const addBias = () => {
          logits[down] = logits[down]! - 100;
          logits[up] = logits[up]! + bias;
        };
        if (biasFirst) addBias();
        for (const id of new Set([...PROMPT.ids, ...generated]))
          logits[id] = logits[id]! > 0 ? logits[id]! / penalty : logits[id]! * penalty;
        if (!biasFirst) addBias();
      });
    // A bias on a prompt token whose outcome depends on the order, so that the test tells the two apart.
    let chosen: { bias: number; want: number[] } | undefined;
    for (let bias = 0.5; bias <= 10 && !chosen; bias += 0.5) {
      const [first, after] = [await greedy(bias, true), await greedy(bias, false)];
      if (JSON.stringify(first) !== JSON.stringify(after)) chosen = { bias, want: first };
    }
    assert.ok(chosen, 'a bias whose effect depends on the order');
    const { status, body } = await postJson(`${srv.url}/v1/completions`, {
      model: 'gpt2',
      prompt: PROMPT.prompt,
      max_tokens: 8,
      temperature: 0,
      logit_bias: { [down]: -100, [up]: chosen.bias },
      repetition_penalty: penalty,
      logprobs: 0,
    });
    assert.equal(status, 200, JSON.stringify(body));
    const texts = await tokenizer();
    assert.deepEqual(
      body.choices[0].logprobs.tokens,
      chosen.want.map((id) => texts.decode([id])),
    );
  });

  it('chat refuses structured output and tool calls it cannot honour, by name', async () => {
    const chat = (extra: Params) =>
      post(`${srv.url}/v1/chat/completions`, { model: 'gpt2', messages: [{ role: 'user', content: 'x' }], max_tokens: 1, ...extra });
    const tool = { type: 'function', function: { name: 'f', parameters: {} } };
    for (const [extra, param] of [
      [{ response_format: { type: 'json_object' } }, 'response_format'],
      [{ response_format: { type: 'json_schema', json_schema: { name: 's', schema: {} } } }, 'response_format'],
      [{ tools: [tool] }, 'tools'],
      [{ tools: [tool], tool_choice: 'auto' }, 'tools'],
    ] as [Params, string][]) {
      const res = await chat(extra);
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal((await res.json()).error.param, param);
    }
    for (const extra of [{ response_format: { type: 'text' } }, { tools: [tool], tool_choice: 'none' }, { tools: [] }]) {
      assert.equal((await chat(extra)).status, 200, JSON.stringify(extra));
    }
  });

  it('refuses out-of-range values by name', async () => {
    const cases: [Params, RegExp][] = [
      [{ top_k: -2 }, /'top_k' must be an integer from -1/],
      [{ min_p: 1.5 }, /'min_p' must be a number from 0 to 1/],
      [{ presence_penalty: 3 }, /'presence_penalty' must be a number from -2 to 2/],
      [{ repetition_penalty: 0 }, /'repetition_penalty' must be a number/],
      [{ max_tokens: 4, min_tokens: 5 }, /'min_tokens' must be an integer from 0 to 4/],
      [{ stop_token_ids: [1, -1] }, /'stop_token_ids' must be a list of token ids/],
      [{ ignore_eos: 'yes' }, /'ignore_eos' must be true or false/],
      [{ logprobs: 21 }, /'logprobs' must be at most 20/],
      [{ n: 1025 }, /'n' must be an integer from 1 to 1024/],
      [{ logit_bias: { x: 1 } }, /'logit_bias' must map token ids to numbers from -100 to 100/],
      [{ logit_bias: { '5': 101 } }, /'logit_bias' must map token ids/],
      [{ echo: true, logprobs: 1, stream: true }, /'echo' with 'logprobs' or with a token-id prompt is answered whole/],
    ];
    for (const [params, message] of cases) {
      const res = await post(`${srv.url}/v1/completions`, { model: 'gpt2', prompt: 'x', ...params });
      assert.equal(res.status, 400, JSON.stringify(params));
      const body = await res.json();
      assert.match(body.error.message, message);
      assert.equal(body.error.param, Object.keys(params).at(-1));
    }
    const chat = await post(`${srv.url}/v1/chat/completions`, {
      model: 'gpt2',
      messages: [{ role: 'user', content: 'x' }],
      top_logprobs: 2,
    });
    assert.equal(chat.status, 400);
    assert.match((await chat.json()).error.message, /'top_logprobs' needs 'logprobs': true/);
    const neutral = await post(`${srv.url}/v1/chat/completions`, {
      model: 'gpt2',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 1,
      logprobs: false,
      top_logprobs: 0,
    });
    assert.equal(neutral.status, 200, 'top_logprobs 0 without logprobs asks for nothing');
    const v2 = await postJson(`${srv.url}/v2/models/gpt2/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['x'] }],
      parameters: { stop_token_ids: '3,x' },
    });
    assert.equal(v2.status, 400);
    assert.match(v2.body.error, /parameter 'stop_token_ids' must be a token id or ids separated by commas/);
  });
});
