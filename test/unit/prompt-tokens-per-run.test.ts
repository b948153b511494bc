/** How many prompt tokens one prefill run may feed, by what the graph answers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promptTokensPerRun } from '../../runtimes/huggingface/engine/build-engine.js';

describe('prompt tokens per prefill run', () => {
  it("bounds a run's every-position logits to 256 MiB of float32, and leaves last-position graphs unbounded", () => {
    assert.equal(promptTokensPerRun(true, 151_936), 441); // Qwen2's vocabulary
    assert.equal(promptTokensPerRun(true, 50_257), 1335); // GPT-2's
    assert.equal(promptTokensPerRun(true, 2 ** 24), 4);
    assert.equal(promptTokensPerRun(true, 2 ** 40), 1, 'always at least one token');
    assert.equal(promptTokensPerRun(false, 151_936), Number.POSITIVE_INFINITY);
  });
});
