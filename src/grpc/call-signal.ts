/**
 * A cancellation that fires when a gRPC call is cancelled (the client cancelled it, its
 * deadline passed or its connection dropped), so the data plane drops the work it carries.
 */
import type { EventEmitter } from 'node:events';
import { type CancelSignal, CancelSource } from '../core/cancel.js';

export function cancelSignal(call: EventEmitter & { cancelled: boolean }): CancelSignal {
  const source = new CancelSource();
  if (call.cancelled) source.abort();
  else call.once('cancelled', () => source.abort());
  return source;
}
