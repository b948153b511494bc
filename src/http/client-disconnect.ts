/**
 * An AbortSignal that fires when the client goes away before its response is complete, so the
 * data plane drops the request (from its queue, or its result once it runs) and a generation
 * stops instead of running on for nobody.
 */
import type { ServerResponse } from 'node:http';

export function disconnectSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
