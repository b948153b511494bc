/**
 * Automatic prefix caching, as vLLM's: the K/V of a prompt's leading full blocks, keyed by a
 * hash of the block's token ids and all blocks before it, kept least-recently-used. A block
 * a running sequence started from is pinned until that sequence ends.
 */
import { createHash } from 'node:crypto';
import type { KvBatch } from './kv-batch.js';

interface Entry {
  kv: KvBatch;
  refs: number;
}

/** The chained keys of the full blocks of `ids`. */
export function blockKeys(ids: readonly number[], blockSize: number): string[] {
  const keys: string[] = [];
  let parent = '';
  for (let end = blockSize; end <= ids.length; end += blockSize) {
    parent = createHash('sha256')
      .update(parent)
      .update(Int32Array.from(ids.slice(end - blockSize, end)))
      .digest('base64');
    keys.push(parent);
  }
  return keys;
}

export class PrefixCache {
  /** Map order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** How many of `keys` are cached, from the first. */
  leadingHits(keys: readonly string[]): number {
    let n = 0;
    while (n < keys.length && this.entries.has(keys[n]!)) n++;
    return n;
  }

  /**
   * The blocks of `keys` (all cached), pinned and marked recently used, the first block most
   * recently: a chain is then evicted from its tail, and no cached block loses its parent.
   */
  take(keys: readonly string[]): KvBatch[] {
    this.touchChain(keys);
    return keys.map((key) => {
      const entry = this.entries.get(key)!;
      entry.refs++;
      return entry.kv;
    });
  }

  /** Marks a chain's blocks recently used, its first block most recently. */
  touchChain(keys: readonly string[]): void {
    for (const key of [...keys].reverse()) this.touch(key);
  }

  private touch(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  release(keys: readonly string[]): void {
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry) entry.refs--;
    }
  }

  insert(key: string, kv: KvBatch): void {
    if (!this.entries.has(key)) this.entries.set(key, { kv, refs: 0 });
  }

  /** Drops the least recently used unpinned block; false when every block is pinned. */
  evictOne(): boolean {
    for (const [key, entry] of this.entries) {
      if (entry.refs > 0) continue;
      this.entries.delete(key);
      return true;
    }
    return false;
  }
}
