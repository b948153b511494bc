/**
 * A bad load request cannot take the server out of service: names that are not model folders
 * get 404 / NOT_FOUND and leave no trace; names that break the model-name rule get 400 /
 * INVALID_ARGUMENT on REST and gRPC alike; metric labels never carry a client's name. Memory
 * and readiness are measured from outside the server process.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { GrpcTestClient, assertStatus } from './helpers/grpc-client.js';
import { FP32_IDENTITY, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { getJson, postJson } from './helpers/server.js';

/** Resident set size of a process in MiB, from /proc. */
async function rssMiB(pid: number): Promise<number> {
  const line = (await readFile(`/proc/${pid}/status`, 'utf8')).split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(/\d+/.exec(line)![0]) / 1024;
}

/** Runs `task(i)` for i in [0, n) with `width` at a time. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

describe('bad load requests', () => {
  let repo: TempRepo;
  let cli: CliServer;
  let grpc: GrpcTestClient;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    await repo.write('README', 'a file in the model dir, not a model');
    await repo.write('.hidden/1/model.onnx', await readFile(new URL('../../' + FP32_IDENTITY, import.meta.url)));
    cli = await serveCli([
      '--model_dir',
      repo.dir,
      '--http_port',
      '0',
      '--grpc_port',
      '0',
      '--host',
      '127.0.0.1',
      '--enable_latency_logging',
      'false',
    ]);
    grpc = new GrpcTestClient(cli.grpcAddress);
  });
  after(async () => {
    grpc.close();
    cli.child.kill('SIGTERM');
    await cli.exited;
    await repo.remove();
  });

  const snapshot = async () => ({
    models: (await getJson(`${cli.url}/v2/models`)).body,
    index: (await postJson(`${cli.url}/v2/repository/index`, {})).body,
  });

  it('answers 404 for names that are no model folder, and leaves no trace', async () => {
    const before = await snapshot();
    for (const name of ['README', '.hidden', 'ghost']) {
      const reply = await postJson(`${cli.url}/v2/repository/models/${name}/load`, {});
      assert.equal(reply.status, 404, name);
      assert.match(reply.body.error, new RegExp(`^failed to load '${name.replace('.', '\\.')}', failed to poll from model repository`));
      await assertStatus(grpc.call('RepositoryModelLoad', { model_name: name }), status.NOT_FOUND, /failed to poll from model repository/);
    }
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual((await getJson(`${cli.url}/v2/health/ready`)).body, { ready: true });
  });

  it('refuses names that break the rule with 400 / INVALID_ARGUMENT at every entry point', async () => {
    const before = await snapshot();
    const nul = await postJson(`${cli.url}/v2/repository/models/a%00b/load`, {});
    assert.equal(nul.status, 400);
    assert.match(nul.body.error, /invalid model name 'a\\u0000b': it holds a control character/);
    for (const path of ['v2/models/a%00b', 'v2/models/a%00b/ready', 'v2/models/a%00b/config']) {
      assert.equal((await getJson(`${cli.url}/${path}`)).status, 400, path);
    }
    assert.equal((await postJson(`${cli.url}/v2/models/a%00b/infer`, { inputs: [] })).status, 400);
    assert.equal((await postJson(`${cli.url}/v2/repository/models/a%00b/unload`, {})).status, 400);

    const long = 'x'.repeat(5000);
    for (const [name, why] of [
      ['a\0b', /control character/],
      ['', /it is empty/],
      [long, /longer than 255 bytes/],
    ] as const) {
      await assertStatus(grpc.call('RepositoryModelLoad', { model_name: name }), status.INVALID_ARGUMENT, /^invalid model name /, why);
      await assertStatus(grpc.call('RepositoryModelUnload', { model_name: name }), status.INVALID_ARGUMENT, why);
      await assertStatus(grpc.call('ModelMetadata', { name }), status.INVALID_ARGUMENT, why);
      await assertStatus(grpc.call('ModelInfer', { model_name: name }), status.INVALID_ARGUMENT, why);
    }
    const shown = await assertStatus(grpc.call('ModelReady', { name: long }), status.INVALID_ARGUMENT);
    assert.ok(shown.details.length < 400, 'the error shows a long name cut short');
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual((await getJson(`${cli.url}/v2/health/ready`)).body, { ready: true });
  });

  it('counts requests for unknown models under one _unknown label', async () => {
    const input = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };
    assert.equal((await postJson(`${cli.url}/v2/models/nobody-here/infer`, input)).status, 404);
    assert.equal((await postJson(`${cli.url}/v2/models/a%01b/infer`, input)).status, 400);
    await assertStatus(grpc.call('ModelInfer', { model_name: 'nobody-either' }), status.NOT_FOUND);
    await assertStatus(grpc.call('ModelInfer', { model_name: 'x'.repeat(300) }), status.INVALID_ARGUMENT);
    assert.equal((await postJson(`${cli.url}/v2/models/m/infer`, input)).status, 200);
    const metrics = await (await fetch(`${cli.url}/metrics`)).text();
    const names = new Set([...metrics.matchAll(/model_name="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...names].sort(), ['_unknown', 'm']);
  });

  it('2,000 loads of unique long names leave /v2/models, the index and /metrics as they were, RSS flat and readiness 200', async (t) => {
    const metricsSize = async () => (await (await fetch(`${cli.url}/metrics`)).text()).length;
    const load = async (i: number) => {
      if (i % 2) {
        // 90 characters: within fastify's longest route parameter, so the request reaches the server.
        const reply = await postJson(`${cli.url}/v2/repository/models/${`ghost-${i}-`.padEnd(90, 'g')}/load`, {});
        assert.equal(reply.status, 404);
      } else {
        await assertStatus(grpc.call('RepositoryModelLoad', { model_name: `${i}:${'n'.repeat(50_000)}` }), status.INVALID_ARGUMENT);
      }
    };
    await inParallel(200, 8, load); // warm up: code paths, buffers and heap settle first
    const before = { ...(await snapshot()), metrics: await metricsSize(), rss: await rssMiB(cli.child.pid!) };
    let slowest = 0;
    let stop = false;
    const probe = (async () => {
      while (!stop) {
        const started = performance.now();
        assert.equal((await getJson(`${cli.url}/v2/health/ready`)).status, 200);
        slowest = Math.max(slowest, performance.now() - started);
      }
    })();
    await inParallel(2000, 16, (i) => load(i + 200));
    stop = true;
    await probe;
    const afterRss = await rssMiB(cli.child.pid!);
    t.diagnostic(`RSS ${before.rss.toFixed(1)} -> ${afterRss.toFixed(1)} MiB; slowest readiness ${slowest.toFixed(0)} ms`);
    assert.deepEqual(await snapshot(), { models: before.models, index: before.index });
    // Scrape-to-scrape differences are counter digits and the process metrics' values, not series.
    assert.ok((await metricsSize()) - before.metrics < 2048, `metrics grew from ${before.metrics} bytes`);
    assert.ok(afterRss - before.rss < 64, `RSS grew from ${before.rss.toFixed(0)} to ${afterRss.toFixed(0)} MiB`);
    assert.ok(slowest < 5000, `readiness answered within ${slowest.toFixed(0)} ms`);
  });
});
