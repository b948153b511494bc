/** Inference runs in worker threads: the HTTP thread keeps answering while a model computes. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cpuLimit } from '../src/config/cpu-limit.js';
import { WORKER_NICENESS } from '../src/pool/thread-priority.js';
import { SLOW_MODEL, tempRepo } from './helpers/model-dir.js';
import { getJson, postJson, startTestServer, untilMetric } from './helpers/server.js';

/** Each thread of this process: its niceness and CPU ticks so far. */
function threadStats(): Map<number, { nice: number; cpu: number }> {
  const stats = new Map<number, { nice: number; cpu: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    // Fields after the command name, which is in parentheses: utime and stime are 14 and 15, nice 19.
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    stats.set(Number(tid), { nice: Number(fields[16]), cpu: Number(fields[11]) + Number(fields[12]) });
  }
  return stats;
}

const slowRequest = (n: number) => ({ inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [n] }] });

describe('the worker pool', () => {
  it('keeps the health endpoint answering while a slow model is busy', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const srv = await startTestServer(repo.dir);
    try {
      const events: string[] = [];
      const slow = postJson(`${srv.url}/v2/models/slow/infer`, slowRequest(1024)).then((r) => {
        events.push('infer');
        return r;
      });
      await untilMetric(srv.url, 'tsserve_inference_requests_in_flight', { model_name: 'slow' }, 1);
      for (let i = 0; i < 5; i++) {
        const live = await getJson(`${srv.url}/v2/health/live`);
        assert.equal(live.status, 200);
        events.push('live');
      }
      const result = await slow;
      assert.equal(result.status, 200);
      assert.ok(Math.abs(result.body.outputs[0].data[0] - 1024) < 2, `y ≈ n, got ${result.body.outputs[0].data[0]}`);
      assert.deepEqual(
        events,
        ['live', 'live', 'live', 'live', 'live', 'infer'],
        'every health check answered before the inference finished',
      );
    } finally {
      await srv.close();
      await repo.remove();
    }
  });

  it(
    "runs models below the serving thread's priority, so the serving thread gets a core when it needs one",
    {
      skip: process.platform !== 'linux' && 'thread priorities are read from /proc (Linux)',
    },
    async () => {
      const repo = await tempRepo();
      await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
      const srv = await startTestServer(repo.dir);
      try {
        const before = threadStats();
        const result = await postJson(`${srv.url}/v2/models/slow/infer`, slowRequest(1024));
        assert.equal(result.status, 200);
        const after = threadStats();
        const busiest = [...after].sort(([a, x], [b, y]) => y.cpu - (before.get(b)?.cpu ?? 0) - (x.cpu - (before.get(a)?.cpu ?? 0)))[0]!;
        assert.notEqual(busiest[0], process.pid, 'the inference ran off the serving thread');
        assert.equal(busiest[1].nice, WORKER_NICENESS, `thread ${busiest[0]}, which ran the inference`);
        assert.equal(after.get(process.pid)!.nice, 0, 'the serving thread');
      } finally {
        await srv.close();
        await repo.remove();
      }
    },
  );

  it('runs requests on several instances of a model, each answered with its own result', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    await repo.write(
      'slow/config.pbtxt',
      'instance_group [ { count: 2 } ]\nparameters { key: "intra_op_thread_count" value: { string_value: "1" } }\n',
    );
    const srv = await startTestServer(repo.dir);
    try {
      const sizes = [64, 256, 128, 32, 200, 100];
      const results = await Promise.all(sizes.map((n) => postJson(`${srv.url}/v2/models/slow/infer`, slowRequest(n))));
      results.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.ok(Math.abs(r.body.outputs[0].data[0] - sizes[i]!) < 1, `request ${i}`);
      });
    } finally {
      await srv.close();
      await repo.remove();
    }
  });

  it('gives a model at or above --single_instance_model_mb one instance, unless --workers says otherwise', async () => {
    const repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    const instances = async (overrides: Record<string, number>) => {
      const srv = await startTestServer(repo.dir, overrides);
      try {
        const config = await getJson(`${srv.url}/v2/models/slow/config`);
        assert.equal(config.status, 200);
        return config.body.instance_group.map((g: { count: number }) => g.count);
      } finally {
        await srv.close();
      }
    };
    try {
      // The fixture is a few hundred bytes: below the default, at or above a threshold of 0.
      assert.deepEqual(await instances({}), [Math.min(2, cpuLimit())]);
      assert.deepEqual(await instances({ single_instance_model_mb: 0 }), [1]);
      assert.deepEqual(await instances({ single_instance_model_mb: 0, workers: 2 }), [2]);
    } finally {
      await repo.remove();
    }
  });
});
