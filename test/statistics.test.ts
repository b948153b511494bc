/** Triton's statistics extension: counts and durations move as requests succeed and fail. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const row = [5.1, 3.5, 1.4, 0.2];
const request = (rows: number[][]) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows }] });

describe('statistics extension', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath('models'));
  });
  after(() => srv.close());

  it('is advertised in server metadata', async () => {
    assert.ok((await getJson(`${srv.url}/v2`)).body.extensions.includes('statistics'));
  });

  it('starts at zero with every Triton field present', async () => {
    const { status, body } = await getJson(`${srv.url}/v2/models/regressor/stats`);
    assert.equal(status, 200);
    assert.equal(body.model_stats.length, 1);
    const s = body.model_stats[0];
    assert.equal(s.name, 'regressor');
    assert.equal(s.version, '1');
    assert.equal(s.inference_count, 0);
    assert.equal(s.execution_count, 0);
    for (const key of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss']) {
      assert.deepEqual(s.inference_stats[key], { count: 0, ns: 0 }, key);
    }
    assert.deepEqual(s.batch_stats, []);
  });

  it('counts successes, failures, executions and time', async () => {
    const before = (await getJson(`${srv.url}/v2/models/classifier/versions/1/stats`)).body.model_stats[0];
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${srv.url}/v2/models/classifier/infer`, request([row, row]))).status, 200);
    assert.equal(
      (await postJson(`${srv.url}/v2/models/classifier/infer`, { inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 4], data: row }] }))
        .status,
      400,
    );
    const s = (await getJson(`${srv.url}/v2/models/classifier/stats`)).body.model_stats[0];
    const stats = s.inference_stats;
    assert.equal(stats.success.count - before.inference_stats.success.count, 3);
    assert.equal(stats.fail.count - before.inference_stats.fail.count, 1);
    assert.equal(s.execution_count - before.execution_count, 3);
    // The classifier has max_batch_size 0: each run counts as one inference of batch size 1.
    assert.equal(s.inference_count - before.inference_count, 3);
    assert.ok(stats.success.ns > 0 && stats.compute_infer.ns > 0 && stats.queue.ns > 0);
    assert.ok(stats.compute_infer.ns <= stats.success.ns, 'compute is part of the request time');
    assert.equal(stats.compute_infer.count, stats.success.count);
    assert.deepEqual(
      s.batch_stats.map((b: { batch_size: number }) => b.batch_size),
      [1],
    );
    assert.ok(s.last_inference > Date.now() - 60_000);
  });

  it('lists every model at /v2/models/stats and 404s an unknown one', async () => {
    const all = (await getJson(`${srv.url}/v2/models/stats`)).body.model_stats.map((s: { name: string }) => s.name);
    assert.deepEqual(all, readdirSync(repoPath('models')).sort());
    assert.equal((await getJson(`${srv.url}/v2/models/nope/stats`)).status, 404);
  });
});
