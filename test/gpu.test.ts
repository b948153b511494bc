/**
 * CUDA against CPU on the bundled models. Runs only where onnxruntime-node has its CUDA
 * libraries and a GPU is visible (test/gpu/check.sh); everywhere else it is skipped, visibly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { probeCuda } from '../runtimes/onnx/execution-provider.js';
import { getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

const probe = probeCuda();
const skip = !probe.providerLibrary
  ? 'SKIPPED: onnxruntime-node has no CUDA libraries here (install them: cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)'
  : !probe.gpuVisible
    ? 'SKIPPED: no NVIDIA GPU visible'
    : false;

describe('CUDA execution provider', { skip }, () => {
  it('gives the CPU outputs on the bundled models', async () => {
    const cpu = await startTestServer(repoPath('models'), { execution_provider: 'cpu' });
    const gpu = await startTestServer(repoPath('models'), { execution_provider: 'cuda' });
    try {
      for (const [model, width] of [
        ['classifier', 4],
        ['regressor', 10],
      ] as const) {
        const cases = JSON.parse(readFileSync(repoPath(`models/${model}/cases.json`), 'utf8')) as { inputs: (number | null)[][] };
        const request = { inputs: [{ name: 'input', datatype: 'FP32', shape: [cases.inputs.length, width], data: cases.inputs }] };
        const [a, b] = await Promise.all([
          postJson(`${cpu.url}/v2/models/${model}/infer`, request),
          postJson(`${gpu.url}/v2/models/${model}/infer`, request),
        ]);
        assert.equal(b.status, 200, JSON.stringify(b.body));
        a.body.outputs.forEach((out: { name: string; data: number[] }, i: number) => {
          out.data.forEach((v, k) =>
            assert.ok(Math.abs(v - b.body.outputs[i].data[k]) <= 1e-5 * Math.max(1, Math.abs(v)), `${model} ${out.name}[${k}]`),
          );
        });
      }
      // /config reports where the instances were placed: config.pbtxt pins the classifier to
      // KIND_CPU, the regressor (no config.pbtxt) follows the server onto GPU 0.
      const groups = async (model: string) =>
        (await getJson(`${gpu.url}/v2/models/${model}/config`)).body.instance_group.map((g: any) => [g.kind, g.gpus]);
      assert.deepEqual(await groups('classifier'), [['KIND_CPU', []]]);
      assert.deepEqual(await groups('regressor'), [['KIND_GPU', [0]]]);
    } finally {
      await cpu.close();
      await gpu.close();
    }
  });
});
