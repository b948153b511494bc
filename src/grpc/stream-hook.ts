/**
 * A listener in front of grpc-js's own on the node:http2 servers it creates, so that one kind
 * of stream (unary ModelInfer, lean-infer.ts) can be served without grpc-js's call pipeline
 * while grpc-js keeps every other stream, its sessions (keepalive, connection age, idle
 * timeout, shutdown) and TLS.
 *
 * grpc-js offers no public hook for this. It relies on two grpc-js internals (1.14): the
 * Server's `createHttp2Server(credentials)`, which creates each port's http2 server and
 * registers grpc-js's 'stream' listener on it, and `onStreamOpened(stream)`, its per-session
 * idle-timeout bookkeeping, which a taken stream must also pass through.
 * test/unit/stream-hook.test.ts fails if an upgrade moves either.
 */
import type * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/** Takes the stream (and answers it) or returns false to leave it to grpc-js. */
export type StreamTaker = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

interface ServerInternals {
  createHttp2Server?: (this: unknown, credentials: unknown) => http2.Http2Server;
  onStreamOpened?: (this: unknown, stream: http2.ServerHttp2Stream) => void;
}

/**
 * Calls `each` on every node:http2 server grpc-js creates for a port bound later, before the
 * port listens (grpc-js's `createHttp2Server`). False, changing nothing, when this grpc-js
 * lacks that internal. flow-control.ts uses it too.
 */
export function onHttp2Server(server: grpc.Server, each: (http2Server: http2.Http2Server) => void): boolean {
  const internals = server as unknown as ServerInternals;
  const create = internals.createHttp2Server;
  if (typeof create !== 'function') return false;
  internals.createHttp2Server = function (credentials) {
    const http2Server = create.call(this, credentials);
    each(http2Server);
    return http2Server;
  };
  return true;
}

/**
 * Puts `take` in front of grpc-js's stream handling on every port bound later. False when this
 * grpc-js lacks the internals; `unhooked` is called if a port's server turns out to have no
 * grpc-js listener to stand in front of (that port is then left to grpc-js alone).
 */
export function takeStreams(server: grpc.Server, take: StreamTaker, unhooked: () => void = () => {}): boolean {
  const opened = (server as unknown as ServerInternals).onStreamOpened;
  if (typeof opened !== 'function') return false;
  return onHttp2Server(server, (http2Server) => {
    const theirs = http2Server.listeners('stream') as StreamListener[];
    // grpc-js registered no listener here: leave its server as it is rather than answer nothing.
    if (theirs.length === 0) {
      unhooked();
      return;
    }
    http2Server.removeAllListeners('stream');
    http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
      if (take(stream, headers)) {
        opened.call(server, stream);
        return;
      }
      for (const listener of theirs) listener.call(http2Server, stream, headers, flags, rawHeaders);
    });
  });
}
