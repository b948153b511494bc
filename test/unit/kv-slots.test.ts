/**
 * The running batch's in-place K/V (runtimes/huggingface/engine/kv-slots.ts): whatever the
 * joins, leaves, new columns and changes of room, every row keeps exactly its own columns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyKv, type KvArray, type KvBatch, type KvLayout } from '../../runtimes/huggingface/engine/kv-batch.js';
import { GROWTH, KvSlots } from '../../runtimes/huggingface/engine/kv-slots.js';

const layout: KvLayout = { names: ['past.0.key', 'past.0.value'], heads: 3, headSize: 2, type: 'float32' };
const { heads, headSize } = layout;

/** A distinct value for each sequence, input, head, column and element. */
const value = (seq: number, input: number, head: number, column: number, k: number) =>
  seq * 1e5 + input * 1e4 + head * 1e3 + column * 10 + k;

function prompt(seq: number, length: number): KvBatch {
  const kv = emptyKv(layout, 1, length);
  layout.names.forEach((name, i) => {
    const data = kv.data.get(name)!;
    for (let h = 0; h < heads; h++)
      for (let c = 0; c < length; c++) for (let k = 0; k < headSize; k++) data[(h * length + c) * headSize + k] = value(seq, i, h, c, k);
  });
  return kv;
}

/** The new column of each row, as a step's [rows, heads, 1, headSize] outputs. */
function columns(seqs: readonly number[], lengths: readonly number[]): Map<string, KvArray> {
  return new Map(
    layout.names.map((name, i) => {
      const data = new Float32Array(seqs.length * heads * headSize);
      seqs.forEach((seq, r) => {
        for (let h = 0; h < heads; h++)
          for (let k = 0; k < headSize; k++) data[(r * heads + h) * headSize + k] = value(seq, i, h, lengths[r]!, k);
      });
      return [name, data];
    }),
  );
}

function assertRows(slots: KvSlots, seqs: readonly number[]): void {
  const kv = slots.view();
  assert.equal(kv.rows, seqs.length);
  assert.ok(Math.max(0, ...slots.lengths) < kv.length, 'a free column after the longest row');
  layout.names.forEach((name, i) => {
    const data = kv.data.get(name)!;
    assert.equal(data.length, kv.rows * heads * kv.length * headSize);
    seqs.forEach((seq, r) => {
      for (let h = 0; h < heads; h++)
        for (let c = 0; c < slots.lengths[r]!; c++)
          for (let k = 0; k < headSize; k++)
            assert.equal(
              data[((r * heads + h) * kv.length + c) * headSize + k],
              value(seq, i, h, c, k),
              `row ${r} (seq ${seq}) head ${h} column ${c}`,
            );
    });
  });
}

describe('KvSlots', () => {
  it('rows keep their own columns through joins, leaves, steps and changes of room', () => {
    const slots = new KvSlots(layout);
    let seqs: number[] = [];
    let next = 0;
    let random = 7;
    const rand = (n: number) => (random = (random * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 200; round++) {
      const op = rand(10);
      if (op < 2 || !seqs.length) {
        const joining = Array.from({ length: 1 + rand(3) }, () => next++);
        slots.append(joining.map((seq) => prompt(seq, 1 + rand(2 * GROWTH))));
        seqs.push(...joining);
      } else if (op < 4) {
        const gone = new Set(seqs.map((_, r) => r).filter(() => rand(3) === 0));
        const order = slots.remove(gone);
        assert.equal(order.length, seqs.length - gone.size);
        assert.ok(order.every((r) => !gone.has(r)));
        seqs = order.map((r) => seqs[r]!);
      } else {
        slots.appendColumns(columns(seqs, slots.lengths));
      }
      assertRows(slots, seqs);
    }
  });

  it('gives back room when the long rows leave', () => {
    const slots = new KvSlots(layout);
    slots.append([prompt(0, 3), prompt(1, 3 * GROWTH + 2)]);
    assert.equal(slots.view().length, 4 * GROWTH);
    slots.remove(new Set([1]));
    assert.equal(slots.view().length, GROWTH);
    assertRows(slots, [0]);
  });

  it('gives its memory back once the rows that needed it are gone', () => {
    const slots = new KvSlots(layout);
    slots.append(Array.from({ length: 16 }, (_, seq) => prompt(seq, 40)));
    const burst = slots.allocatedBytes;
    assert.ok(burst >= 16 * heads * 48 * headSize * 4 * layout.names.length);
    slots.remove(new Set(Array.from({ length: 14 }, (_, r) => r + 2)));
    assert.ok(slots.allocatedBytes < burst / 2, `${slots.allocatedBytes} of ${burst} bytes still held`);
    assertRows(slots, [0, 1]);
    const kept = slots.allocatedBytes;
    slots.remove(new Set([0, 1]));
    assert.equal(slots.allocatedBytes, kept, 'an emptied batch keeps its buffers for the rows that come back');
    slots.trim();
    assert.equal(slots.allocatedBytes, 0);
  });

  it('takes rows again after it emptied and after it was trimmed', () => {
    const slots = new KvSlots(layout);
    slots.append([prompt(0, 3 * GROWTH)]);
    slots.remove(new Set([0]));
    slots.append([prompt(1, 5), prompt(2, 2)]);
    assert.equal(slots.view().length, GROWTH);
    assertRows(slots, [1, 2]);
    slots.remove(new Set([0, 1]));
    slots.trim();
    slots.append([prompt(3, GROWTH + 1)]);
    assertRows(slots, [3]);
  });
});
