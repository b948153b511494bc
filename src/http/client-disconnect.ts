/**
 * A cancellation that fires when the client goes away before its response is complete, so the
 * data plane drops the request (from its queue, or its result once it runs) and a generation
 * stops instead of running on for nobody.
 */
import type { ServerResponse } from 'node:http';
import { type CancelSignal, CancelSource } from '../core/cancel.js';

/** `onDisconnect`, if given, runs once when the client leaves early (to count it). */
export function disconnectSignal(res: ServerResponse, onDisconnect?: () => void): CancelSignal {
  const source = new CancelSource();
  res.once('close', () => {
    if (res.writableFinished) return;
    source.abort();
    onDisconnect?.();
  });
  return source;
}
