/** The dynamic batcher with a fake executor: what it merges, what it refuses, and that rows go back to their requests. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnavailableError } from '../../src/core/errors.js';
import type { RunRequest } from '../../src/core/inference.js';
import type { Tensor } from '../../src/core/tensor.js';
import { type BatcherOptions, DynamicBatcher } from '../../src/scheduler/dynamic-batcher.js';
import type { RunResult } from '../../src/scheduler/scheduler.js';

const TIMING = { queueNs: 0, inputNs: 0, inferNs: 0, outputNs: 0 };

function request(...rows: number[][]): RunRequest {
  const x: Tensor = { name: 'x', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) };
  return { inputs: [x], outputNames: ['y'], parameters: {} };
}

/** Doubles `x` into `y`, recording each batch; with `gate`, every run waits until it is opened. */
function doubler(gate?: Promise<void>) {
  const batches: number[][] = [];
  const execute = async (run: RunRequest): Promise<RunResult> => {
    const x = run.inputs[0]!;
    batches.push(x.shape);
    await gate;
    const y: Tensor = { name: 'y', datatype: 'FP32', shape: x.shape, data: (x.data as Float32Array).map((v) => v * 2) };
    return { outputs: [y], timing: TIMING };
  };
  return { batches, execute };
}

function batcher(execute: BatcherOptions['execute'], options: Partial<BatcherOptions> = {}): DynamicBatcher {
  return new DynamicBatcher({
    maxBatchSize: 4,
    slots: 1,
    maxQueueDelayUs: 0,
    preferredBatchSizes: [],
    maxQueueSize: 0,
    defaultTimeoutUs: 0,
    onExecution: () => {},
    execute,
    ...options,
  });
}

const rowsOf = (result: RunResult) => Array.from(result.outputs[0]!.data as Float32Array);

describe('dynamic batcher', () => {
  it('merges requests of one shape up to max_batch_size and hands each its own rows', async () => {
    const { batches, execute } = doubler();
    // A delay far longer than the test: the batch closes because it is full, not because time passed.
    const b = batcher(execute, { maxBatchSize: 3, maxQueueDelayUs: 60_000_000 });
    const results = await Promise.all([b.submit(request([1, 2]), 1, 0), b.submit(request([3, 4], [5, 6]), 2, 0)]);
    assert.deepEqual(batches, [[3, 2]]);
    assert.deepEqual(results.map(rowsOf), [
      [2, 4],
      [6, 8, 10, 12],
    ]);
  });

  it('refuses a request when the queue is full, and runs the queued one once a slot frees', async () => {
    let open!: () => void;
    const { batches, execute } = doubler(new Promise<void>((resolve) => (open = resolve)));
    const b = batcher(execute, { maxQueueSize: 1 });
    const running = b.submit(request([1, 1]), 1, 0); // dispatched at once: the only slot is busy
    const queued = b.submit(request([2, 2]), 1, 0);
    assert.equal(b.queueDepth, 1);
    await assert.rejects(b.submit(request([3, 3]), 1, 0), UnavailableError);
    open();
    assert.deepEqual((await Promise.all([running, queued])).map(rowsOf), [
      [2, 2],
      [4, 4],
    ]);
    assert.deepEqual(batches, [
      [1, 2],
      [1, 2],
    ]);
  });

  it('never merges requests whose other dimensions differ', async () => {
    let open!: () => void;
    const { batches, execute } = doubler(new Promise<void>((resolve) => (open = resolve)));
    const b = batcher(execute);
    const first = b.submit(request([0, 0]), 1, 0);
    const narrow = b.submit(request([1, 2]), 1, 0);
    const wide = b.submit(request([1, 2, 3]), 1, 0);
    open();
    const [, n, w] = await Promise.all([first, narrow, wide]);
    assert.deepEqual(
      [rowsOf(n), rowsOf(w)],
      [
        [2, 4],
        [2, 4, 6],
      ],
    );
    assert.deepEqual(batches, [
      [1, 2],
      [1, 2],
      [1, 3],
    ]);
  });

  it('fails every request of a batch with the executor error', async () => {
    const b = batcher(async () => Promise.reject(new Error('boom')), { maxBatchSize: 2, maxQueueDelayUs: 60_000_000 });
    const results = await Promise.allSettled([b.submit(request([1, 1]), 1, 0), b.submit(request([2, 2]), 1, 0)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });
});
