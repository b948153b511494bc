/**
 * Model control as Triton does it (repository extension): a load may carry a JSON config that
 * replaces config.pbtxt, and model files to load a model the repository does not hold; failed
 * loads answer "failed to load '<name>', ..." and leave a serving model serving. REST and gRPC.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { FP32_IDENTITY, FP64_IDENTITY, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const rows = (n: number, base = 0) => Array.from({ length: n }, (_, i) => [base + i, -(base + i) - 1]);
const fp32Request = (data: number[][]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [data.length, 2], data: data.flat() }] });

async function stats(url: string, model: string) {
  return (await getJson(`${url}/v2/models/${model}/stats`)).body.model_stats[0];
}

describe('load with a config override', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    await repo.write('m/config.pbtxt', 'max_batch_size: 4\n');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('replaces config.pbtxt for this load: /config shows it and the dynamic batcher follows it', async () => {
    const before = await getJson(`${srv.url}/v2/models/m/config`);
    assert.equal(before.body.max_batch_size, 4);
    assert.equal(before.body.dynamic_batching, undefined);
    // tritonclient sends the config as a JSON string; a long delay makes concurrent requests meet.
    const config = JSON.stringify({ max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: '200000' } });
    const load = await postJson(`${srv.url}/v2/repository/models/m/load`, { parameters: { config } });
    assert.deepEqual(load, { status: 200, body: { name: 'm', load: true } });

    const after = (await getJson(`${srv.url}/v2/models/m/config`)).body;
    assert.equal(after.max_batch_size, 16);
    assert.equal(after.dynamic_batching.max_queue_delay_microseconds, 200000);

    const sizes = [3, 5, 2, 6];
    const replies = await Promise.all(sizes.map((n, r) => postJson(`${srv.url}/v2/models/m/infer`, fp32Request(rows(n, r * 10)))));
    replies.forEach((reply, r) => {
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.deepEqual(reply.body.outputs[0].data, rows(sizes[r]!, r * 10).flat());
    });
    const s = await stats(srv.url, 'm');
    assert.equal(s.inference_count, 16, '16 rows: more than the 4 config.pbtxt allowed per request');
    assert.ok(s.execution_count < sizes.length, `4 requests ran in ${s.execution_count} model runs`);
  });

  it('takes the config as a JSON object too, and a load without one reads config.pbtxt again', async () => {
    const asObject = await postJson(`${srv.url}/v2/repository/models/m/load`, { parameters: { config: { max_batch_size: 8 } } });
    assert.equal(asObject.status, 200);
    assert.equal((await getJson(`${srv.url}/v2/models/m/config`)).body.max_batch_size, 8);
    assert.equal((await postJson(`${srv.url}/v2/repository/models/m/load`, {})).status, 200);
    const config = (await getJson(`${srv.url}/v2/models/m/config`)).body;
    assert.equal(config.max_batch_size, 4);
    assert.equal(config.dynamic_batching, undefined);
  });

  it('refuses an invalid config naming the field, and the loaded model keeps serving', async () => {
    const cases: [unknown, RegExp][] = [
      ['{"max_batch_size": -1}', /'max_batch_size' must be an integer >= 0, got -1/],
      ['{"max_batch_size": "lots"}', /'max_batch_size' must be an integer, got "lots"/],
      [
        '{"dynamic_batching": {"preferred_batch_size": [64]}, "max_batch_size": 8}',
        /'preferred_batch_size' values must be integers in \[1, max_batch_size=8\]/,
      ],
      ['{not json', /load parameter 'config': not valid JSON/],
      ['[1, 2]', /load parameter 'config': must be a JSON object/],
    ];
    for (const [config, message] of cases) {
      const reply = await postJson(`${srv.url}/v2/repository/models/m/load`, { parameters: { config } });
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.match(reply.body.error, /^failed to load 'm', load parameter 'config': /);
      assert.match(reply.body.error, message);
    }
    assert.equal((await getJson(`${srv.url}/v2/models/m/ready`)).status, 200);
    assert.equal((await postJson(`${srv.url}/v2/models/m/infer`, fp32Request(rows(2)))).status, 200);
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
  });

  it('keeps the loaded version serving when the reload fails to load the model', async () => {
    // An ONNX file under a config naming a runtime that wants a Hugging Face folder.
    const reply = await postJson(`${srv.url}/v2/repository/models/m/load`, { parameters: { config: '{"backend": "huggingface"}' } });
    assert.equal(reply.status, 400);
    assert.match(reply.body.error, /^failed to load 'm', no model file found for model 'm'/);
    assert.equal((await postJson(`${srv.url}/v2/models/m/infer`, fp32Request(rows(2)))).status, 200);
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
  });

  it("answers Triton's message for a model the repository does not hold", async () => {
    const reply = await postJson(`${srv.url}/v2/repository/models/ghost/load`, { parameters: { config: '{}' } });
    assert.equal(reply.status, 404);
    assert.match(reply.body.error, /^failed to load 'ghost', failed to poll from model repository/);
  });
});

describe('load with model files', () => {
  let repo: TempRepo;
  let tmp: TempRepo;
  let cli: CliServer;
  let grpc: GrpcTestClient;
  let onnx: Buffer;
  before(async () => {
    repo = await tempRepo();
    tmp = await tempRepo();
    await repo.copy(FP64_IDENTITY, 'other/1/model.onnx');
    onnx = await readFile(repoPath(FP32_IDENTITY));
    // The server's temporary folders go under TMPDIR: a private one shows what it leaves behind.
    cli = await serveCli(['--model_dir', repo.dir, '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1'], { TMPDIR: tmp.dir });
    const grpcPort = cli.logs.find((l) => l.msg === 'tsserve is serving').grpcPort;
    grpc = new GrpcTestClient(`127.0.0.1:${grpcPort}`);
  });
  after(async () => {
    grpc.close();
    cli.child.kill('SIGTERM');
    await cli.exited;
    await repo.remove();
    await tmp.remove();
  });

  const uploaded = () => readdir(tmp.dir).then((names) => names.filter((n) => n.startsWith('tsserve-loaded-')));

  it('loads a model the repository does not hold over REST, and removes its files on unload', async () => {
    const parameters = { config: JSON.stringify({ max_batch_size: 8 }), 'file:1/model.onnx': onnx.toString('base64') };
    const load = await postJson(`${cli.url}/v2/repository/models/sent/load`, { parameters });
    assert.deepEqual(load, { status: 200, body: { name: 'sent', load: true } });
    assert.equal((await uploaded()).length, 1);
    const infer = await postJson(`${cli.url}/v2/models/sent/infer`, fp32Request(rows(3)));
    assert.equal(infer.status, 200, JSON.stringify(infer.body));
    assert.deepEqual(infer.body.outputs[0].data, rows(3).flat());
    assert.equal((await getJson(`${cli.url}/v2/models/sent/config`)).body.max_batch_size, 8);
    const index = (await postJson(`${cli.url}/v2/repository/index`, {})).body;
    assert.deepEqual(
      index.map((e: { name: string; state: string }) => [e.name, e.state]),
      [
        ['other', 'READY'],
        ['sent', 'READY'],
      ],
    );

    assert.equal((await postJson(`${cli.url}/v2/repository/models/sent/unload`, {})).status, 200);
    assert.deepEqual(await uploaded(), []);
  });

  it('loads files over gRPC (bytes_param), replacing an earlier upload', async () => {
    const parameters = { config: { string_param: '{"max_batch_size": 2}' }, 'file:1/model.onnx': { bytes_param: onnx } };
    assert.deepEqual(await grpc.call('RepositoryModelLoad', { model_name: 'g', parameters }), {});
    const first = await uploaded();
    assert.equal(first.length, 1);
    assert.deepEqual(await grpc.call('RepositoryModelLoad', { model_name: 'g', parameters }), {});
    const second = await uploaded();
    assert.equal(second.length, 1);
    assert.notEqual(second[0], first[0], 'the second upload replaced the first folder');
    const x = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    const infer = () =>
      grpc.call('ModelInfer', { model_name: 'g', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }], raw_input_contents: [x] });
    assert.ok(outputBytes(await infer(), 0).equals(x));

    const broken = { ...parameters, 'file:1/model.onnx': { bytes_param: Buffer.from('not an onnx file') } };
    await assertStatus(
      grpc.call('RepositoryModelLoad', { model_name: 'g', parameters: broken }),
      status.INVALID_ARGUMENT,
      /^failed to load 'g', version 1 is at UNAVAILABLE state: /,
    );
    assert.ok(outputBytes(await infer(), 0).equals(x), 'the version loaded before keeps serving');
    assert.deepEqual(await uploaded(), second, 'the files of the failed reload are gone, those serving stay');
    assert.deepEqual(await grpc.call('RepositoryModelUnload', { model_name: 'g' }), {});
    assert.deepEqual(await uploaded(), []);
  });

  it('refuses files without a config, paths that leave the folder, and files that are no model', async () => {
    const file = onnx.toString('base64');
    const noConfig = await postJson(`${cli.url}/v2/repository/models/nc/load`, { parameters: { 'file:1/model.onnx': file } });
    assert.equal(noConfig.status, 400);
    assert.match(noConfig.body.error, /^failed to load 'nc', load parameters 'file:<version>\/<name>' need the 'config' parameter/);
    const escape = await postJson(`${cli.url}/v2/repository/models/esc/load`, { parameters: { config: '{}', 'file:../../x.onnx': file } });
    assert.equal(escape.status, 400);
    assert.match(escape.body.error, /'file:\.\.\/\.\.\/x\.onnx' must name a relative path/);
    await assertStatus(
      grpc.call('RepositoryModelLoad', {
        model_name: 'bad',
        parameters: { config: { string_param: '{}' }, 'file:1/model.onnx': { bytes_param: Buffer.from('not onnx') } },
      }),
      status.INVALID_ARGUMENT,
      /^failed to load 'bad', version 1 is at UNAVAILABLE state: /,
    );
    assert.deepEqual(await uploaded().then((u) => u.length), 1, 'the failed model stays listed, with its files, until unloaded');
    assert.equal((await postJson(`${cli.url}/v2/repository/models/bad/unload`, {})).status, 200);
    assert.deepEqual(await uploaded(), []);
  });

  it('answers a gRPC config override of a model in the repository', async () => {
    assert.deepEqual(
      await grpc.call('RepositoryModelLoad', { model_name: 'other', parameters: { config: { string_param: '{"max_batch_size": 3}' } } }),
      {},
    );
    const { config } = await grpc.call('ModelConfig', { name: 'other' });
    assert.equal(config.max_batch_size, 3);
    await assertStatus(
      grpc.call('RepositoryModelLoad', { model_name: 'ghost' }),
      status.NOT_FOUND,
      /^failed to load 'ghost', failed to poll from model repository/,
    );
  });
});
