/**
 * The inline copy's rules, with a stand-in runtime whose run takes as many milliseconds as its
 * first input's value (zeros time it as instant, as a graph looping over an input count would be).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import type { RunRequest } from '../../src/core/inference.js';
import type { ModelMetadata } from '../../src/core/runtime.js';
import type { DataType, TensorSpec } from '../../src/core/tensor.js';
import { InlineModel } from '../../src/pool/inline-model.js';
import type { WorkerConfig } from '../../src/pool/worker-protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'inline-model-'));
const runtimeFile = join(dir, 'busy-runtime.mjs');
writeFileSync(
  runtimeFile,
  `export const busy = {
  async load() {
    return {
      metadata: { platform: 'test', inputs: [], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }] },
      async infer(run) {
        const until = performance.now() + Number(run.inputs[0].data[0]);
        while (performance.now() < until);
        return [{ name: 'y', datatype: run.inputs[0].datatype, shape: run.inputs[0].shape, data: run.inputs[0].data }];
      },
      async unload() {},
    };
  },
};
`,
);
after(() => rmSync(dir, { recursive: true, force: true }));

const config: WorkerConfig = {
  runtime: 'busy',
  runtimeModule: pathToFileURL(runtimeFile).href,
  runtimeExport: 'busy',
  modelPath: runtimeFile,
  options: { intraOpThreads: 4, interOpThreads: 1, executionProvider: 'cpu', deviceId: 0, parameters: {} },
};

/** The inputs clients send: one [-1, 2] tensor of `datatype` (the stand-in runtime reports none itself). */
const metadata =
  (datatype: DataType) =>
  (_model: ModelMetadata): TensorSpec[] => [{ name: 'x', datatype, shape: [-1, 2] }];

const run = (rows: number, ms = 0): RunRequest => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data: new Float32Array(rows * 2).fill(ms) }],
  outputNames: ['y'],
  parameters: {},
});

describe('InlineModel', () => {
  it('takes a fast floating-point model, for runs no larger than the calibrated one', async () => {
    const model = await InlineModel.calibrate(config, metadata('FP32'), 8, 1_000_000, () => {});
    assert.ok(model);
    assert.equal(model.calibration.rows, 8);
    assert.equal(model.fits(run(8)), true);
    assert.equal(model.fits(run(9)), false, 'more elements than calibrated go to the workers');
    const result = await model.run(run(2));
    assert.deepEqual(result.outputs[0]!.shape, [2, 2]);
    await model.unload();
  });

  it('refuses integer inputs, whose values may set the run time, and a limit of 0', async () => {
    assert.equal(await InlineModel.calibrate(config, metadata('INT64'), 1, 1_000_000, () => {}), undefined);
    assert.equal(await InlineModel.calibrate(config, metadata('FP32'), 1, 0, () => {}), undefined);
  });

  it('refuses a GPU placement and a model file that is not small', async () => {
    const gpu = { ...config, options: { ...config.options, executionProvider: 'cuda' as const } };
    assert.equal(await InlineModel.calibrate(gpu, metadata('FP32'), 1, 1_000_000, () => {}), undefined);
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(5 * 1024 * 1024));
    assert.equal(await InlineModel.calibrate({ ...config, modelPath: big }, metadata('FP32'), 1, 1_000_000, () => {}), undefined);
  });

  it('goes back to the workers for good after one run that held the thread over 100 ms', async () => {
    const demotions: number[] = [];
    const model = await InlineModel.calibrate(config, metadata('FP32'), 1, 1_000_000, (us) => demotions.push(us));
    assert.ok(model);
    await model.run(run(1, 120));
    assert.equal(demotions.length, 1);
    assert.ok(demotions[0]! >= 120_000, `the slow run's time is reported: ${demotions[0]} us`);
    assert.equal(model.fits(run(1)), false);
    await model.unload();
  });
});
