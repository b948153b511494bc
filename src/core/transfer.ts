/**
 * Which ArrayBuffers may be handed to a worker thread by transfer instead of by copy.
 * Only buffers this process allocated for one request are marked: transferring a buffer that
 * Node shares between many small Buffers (its allocation pool) would detach strangers' bytes.
 */
import { BytesData } from './bytes-data.js';
import type { Tensor } from './tensor.js';

const owned = new WeakSet<ArrayBufferLike>();

export function markOwned<T extends ArrayBufferLike>(buffer: T): T {
  owned.add(buffer);
  return buffer;
}

export function isOwned(buffer: ArrayBufferLike): boolean {
  return owned.has(buffer);
}

/**
 * Below this a buffer is cheaper to copy than to move: a transfer detaches the backing store
 * and re-wraps it on the other thread, and piscina marks each movable object, which costs more
 * than cloning a batch-1 row of a few dozen floats.
 */
export const MIN_TRANSFER_BYTES = 4096;

/** The distinct owned buffers behind these tensors worth moving; others travel by structured clone. */
export function transferList(tensors: readonly Tensor[]): ArrayBuffer[] {
  const list = new Set<ArrayBuffer>();
  const add = (buffer: ArrayBufferLike) => {
    if (buffer instanceof ArrayBuffer && buffer.byteLength >= MIN_TRANSFER_BYTES && owned.has(buffer)) list.add(buffer);
  };
  for (const t of tensors) {
    add(t.data instanceof BytesData ? t.data.raw.buffer : t.data.buffer);
  }
  return [...list];
}

/**
 * Rewraps tensors that arrived from another thread, in place. Structured clone keeps a BytesData's fields but
 * not its class, so it is rewrapped (no copy); numeric typed arrays survive as they are.
 */
export function receivedTensors(tensors: Tensor[]): void {
  for (const t of tensors) if (t.datatype === 'BYTES') t.data = BytesData.revive(t.data as BytesData);
}
