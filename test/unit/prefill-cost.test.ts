/** How the generation engine sizes its prefill runs from its own timings (runtimes/huggingface/engine/prefill-cost.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrefillCost, rowsPerRun } from '../../runtimes/huggingface/engine/prefill-cost.js';

describe('PrefillCost', () => {
  it('recovers the fixed and per-token parts of runs that lie on a line', () => {
    const cost = new PrefillCost();
    for (const tokens of [6, 30, 66, 12, 90, 6]) cost.record(tokens, 10 + 0.8 * tokens);
    const fit = cost.fit()!;
    assert.ok(Math.abs(fit.fixedMs - 10) < 1e-9, `fixed ${fit.fixedMs}`);
    assert.ok(Math.abs(fit.perTokenMs - 0.8) < 1e-9, `per token ${fit.perTokenMs}`);
  });

  it('tells nothing until it has seen a few runs of clearly different sizes', () => {
    const cost = new PrefillCost();
    for (const tokens of [6, 60, 6]) cost.record(tokens, 10 + tokens);
    assert.equal(cost.fit(), undefined, 'three runs');
    const same = new PrefillCost();
    for (let i = 0; i < 10; i++) same.record(40 + (i % 2) * 10, 50);
    assert.equal(same.fit(), undefined, 'runs of about one size');
  });

  it('forgets old runs, so the fit follows the machine', () => {
    const cost = new PrefillCost();
    for (let i = 0; i < 32; i++) cost.record(i % 2 ? 10 : 100, i % 2 ? 20 : 110);
    for (let i = 0; i < 32; i++) cost.record(i % 2 ? 10 : 100, i % 2 ? 40 : 40.9);
    assert.ok(cost.fit()!.perTokenMs < 0.02);
  });

  it('gives no line when the runs do not grow with their tokens', () => {
    const cost = new PrefillCost();
    for (const [tokens, ms] of [
      [10, 50],
      [100, 20],
      [10, 55],
      [100, 25],
    ] as const)
      cost.record(tokens, ms);
    assert.equal(cost.fit(), undefined);
  });
});

describe('rowsPerRun', () => {
  it('keeps one run without a fit, or when the fixed part dominates (a GPU)', () => {
    assert.equal(rowsPerRun(15, 6, undefined), 15);
    assert.equal(rowsPerRun(15, 6, { fixedMs: 30, perTokenMs: 0.05 }), 15);
    assert.equal(rowsPerRun(64, 6, { fixedMs: 30, perTokenMs: 0.05 }), 64);
  });

  it('splits a burst when tokens dominate (a CPU), into runs no smaller than the least mean needs', () => {
    // gpt2-small on 2 cores: ~10 ms per run and ~0.8 ms per padded token.
    const cpu = { fixedMs: 10, perTokenMs: 0.8 };
    const size = rowsPerRun(15, 6, cpu);
    assert.ok(size > 1 && size < 15, `15 prompts in runs of ${size}`);
    assert.ok(rowsPerRun(64, 6, cpu) < 64);
  });

  it('makes the runs about even (the last short by less than one row per run), so the median prompt waits for about half the burst', () => {
    const cpu = { fixedMs: 11, perTokenMs: 0.63 };
    for (const rows of [15, 16, 17, 40, 64]) {
      const size = rowsPerRun(rows, 6, cpu);
      const runs = Math.ceil(rows / size);
      const last = rows - (runs - 1) * size;
      assert.ok(runs > 1, `${rows} prompts in one run`);
      assert.ok(size - last < runs, `${rows} prompts in runs of ${size}, the last of ${last}`);
    }
    assert.equal(rowsPerRun(16, 6, cpu), 8);
  });

  it('keeps two prompts of that CPU together: a second run would cost more than it saves', () => {
    assert.equal(rowsPerRun(2, 6, { fixedMs: 10, perTokenMs: 0.8 }), 2);
  });
});
