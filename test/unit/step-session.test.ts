/**
 * The new-column outputs the generation engine steps with (runtimes/huggingface/engine/step-session.ts),
 * on the committed tiny-gpt2 decoder, opened by onnxruntime.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ELEM, graph, model, tensorValueInfo } from '../../runtimes/onnx-ml/onnx-proto.js';
import { newColumnOutput, withNewColumnOutputs } from '../../runtimes/huggingface/engine/step-session.js';
import type { KvLayout } from '../../runtimes/huggingface/engine/kv-batch.js';

const FILE = join(import.meta.dirname, '..', '..', '..', 'test', 'hf-models', 'tiny-gpt2', 'onnx', 'model.onnx');

async function open(bytes: Uint8Array): Promise<{ session: ort.InferenceSession; layout: KvLayout; presents: string[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const meta = session.inputMetadata.find((m) => m.name.startsWith('past_key_values.'));
  const shape = meta && meta.isTensor ? meta.shape : [];
  const names = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const layout: KvLayout = { names, heads: shape[1] as number, headSize: shape[3] as number, type: 'float32' };
  return { session, layout, presents: names.map((n) => n.replace('past_key_values', 'present')) };
}

describe('decoder graph with new-column outputs', () => {
  it("returns each present output's last column, and the model's own outputs unchanged", async () => {
    const plain = await open(readFileSync(FILE));
    const extended = await open(withNewColumnOutputs(readFileSync(FILE))!);
    assert.deepEqual(extended.session.outputNames, [...plain.session.outputNames, ...plain.presents.map(newColumnOutput)]);

    const { heads, headSize } = plain.layout;
    const [rows, past] = [2, 5];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([11n, 42n]), [rows, 1]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(rows * (past + 1)).fill(1n), [rows, past + 1]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from([5n, 5n]), [rows, 1]),
    };
    for (const [i, name] of plain.layout.names.entries()) {
      const data = Float32Array.from({ length: rows * heads * past * headSize }, (_, k) => Math.sin(k + i));
      feeds[name] = new ort.Tensor('float32', data, [rows, heads, past, headSize]);
    }
    const want = await plain.session.run(feeds);
    const got = await extended.session.run(feeds);
    assert.deepEqual(got['logits']!.data, want['logits']!.data);
    for (const present of plain.presents) {
      const full = want[present]!;
      const column = got[newColumnOutput(present)]!;
      assert.deepEqual(column.dims, [rows, heads, 1, headSize]);
      const last = new Float32Array(rows * heads * headSize);
      for (let rh = 0; rh < rows * heads; rh++) {
        const from = (rh * (past + 1) + past) * headSize;
        last.set((full.data as Float32Array).subarray(from, from + headSize), rh * headSize);
      }
      assert.deepEqual(column.data, last, present);
    }
  });

  it('extends only a graph it can step in place: opset 11 or later, position_ids, past and present pairs', () => {
    const io = (inputs: string[], outputs: string[], version: number) =>
      model(
        graph({
          name: 'g',
          nodes: [],
          inputs: inputs.map((n) => tensorValueInfo(n, ELEM.FLOAT, [undefined, 2, undefined, 4])),
          outputs: outputs.map((n) => tensorValueInfo(n, ELEM.FLOAT, [undefined, 2, undefined, 4])),
        }),
        [{ domain: '', version }],
      );
    const inputs = ['input_ids', 'position_ids', 'past_key_values.0.key'];
    assert.ok(withNewColumnOutputs(io(inputs, ['logits', 'present.0.key'], 14)));
    assert.equal(withNewColumnOutputs(io(inputs, ['logits', 'present.0.key'], 10)), undefined, 'opset 10');
    assert.equal(
      withNewColumnOutputs(io(inputs.slice(0, 1).concat(inputs[2]!), ['logits', 'present.0.key'], 14)),
      undefined,
      'no position_ids',
    );
    assert.equal(withNewColumnOutputs(io(inputs, ['logits'], 14)), undefined, 'no present output');
  });
});
