/** The sampling defaults read from a model's generation_config.json, as vLLM reads them. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSamplingDefaults, samplingDefaults } from '../../runtimes/huggingface/sampling-defaults.js';

describe('sampling defaults from generation_config.json', () => {
  it("takes vLLM's six fields where they differ from Hugging Face's defaults", () => {
    // Qwen2.5-Instruct's recommendations.
    const qwen = { do_sample: true, temperature: 0.7, top_p: 0.8, top_k: 20, repetition_penalty: 1.05, eos_token_id: [151645, 151643] };
    assert.deepEqual(samplingDefaults(qwen), { temperature: 0.7, topP: 0.8, topK: 20, repetitionPenalty: 1.05 });
    assert.deepEqual(samplingDefaults({ min_p: 0.05, max_new_tokens: 512 }), { minP: 0.05, maxTokens: 512 });
    // Restated defaults change nothing; top_k 0 means every token; non-numbers are skipped.
    assert.deepEqual(samplingDefaults({ temperature: 1, top_p: 1, top_k: 50, repetition_penalty: 1 }), {});
    assert.deepEqual(samplingDefaults({ top_k: 0, temperature: null, top_p: '0.9' }), { topK: 0 });
  });

  it('--generation_config: auto reads the model folder, vllm nothing, a folder its file, and a folder without one is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gencfg-'));
    const other = await mkdtemp(join(tmpdir(), 'gencfg-'));
    try {
      await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ temperature: 0.6 }));
      assert.deepEqual(await loadSamplingDefaults('auto', dir), { temperature: 0.6 });
      assert.deepEqual(await loadSamplingDefaults('vllm', dir), {});
      assert.deepEqual(await loadSamplingDefaults(dir, other), { temperature: 0.6 });
      await assert.rejects(
        loadSamplingDefaults(other, dir),
        /--generation_config .* has no generation_config\.json; give auto, vllm or a folder/,
      );
    } finally {
      await rm(dir, { recursive: true });
      await rm(other, { recursive: true });
    }
  });
});
