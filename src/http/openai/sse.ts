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

  /**
   * Nothing once the response has ended or its client is gone: the other prompts of a list may
   * still deliver a token after one prompt's error ended the response.
   */
  send(data: unknown): void {
    if (this.closed) return;
    this.start();
    this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    if (this.closed) return;
    this.start();
    this.res.end('data: [DONE]\n\n');
  }

  private get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  private start(): void {
    if (this.started || this.res.destroyed) return;
    this.started = true;
    this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  }
}

export { disconnectSignal } from '../client-disconnect.js';
