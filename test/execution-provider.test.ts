/** --execution_provider and per-model placement: the rules, on a machine without CUDA. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { chooseProvider, probeCuda } from '../runtimes/onnx/execution-provider.js';
import { CLI, serveCli } from './helpers/cli-process.js';
import { FP32_IDENTITY, tempRepo } from './helpers/model-dir.js';
import { getJson, repoPath, startTestServer } from './helpers/server.js';

const withCuda = { providerLibrary: '/x/libonnxruntime_providers_cuda.so', gpuVisible: true };

describe('execution provider selection', () => {
  it('follows the rules for cpu, cuda and auto', () => {
    assert.equal(chooseProvider('cpu', withCuda).provider, 'cpu');
    assert.equal(chooseProvider('cuda', withCuda).provider, 'cuda');
    assert.equal(chooseProvider('auto', withCuda).provider, 'cuda');
    const noLibrary = { gpuVisible: true };
    assert.equal(chooseProvider('auto', noLibrary).provider, 'cpu');
    assert.match(chooseProvider('auto', noLibrary).reason, /without its CUDA libraries/);
    assert.throws(
      () => chooseProvider('cuda', noLibrary),
      /--execution_provider cuda, but onnxruntime-node was installed without its CUDA libraries/,
    );
    const noGpu = { providerLibrary: withCuda.providerLibrary, gpuVisible: false };
    assert.equal(chooseProvider('auto', noGpu).provider, 'cpu');
    assert.throws(() => chooseProvider('cuda', noGpu), /no NVIDIA GPU is visible/);
  });

  it('sees a GPU by its device node', async () => {
    const dev = await tempRepo();
    assert.equal(probeCuda(dev.dir).gpuVisible, false);
    await dev.write('nvidia0', '');
    assert.equal(probeCuda(dev.dir).gpuVisible, true);
    await dev.remove();
  });

  it(
    'refuses to start with an explicit cuda it cannot have',
    { skip: probeCuda().providerLibrary ? 'CUDA libraries are installed here' : false },
    () => {
      const out = spawnSync(
        process.execPath,
        [CLI, '--model_dir', repoPath('models'), '--http_port', '0', '--execution_provider', 'cuda'],
        { encoding: 'utf8' },
      );
      assert.equal(out.status, 1);
      assert.match(out.stdout, /--execution_provider cuda, but/);
    },
  );

  it(
    'falls back to the CPU on auto, saying why in the log',
    { skip: probeCuda().providerLibrary ? 'CUDA libraries are installed here' : false },
    async () => {
      const srv = await serveCli(['--model_dir', repoPath('models'), '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1']);
      try {
        const line = srv.logs.find((l) => l.msg === 'execution provider');
        assert.equal(line.provider, 'cpu');
        assert.match(line.reason, /^auto: using the CPU because/);
      } finally {
        srv.child.kill('SIGTERM');
        await srv.exited;
      }
    },
  );

  it(
    'fails only a KIND_GPU model on a CPU server, with the reason',
    { skip: probeCuda().providerLibrary ? 'CUDA libraries are installed here' : false },
    async () => {
      const repo = await tempRepo();
      await repo.copy(FP32_IDENTITY, 'on_gpu/1/model.onnx');
      await repo.write('on_gpu/config.pbtxt', 'instance_group [ { count: 1 kind: KIND_GPU gpus: [ 0 ] } ]\n');
      await repo.copy(FP32_IDENTITY, 'on_cpu/1/model.onnx');
      await repo.write('on_cpu/config.pbtxt', 'instance_group [ { count: 1 kind: KIND_CPU } ]\n');
      const srv = await startTestServer(repo.dir);
      try {
        const gpu = await getJson(`${srv.url}/v2/models/on_gpu`);
        assert.equal(gpu.status, 503);
        assert.match(gpu.body.error, /KIND_GPU, but the server runs on the CPU/);
        assert.equal((await getJson(`${srv.url}/v2/models/on_cpu/ready`)).status, 200);
      } finally {
        await srv.close();
        await repo.remove();
      }
    },
  );
});
