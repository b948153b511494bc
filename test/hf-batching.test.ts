/** Text models through the dynamic batcher: texts of several requests are padded into one run. */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const expected = JSON.parse(readFileSync(repoPath('test/hf-models/tiny-bert/expected.json'), 'utf8')) as {
  sentences: string[];
  mean_normalized: number[][];
  ids: number[][];
};

const closeTo = (got: number[], want: number[], what: string) =>
  got.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-5, `${what} dim ${k}: ${v} vs ${want[k]}`));

describe('Hugging Face embeddings with dynamic batching', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await cp(repoPath('test/hf-models/tiny-bert'), join(repo.dir, 'bert'), { recursive: true });
    await repo.write('bert/config.pbtxt', 'max_batch_size: 16\ndynamic_batching { max_queue_delay_microseconds: 100000 }\n');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('answers each request with its own embedding, equal to torch, from fewer model runs', async () => {
    const replies = await Promise.all(
      expected.sentences.map((sentence) =>
        postJson(`${srv.url}/v2/models/bert/infer`, { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [sentence] }] }),
      ),
    );
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.deepEqual(reply.body.outputs[0].shape, [1, 32]);
      reply.body.outputs[0].data.forEach((v: number, k: number) => {
        assert.ok(Math.abs(v - expected.mean_normalized[i]![k]!) < 1e-5, `sentence ${i} dim ${k}: ${v}`);
      });
    });
    const stats = (await getJson(`${srv.url}/v2/models/bert/stats`)).body.model_stats[0];
    assert.equal(stats.inference_count, expected.sentences.length);
    assert.ok(stats.execution_count < expected.sentences.length, `${expected.sentences.length} requests in ${stats.execution_count} runs`);
  });

  it('gives token counts when a request names token_count', async () => {
    const reply = await postJson(`${srv.url}/v2/models/bert/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [expected.sentences.length], data: expected.sentences }],
      outputs: [{ name: 'token_count' }],
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(
      reply.body.outputs[0].data,
      expected.ids.map((ids) => ids.length),
    );
  });

  it('batches the OpenAI embeddings route too, with usage counted per request', async () => {
    const before = (await getJson(`${srv.url}/v2/models/bert/stats`)).body.model_stats[0];
    const replies = await Promise.all(
      expected.sentences.map(async (sentence) => {
        const res = await fetch(`${srv.url}/openai/v1/embeddings`, {
          method: 'POST',
          body: JSON.stringify({ model: 'bert', input: sentence }),
        });
        return { status: res.status, body: (await res.json()) as any };
      }),
    );
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      closeTo(reply.body.data[0].embedding, expected.mean_normalized[i]!, `sentence ${i}`);
      assert.equal(reply.body.usage.prompt_tokens, expected.ids[i]!.length);
    });
    const after = (await getJson(`${srv.url}/v2/models/bert/stats`)).body.model_stats[0];
    const runs = after.execution_count - before.execution_count;
    assert.equal(after.inference_count - before.inference_count, expected.sentences.length);
    assert.ok(runs < expected.sentences.length, `${expected.sentences.length} OpenAI requests in ${runs} model runs`);
  });
});
