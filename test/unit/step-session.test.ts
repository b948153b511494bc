/**
 * The new-column outputs the generation engine steps with (runtimes/huggingface/engine/step-session.ts),
 * on the committed tiny-gpt2 decoder, opened by onnxruntime.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ELEM, graph, model, node, tensorValueInfo } from '../../runtimes/onnx-ml/onnx-proto.js';
import {
  NEW_COLUMN_INDEX,
  newColumnOutput,
  openCausalDecoder,
  withNewColumnOutputs,
} from '../../runtimes/huggingface/engine/step-session.js';
import type { KvLayout } from '../../runtimes/huggingface/engine/kv-batch.js';

const MODELS = join(import.meta.dirname, '..', '..', '..', 'test', 'hf-models');
const FILE = join(MODELS, 'tiny-gpt2', 'onnx', 'model.onnx');
/** Attention by onnxruntime's GroupQueryAttention, weights in model.onnx_data beside it. */
const GQA_FILE = join(MODELS, 'tiny-llama-gqa', 'onnx', 'model.onnx');

async function open(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<{ session: ort.InferenceSession; layout: KvLayout; presents: string[] }> {
  const session = await ort.InferenceSession.create(bytes, options);
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
    // GroupQueryAttention counts positions from the mask's sum, so it needs no position_ids.
    const gqa = model(
      graph({
        name: 'g',
        nodes: [node({ opType: 'GroupQueryAttention', domain: 'com.microsoft', inputs: ['q'], outputs: ['present.0.key'] })],
        inputs: ['input_ids', 'past_key_values.0.key'].map((n) => tensorValueInfo(n, ELEM.FLOAT, [undefined, 2, undefined, 4])),
        outputs: ['logits', 'present.0.key'].map((n) => tensorValueInfo(n, ELEM.FLOAT, [undefined, 2, undefined, 4])),
      }),
      [{ domain: '', version: 14 }],
    );
    assert.ok(withNewColumnOutputs(gqa), 'GroupQueryAttention without position_ids');
  });

  it("GroupQueryAttention graphs: opened from memory with their external weights, leading past, each row's new column where the operator wrote it", async () => {
    assert.equal((await openCausalDecoder(FILE, {})).pastTokens, 'masked');
    const { session, pastTokens } = await openCausalDecoder(GQA_FILE, {});
    assert.equal(pastTokens, 'leading');
    const plain = await open(readFileSync(GQA_FILE), {
      extra: { session: { model_external_initializers_file_folder_path: dirname(GQA_FILE) } },
    });
    assert.deepEqual(session.outputNames, [...plain.session.outputNames, ...plain.presents.map(newColumnOutput)]);
    assert.ok(session.inputNames.includes(NEW_COLUMN_INDEX));

    // Two rows holding 3 and 5 tokens in a past of 6 columns: each row's tokens lead, the mask
    // marks them and the new token last.
    const { heads, headSize } = plain.layout;
    const [rows, room, lengths] = [2, 6, [3, 5]];
    const mask = new BigInt64Array(rows * (room + 1));
    lengths.forEach((n, r) => {
      mask.fill(1n, r * (room + 1), r * (room + 1) + n);
      mask[r * (room + 1) + room] = 1n;
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([11n, 42n]), [rows, 1]),
      attention_mask: new ort.Tensor('int64', mask, [rows, room + 1]),
    };
    for (const [i, name] of plain.layout.names.entries()) {
      const data = Float32Array.from({ length: rows * heads * room * headSize }, (_, k) => Math.sin(k + i));
      feeds[name] = new ort.Tensor('float32', data, [rows, heads, room, headSize]);
    }
    const want = await plain.session.run(feeds);
    const index = new BigInt64Array(rows * heads * headSize);
    lengths.forEach((n, r) => index.fill(BigInt(n), r * heads * headSize, (r + 1) * heads * headSize));
    const got = await session.run({ ...feeds, [NEW_COLUMN_INDEX]: new ort.Tensor('int64', index, [rows, heads, 1, headSize]) });
    assert.deepEqual(got['logits']!.data, want['logits']!.data);
    for (const present of plain.presents) {
      const full = want[present]!;
      const columns = full.dims[2]!;
      const written = new Float32Array(rows * heads * headSize);
      for (let rh = 0; rh < rows * heads; rh++) {
        const from = (rh * columns + lengths[Math.floor(rh / heads)]!) * headSize;
        written.set((full.data as Float32Array).subarray(from, from + headSize), rh * headSize);
      }
      assert.deepEqual(got[newColumnOutput(present)]!.data, written, present);
      // Not the last column, where plain attention appends.
      assert.notDeepEqual(
        (full.data as Float32Array).subarray((columns - 1) * headSize, columns * headSize),
        written.subarray(0, headSize),
      );
    }
  });
});
