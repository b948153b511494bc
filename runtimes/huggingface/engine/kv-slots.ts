/**
 * The running batch's K/V when steps write their new columns in place (causal-decoder.ts): per
 * past input one buffer laid out [rows, heads, room, headSize], each row's tokens from column 0
 * and free columns after them.
 *
 * The batch's K/V is tens of MB. Allocating it again whenever a sequence joins or leaves, or the
 * room grows, cost 50-200 ms a time in the server at batch 16 on gpt2-small (fresh zeroed pages
 * and the collections that V8 runs for the external memory), against ~25 ms for the step itself.
 * So the buffers are kept: a leaving row takes the last row's place, a joining row goes at the
 * end, and a change of room moves the rows within the same buffer. They are replaced only when
 * the batch outgrows them, or shrinks to under a quarter of them while it still runs. A batch
 * that empties keeps them (closed-loop clients that finish in one step come back a few ms
 * later: a fresh 38 MB buffer for their 16 rows stalled the next step 12-27 ms each time);
 * trim() gives them back once the engine has been idle a while.
 */
import { type KvArray, type KvBatch, type KvLayout, kvArray } from './kv-batch.js';

/** Columns the room grows by when the longest row reaches its end. */
export const GROWTH = 16;

/** The room for rows of up to `longest` tokens: the next multiple of GROWTH above it. */
export const roomFor = (longest: number) => (Math.floor(longest / GROWTH) + 1) * GROWTH;

export class KvSlots {
  /** Tokens per row. */
  readonly lengths: number[] = [];
  /** Columns per row: the past's length dimension. */
  private room = GROWTH;
  private buffers: KvArray[];

  constructor(private readonly layout: KvLayout) {
    this.buffers = layout.names.map(() => kvArray(this.layout, 0));
  }

  get rows(): number {
    return this.lengths.length;
  }

  /** Bytes the buffers hold, used or not. */
  get allocatedBytes(): number {
    return this.buffers.reduce((n, b) => n + b.byteLength, 0);
  }

  /** The batch as the graph's past: views of the buffers, [rows, heads, room, headSize]. */
  view(): KvBatch {
    const size = this.rowSize() * this.rows;
    const { heads, headSize, names } = this.layout;
    const data = new Map(names.map((name, i) => [name, this.buffers[i]!.subarray(0, size)]));
    return { rows: this.rows, length: this.room, heads, headSize, data };
  }

  /** Adds rows at the end, one per one-row cache, holding its columns. */
  append(caches: readonly KvBatch[]): void {
    this.fit(this.rows + caches.length, roomFor(Math.max(0, ...this.lengths, ...caches.map((kv) => kv.length))));
    const { heads, headSize } = this.layout;
    for (const kv of caches) {
      const row = this.rows;
      this.layout.names.forEach((name, i) => {
        const src = kv.data.get(name)!;
        const dst = this.buffers[i]!;
        for (let h = 0; h < heads; h++) {
          dst.set(src.subarray(h * kv.length * headSize, (h + 1) * kv.length * headSize), (row * heads + h) * this.room * headSize);
        }
      });
      this.lengths.push(kv.length);
    }
  }

  /**
   * Removes rows; each takes the place of the batch's last row. Returns, for each row after,
   * the index it had before, so the caller can reorder what it keeps per row alike.
   */
  remove(rows: ReadonlySet<number>): number[] {
    const order = this.lengths.map((_, i) => i);
    const block = this.rowSize();
    for (const row of [...rows].sort((a, b) => b - a)) {
      const last = this.rows - 1;
      if (row !== last) {
        for (const buffer of this.buffers) buffer.copyWithin(row * block, last * block, (last + 1) * block);
        this.lengths[row] = this.lengths[last]!;
        order[row] = order[last]!;
      }
      this.lengths.pop();
      order.pop();
    }
    this.fit(this.rows, roomFor(Math.max(0, ...this.lengths)));
    return order;
  }

  /** Gives the buffers back if no row holds them. */
  trim(): void {
    if (this.rows) return;
    this.buffers = this.buffers.map(() => kvArray(this.layout, 0));
    this.room = GROWTH;
  }

  /** Writes each row's new column (a step's [rows, heads, 1, headSize] outputs, by past name) after its tokens. */
  appendColumns(columns: ReadonlyMap<string, KvArray>): void {
    const { heads, headSize } = this.layout;
    this.layout.names.forEach((name, i) => {
      const column = columns.get(name)!;
      const dst = this.buffers[i]!;
      for (let r = 0; r < this.rows; r++) {
        for (let h = 0; h < heads; h++) {
          const from = (r * heads + h) * headSize;
          dst.set(column.subarray(from, from + headSize), ((r * heads + h) * this.room + this.lengths[r]!) * headSize);
        }
      }
    });
    for (let r = 0; r < this.rows; r++) this.lengths[r]!++;
    const longest = Math.max(...this.lengths);
    if (longest >= this.room) this.fit(this.rows, roomFor(longest));
  }

  private rowSize(room = this.room): number {
    return this.layout.heads * room * this.layout.headSize;
  }

  /**
   * Room for `rows` rows of `room` columns: the same buffers while they hold it without holding
   * four times it, else new ones (so the memory of a burst goes back when it has run). An empty
   * batch keeps them until trim().
   */
  private fit(rows: number, room: number): void {
    const needed = rows * this.rowSize(room);
    const capacity = this.buffers[0]!.length;
    if (needed > capacity || (rows && needed < capacity / 4)) {
      const elements = needed > capacity ? Math.max(needed, Math.ceil(capacity * 1.5)) : needed * 2;
      this.buffers = this.buffers.map((old) => {
        const fresh = kvArray(this.layout, elements);
        this.move(old, fresh, room);
        return fresh;
      });
    } else if (room !== this.room) {
      for (const buffer of this.buffers) this.move(buffer, buffer, room);
    }
    this.room = room;
  }

  /**
   * Each row's tokens from a layout with the current room to one with `room`. Within one buffer,
   * segments move up when the room grows (so the last goes first) and down when it shrinks
   * (first goes first), and never overwrite a segment not yet moved.
   */
  private move(src: KvArray, dst: KvArray, room: number): void {
    const { heads, headSize } = this.layout;
    const segments = this.rows * heads;
    const grow = room > this.room;
    for (let k = 0; k < segments; k++) {
      const s = grow ? segments - 1 - k : k;
      const length = this.lengths[Math.floor(s / heads)]! * headSize;
      const from = s * this.room * headSize;
      const to = s * room * headSize;
      if (src === dst) dst.copyWithin(to, from, from + length);
      else dst.set(src.subarray(from, from + length), to);
    }
  }
}
