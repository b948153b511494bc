/**
 * Server-sent events for streamed completions: `data: <json>` events ending in `data: [DONE]`.
 * The status line waits for the first event, so a request that fails before producing
 * anything still gets an ordinary JSON error with its status.
 */
import type { ServerResponse } from 'node:http';

export class EventStream {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  get isStarted(): boolean {
    return this.started;
  }

  send(data: unknown): void {
    this.start();
    this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    this.start();
    this.res.end('data: [DONE]\n\n');
  }

  private start(): void {
    if (this.started || this.res.destroyed) return;
    this.started = true;
    this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  }
}

/**
 * An AbortSignal that fires when the client goes away before the response is complete, so
 * generation stops instead of running on for nobody.
 */
export function disconnectSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
