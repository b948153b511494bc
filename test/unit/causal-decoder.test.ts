/**
 * The causal decoder on a GroupQueryAttention graph (test/hf-models/tiny-llama-gqa), driven step
 * by step as the engine drives it: prompts prefilled together and in chunks, rows joining and
 * leaving the running batch. Its greedy ids must equal the fixture's numpy reference whether the
 * graph is extended with new-column outputs (steps write in place) or opened as it is (steps
 * take the whole present outputs). The server tests cover the first through HTTP; onnxruntime
 * accepts every extension of a graph like this one, so only this test reaches the second.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { CausalDecoder } from '../../runtimes/huggingface/engine/causal-decoder.js';
import type { KvBatch, KvLayout } from '../../runtimes/huggingface/engine/kv-batch.js';
import type { Sequence } from '../../runtimes/huggingface/engine/sequence.js';
import { openCausalDecoder } from '../../runtimes/huggingface/engine/step-session.js';

const DIR = join(import.meta.dirname, '..', '..', '..', 'test', 'hf-models', 'tiny-llama-gqa');
const FILE = join(DIR, 'onnx', 'model.onnx');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  prompts: { ids: number[]; greedy_ids: number[] }[];
};

/** What the decoder reads and writes of a sequence. */
class Row {
  kv?: KvBatch;
  prefilled = 0;
  last = -1;
  readonly scoresPrompt = false;
  readonly out: number[] = [];
  constructor(
    readonly prefillIds: number[],
    readonly wanted: number,
  ) {}
  get promptDone(): boolean {
    return this.prefilled >= this.prefillIds.length;
  }
  take(logits: Float32Array): void {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
    this.last = best;
    this.out.push(best);
  }
}

function layoutOf(session: ort.InferenceSession): KvLayout {
  const meta = session.inputMetadata.find((m) => m.name.startsWith('past_key_values.'));
  const shape = meta && meta.isTensor ? meta.shape : [];
  const names = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  return { names, heads: shape[1] as number, headSize: shape[3] as number, type: 'float32' };
}

/**
 * Prompts 0 and 1 prefilled together; prompt 2 joins after three steps, its prompt prefilled
 * alone in chunks of 16; each row leaves when it has its reference's count of tokens.
 */
async function greedyIds(session: ort.InferenceSession): Promise<number[][]> {
  const decoder = new CausalDecoder(session, layoutOf(session), { firstPosition: 0, pastTokens: 'leading' });
  const rows = expected.prompts.map((p) => new Row(p.ids, p.greedy_ids.length));
  const asSeqs = (list: Row[]) => list as unknown as Sequence[];
  const first = rows.slice(0, 2);
  (await decoder.prefillBatch(asSeqs(first))).forEach((logits, i) => first[i]!.take(logits));
  decoder.update(new Set(), asSeqs(first));
  let running = [...first];
  for (let step = 0; running.length; step++) {
    if (step === 3) {
      const late = rows[2]!;
      let logits: Float32Array | undefined;
      while (!logits) logits = await decoder.prefill(late as unknown as Sequence, 16);
      late.take(logits);
      decoder.update(new Set(), asSeqs([late]));
      running.push(late);
    }
    const logits = await decoder.step();
    for (const row of running) row.take(logits.get(row as unknown as Sequence)!);
    const done = running.filter((r) => r.out.length >= r.wanted);
    decoder.update(new Set(asSeqs(done)), []);
    running = running.filter((r) => !done.includes(r));
  }
  return rows.map((r) => r.out);
}

describe('causal decoder on a GroupQueryAttention graph', () => {
  const want = expected.prompts.map((p) => p.greedy_ids);

  it('extended with new-column outputs: rows joining and leaving get the reference ids', async () => {
    const { session } = await openCausalDecoder(FILE, {});
    assert.ok(session.outputNames.some((n) => n.startsWith('tsserve.new_column.')));
    assert.deepEqual(await greedyIds(session), want);
  });

  it('opened as it is, stepping with whole present outputs: rows joining and leaving get the reference ids', async () => {
    const session = await ort.InferenceSession.create(FILE);
    assert.ok(!session.outputNames.some((n) => n.startsWith('tsserve.new_column.')));
    assert.deepEqual(await greedyIds(session), want);
  });
});
