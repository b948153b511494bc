/** The dynamic batcher: many requests become few model runs, and every caller gets its own rows. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BYTES_IDENTITY, FP32_IDENTITY, SLOW_MODEL, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer, untilMetric } from './helpers/server.js';

const TREES = 'bench/models/trees/1/model.onnx';
const trees = JSON.parse(readFileSync(repoPath('bench/models/trees/cases.json'), 'utf8')) as { inputs: number[][] };

function identityRequest(rows: number[][], extra: Record<string, unknown> = {}) {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: rows }], ...extra };
}

async function stats(srv: TestServer, model: string) {
  return (await getJson(`${srv.url}/v2/models/${model}/stats`)).body.model_stats[0];
}

describe('dynamic batching', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'batched/1/model.onnx');
    // A long delay so that concurrent requests are sure to meet in the queue.
    await repo.write('batched/config.pbtxt', 'max_batch_size: 16\ndynamic_batching { max_queue_delay_microseconds: 100000 }\n');
    await repo.copy(FP32_IDENTITY, 'unbatched/1/model.onnx');
    await repo.write('unbatched/config.pbtxt', 'max_batch_size: 16\n');
    await repo.copy(FP32_IDENTITY, 'small_queue/1/model.onnx');
    await repo.write(
      'small_queue/config.pbtxt',
      ['max_batch_size: 8', 'dynamic_batching { max_queue_delay_microseconds: 300000 default_queue_policy { max_queue_size: 1 } }'].join(
        '\n',
      ),
    );
    await repo.copy(FP32_IDENTITY, 'timed/1/model.onnx');
    await repo.write(
      'timed/config.pbtxt',
      [
        'max_batch_size: 8',
        'dynamic_batching { max_queue_delay_microseconds: 2000000 default_queue_policy { default_timeout_microseconds: 100000 } }',
      ].join('\n'),
    );
    for (const name of ['trees_on', 'trees_off']) await repo.copy(TREES, `${name}/1/model.onnx`);
    // One intra-op thread: onnxruntime's tree ensemble splits work (and so the order of its float
    // sums) differently by batch size when it has several threads; see the README.
    const oneThread = 'parameters { key: "intra_op_thread_count" value: { string_value: "1" } }';
    await repo.write('trees_on/config.pbtxt', `max_batch_size: 64\ndynamic_batching { }\n${oneThread}\n`);
    await repo.write('trees_off/config.pbtxt', `max_batch_size: 64\n${oneThread}\n`);
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('reports -1 for the batch dimension in metadata', async () => {
    const { body } = await getJson(`${srv.url}/v2/models/batched`);
    assert.deepEqual(body.inputs[0].shape, [-1, -1]);
  });

  it('gives concurrent requests of different sizes exactly their own rows, in order', async () => {
    const sizes = [1, 3, 2, 4, 1, 2, 3];
    const requests = sizes.map((n, r) => Array.from({ length: n }, (_, i) => [r * 100 + i, -(r * 100 + i) - 1]));
    const replies = await Promise.all(
      requests.map((rows, r) => postJson(`${srv.url}/v2/models/batched/infer`, identityRequest(rows, { id: `r${r}` }))),
    );
    replies.forEach((reply, r) => {
      assert.equal(reply.status, 200);
      assert.equal(reply.body.id, `r${r}`);
      assert.deepEqual(reply.body.outputs[0].shape, [sizes[r], 2]);
      assert.deepEqual(reply.body.outputs[0].data, requests[r]!.flat());
    });
    const s = await stats(srv, 'batched');
    assert.equal(s.inference_stats.success.count, sizes.length);
    assert.equal(s.inference_count, 16);
    assert.ok(s.execution_count < sizes.length, `7 requests ran in ${s.execution_count} model runs`);
    assert.ok(
      s.batch_stats.some((b: { batch_size: number }) => b.batch_size > 4),
      JSON.stringify(s.batch_stats),
    );
  });

  it('never merges requests whose non-batch shapes differ', async () => {
    const before = await stats(srv, 'batched');
    const wide = [[1, 2, 3]];
    const narrow = [[4, 5]];
    const replies = await Promise.all(
      [wide, narrow, wide, narrow].map((rows) => postJson(`${srv.url}/v2/models/batched/infer`, identityRequest(rows))),
    );
    replies.forEach((reply, i) => assert.deepEqual(reply.body.outputs[0].data, (i % 2 ? narrow : wide).flat()));
    const after = await stats(srv, 'batched');
    assert.equal(after.execution_count - before.execution_count, 4, 'alternating shapes close each batch');
  });

  it('answers at once with 503 when the queue is full', async () => {
    const first = postJson(`${srv.url}/v2/models/small_queue/infer`, identityRequest([[1, 1]]));
    await untilMetric(srv.url, 'tsserve_batch_queue_size', { model_name: 'small_queue' }, 1);
    const second = await postJson(`${srv.url}/v2/models/small_queue/infer`, identityRequest([[2, 2]]));
    assert.equal(second.status, 503);
    assert.match(second.body.error, /exceeds maximum queue size/i);
    const done = await first;
    assert.equal(done.status, 200, 'the queued request still runs once its delay is over');
    assert.deepEqual(done.body.outputs[0].data, [1, 1]);
  });

  it('expires a request past its timeout without running it', async () => {
    const before = await stats(srv, 'timed');
    const defaulted = await postJson(`${srv.url}/v2/models/timed/infer`, identityRequest([[1, 2]]));
    assert.equal(defaulted.status, 503);
    assert.match(defaulted.body.error, /Request timeout expired/);
    const own = await postJson(`${srv.url}/v2/models/timed/infer`, identityRequest([[1, 2]], { parameters: { timeout: 20000 } }));
    assert.equal(own.status, 503);
    const after = await stats(srv, 'timed');
    assert.equal(after.execution_count, before.execution_count, 'expired requests never reach the model');
    assert.equal(after.inference_stats.fail.count - before.inference_stats.fail.count, 2);
    const bad = await postJson(`${srv.url}/v2/models/timed/infer`, identityRequest([[1, 2]], { parameters: { timeout: 'soon' } }));
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /'timeout' must be a non-negative integer of microseconds/);
  });

  it('gives identical outputs with batching on and off', async () => {
    const rows = Array.from({ length: 64 }, (_, i) => trees.inputs[i % trees.inputs.length]!);
    const run = (model: string) =>
      Promise.all(
        rows.map((row) =>
          postJson(`${srv.url}/v2/models/${model}/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 20], data: [row] }] }),
        ),
      );
    const [on, off] = [await run('trees_on'), await run('trees_off')];
    on.forEach((reply, i) => {
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body.outputs, off[i]!.body.outputs, `row ${i}`);
    });
    const s = await stats(srv, 'trees_on');
    assert.equal(s.inference_count, 64);
    assert.ok(s.execution_count <= 64);
  });

  it('sends a request straight to a worker when batching is off', async () => {
    const replies = await Promise.all([1, 2, 3].map((n) => postJson(`${srv.url}/v2/models/unbatched/infer`, identityRequest([[n, n]]))));
    replies.forEach((r, i) => assert.deepEqual(r.body.outputs[0].data, [i + 1, i + 1]));
    assert.equal((await stats(srv, 'unbatched')).execution_count, 3);
  });
});

describe('a worker that dies', () => {
  it('fails only its own request with 500, and the pool replaces it', async () => {
    const repo = await tempRepo();
    await repo.copy(BYTES_IDENTITY, 'strings/1/model.onnx');
    await repo.copy(FP32_IDENTITY, 'other/1/model.onnx');
    // A small worker heap, so that one huge request of strings kills its worker.
    const srv = await startTestServer(repo.dir, { worker_max_heap_mb: 16 });
    const strings = (data: string[]) => ({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [data.length, 1], data }] });
    try {
      const other = postJson(`${srv.url}/v2/models/other/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [7] }] });
      const failed = await postJson(`${srv.url}/v2/models/strings/infer`, strings(Array(2000).fill('x'.repeat(20000))));
      assert.equal(failed.status, 500);
      assert.match(failed.body.error, /worker running model 'strings' version 1 failed: .*memory/);
      assert.deepEqual((await other).body.outputs[0].data, [7], 'another model is untouched');
      const again = await postJson(`${srv.url}/v2/models/strings/infer`, strings(['still here']));
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body.outputs[0].data, ['still here']);
      assert.equal((await getJson(`${srv.url}/v2/models/strings/ready`)).status, 200);
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});

describe('the in-flight limit', () => {
  it('answers 503 at once beyond --max_inflight_requests', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const srv = await startTestServer(repo.dir, { max_inflight_requests: 2 });
    try {
      const slow = { inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [768] }] };
      const running = [postJson(`${srv.url}/v2/models/slow/infer`, slow), postJson(`${srv.url}/v2/models/slow/infer`, slow)];
      await untilMetric(srv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 2);
      const rejected = await postJson(`${srv.url}/v2/models/slow/infer`, slow);
      assert.equal(rejected.status, 503);
      assert.match(rejected.body.error, /limit of 2 requests in flight/);
      for (const r of await Promise.all(running)) assert.equal(r.status, 200);
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});
