/**
 * The schedulers on their own: an executor that holds each run until the test lets it go, so
 * the queue states are reached by order of events rather than by time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CancelSignal, CancelSource } from '../src/core/cancel.js';
import { CancelledError } from '../src/core/errors.js';
import type { RunRequest } from '../src/core/inference.js';
import type { Tensor } from '../src/core/tensor.js';
import { DirectScheduler } from '../src/scheduler/direct-scheduler.js';
import { DynamicBatcher } from '../src/scheduler/dynamic-batcher.js';
import type { RunResult, Scheduler } from '../src/scheduler/scheduler.js';

const TIMING = { queueNs: 0, inputNs: 0, inferNs: 0, outputNs: 0 };

function rows(values: number[]): RunRequest {
  const x: Tensor = { name: 'x', datatype: 'FP32', shape: [values.length, 1], data: Float32Array.from(values) };
  return { inputs: [x], outputNames: ['x'], parameters: {} };
}

/** Runs that finish only when released, echoing their inputs. */
function heldExecutor() {
  const held: { run: RunRequest; signal?: CancelSignal; release(): void }[] = [];
  const execute = (run: RunRequest, signal?: CancelSignal) =>
    new Promise<RunResult>((resolve) => held.push({ run, signal, release: () => resolve({ outputs: run.inputs, timing: TIMING }) }));
  return { held, execute };
}

function batcher(execute: (run: RunRequest, signal?: CancelSignal) => Promise<RunResult>): DynamicBatcher {
  return new DynamicBatcher({
    maxBatchSize: 8,
    preferredBatchSizes: [],
    maxQueueDelayUs: 0,
    maxQueueSize: 0,
    defaultTimeoutUs: 0,
    slots: 1,
    execute,
    onExecution: () => {},
  });
}

async function settled(scheduler: Scheduler, inFlight: number, queueDepth: number): Promise<void> {
  for (let i = 0; i < 100 && (scheduler.inFlight !== inFlight || scheduler.queueDepth !== queueDepth); i++) await new Promise(setImmediate);
  assert.deepEqual([scheduler.inFlight, scheduler.queueDepth], [inFlight, queueDepth]);
}

describe('DynamicBatcher as a Scheduler', () => {
  it('an aborted signal takes a queued request out at once; the others still run', async () => {
    const { held, execute } = heldExecutor();
    const s = batcher(execute);
    const first = s.submit(rows([1]), 1, 0);
    await settled(s, 1, 0);
    const controller = new CancelSource();
    const leaving = s.submit(rows([2]), 1, 0, controller.signal);
    const staying = s.submit(rows([3]), 1, 0);
    await settled(s, 1, 2);
    controller.abort();
    await assert.rejects(leaving, (error: Error) => error instanceof CancelledError && /cancelled/.test(error.message));
    assert.equal(s.queueDepth, 1);
    held[0]!.release();
    assert.deepEqual(Array.from((await first).outputs[0]!.data as Float32Array), [1]);
    await settled(s, 1, 0);
    assert.deepEqual(Array.from(held[1]!.run.inputs[0]!.data as Float32Array), [3], 'the aborted request never reached the model');
    held[1]!.release();
    assert.deepEqual(Array.from((await staying).outputs[0]!.data as Float32Array), [3]);
  });

  it('a caller of a running batch gets its cancel at once; the batch is told to stop once all its callers left', async () => {
    const { held, execute } = heldExecutor();
    const s = new DynamicBatcher({
      maxBatchSize: 8,
      preferredBatchSizes: [2],
      maxQueueDelayUs: 10_000_000,
      maxQueueSize: 0,
      defaultTimeoutUs: 0,
      slots: 1,
      execute,
      onExecution: () => {},
    });
    const [a, b] = [new CancelSource(), new CancelSource()];
    const first = s.submit(rows([1]), 1, 0, a.signal);
    const second = s.submit(rows([2]), 1, 0, b.signal);
    await settled(s, 1, 0);
    a.abort();
    await assert.rejects(first, CancelledError);
    assert.equal(held[0]!.signal!.aborted, false, 'one caller is still waiting for the batch');
    b.abort();
    await assert.rejects(second, CancelledError);
    assert.equal(held[0]!.signal!.aborted, true, 'nobody waits: the run may stop');
    assert.equal(s.inFlight, 1, 'the run counts until the worker is done with it');
    held[0]!.release();
    await settled(s, 0, 0);
  });

  it('a running direct request is dropped at once when its caller leaves, and counted until the worker is done', async () => {
    const { held, execute } = heldExecutor();
    const s = new DirectScheduler(execute, () => {});
    const controller = new CancelSource();
    const leaving = s.submit(rows([1]), 1, 0, controller.signal);
    await settled(s, 1, 0);
    controller.abort();
    await assert.rejects(leaving, CancelledError);
    assert.equal(held[0]!.signal!.aborted, true);
    assert.equal(s.inFlight, 1);
    held[0]!.release();
    await settled(s, 0, 0);
  });

  it('a signal aborted before submit is refused without queueing', async () => {
    const { held, execute } = heldExecutor();
    const s = batcher(execute);
    await assert.rejects(s.submit(rows([1]), 1, 0, CancelSource.aborted()), CancelledError);
    assert.deepEqual([s.inFlight, s.queueDepth, held.length], [0, 0, 0]);
  });

  it('stop refuses new work and resolves once accepted work has finished', async () => {
    const { held, execute } = heldExecutor();
    const s = batcher(execute);
    const running = s.submit(rows([1]), 1, 0);
    await settled(s, 1, 0);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await assert.rejects(s.submit(rows([2]), 1, 0), /unloading/);
    assert.equal(stopped, false);
    held[0]!.release();
    await running;
    await stopping;
    assert.equal(stopped, true);
  });
});

describe('DirectScheduler', () => {
  it('counts runs in flight, reports each execution, and stops after them', async () => {
    const { held, execute } = heldExecutor();
    const executions: number[] = [];
    const s = new DirectScheduler(execute, (size) => executions.push(size));
    const a = s.submit(rows([1, 2]), 2, 0);
    const b = s.submit(rows([3]), 1, 0);
    await settled(s, 2, 0);
    const stopping = s.stop();
    await assert.rejects(s.submit(rows([4]), 1, 0), /unloading/);
    await assert.rejects(new DirectScheduler(execute, () => {}).submit(rows([5]), 1, 0, CancelSource.aborted()), CancelledError);
    for (const h of held) h.release();
    await Promise.all([a, b, stopping]);
    assert.deepEqual(executions.sort(), [1, 2]);
    assert.equal(s.inFlight, 0);
  });
});
