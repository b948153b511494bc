/**
 * The gauges a generation engine in a worker thread publishes to the main thread: kept in
 * shared memory, so a metrics scrape reads them without a round trip to a worker that may be
 * mid-step. A pool with several engines gives each its own slot.
 */
const FIELDS = ['running', 'waiting', 'usedBlocks', 'totalBlocks'] as const;

export type EngineSnapshot = Record<(typeof FIELDS)[number], number>;

export class EngineGauges {
  private readonly values: Int32Array;

  /** `slot` picks this engine's fields in a buffer made for `slots` engines. */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly slot = 0,
  ) {
    this.values = new Int32Array(buffer);
  }

  /** The last int counts the slots claimed. */
  static create(slots: number): EngineGauges {
    return new EngineGauges(new SharedArrayBuffer(4 * (FIELDS.length * Math.max(1, slots) + 1)));
  }

  get slots(): number {
    return (this.values.length - 1) / FIELDS.length;
  }

  /** A slot for a starting engine; a replaced worker's engine takes over a slot in turn. */
  static claimSlot(buffer: SharedArrayBuffer): number {
    const values = new Int32Array(buffer);
    const slots = (values.length - 1) / FIELDS.length;
    return Atomics.add(values, values.length - 1, 1) % slots;
  }

  publish(snapshot: EngineSnapshot): void {
    FIELDS.forEach((f, i) => Atomics.store(this.values, this.slot * FIELDS.length + i, snapshot[f]));
  }

  /** The sum over every engine's slot. */
  total(): EngineSnapshot {
    const out = { running: 0, waiting: 0, usedBlocks: 0, totalBlocks: 0 };
    for (let s = 0; s < this.slots; s++) FIELDS.forEach((f, i) => (out[f] += Atomics.load(this.values, s * FIELDS.length + i)));
    return out;
  }
}
