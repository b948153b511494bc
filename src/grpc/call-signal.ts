/**
 * An AbortSignal that fires when a gRPC call is cancelled (the client cancelled it, its
 * deadline passed or its connection dropped), so the data plane drops the work it carries.
 */
import type { EventEmitter } from 'node:events';

export function cancelSignal(call: EventEmitter & { cancelled: boolean }): AbortSignal {
  const controller = new AbortController();
  if (call.cancelled) controller.abort();
  else call.once('cancelled', () => controller.abort());
  return controller.signal;
}
