/**
 * HTTP/2 flow-control windows of the gRPC server's connections. node:http2 advertises 64 KiB,
 * per stream and per connection, so a client that uploads large tensors on one connection (a
 * tritonclient channel with 64 ResNet-50 calls in flight) sends 64 KiB and then waits for a
 * WINDOW_UPDATE, which the serving thread writes only between its other work: at 64 calls in
 * flight that served 18 req/s against 30 with the windows below (bench/README.md). gRPC's C core
 * grows its windows to several MiB by probing the bandwidth-delay product; these are fixed.
 *
 * What a peer may send unread is bounded by the connection window, per connection; a message
 * is still refused past --grpc_max_receive_message_length before it is buffered.
 */
import type * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { onHttp2Server } from './stream-hook.js';

/** Per stream: a whole 224x224 FP32 image (588 KiB) or a batch of a few in one flight. */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
/** Per connection: all streams together. */
export const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;

interface Internals {
  commonServerOptions?: { settings?: http2.Settings };
}

/**
 * Must run before `bindAsync`. Relies on grpc-js internals (1.14), as no-delay.ts and
 * stream-hook.ts do: the options it passes to `http2.createServer`, and the servers it creates
 * (`onHttp2Server`). Returns false, changing nothing, when this grpc-js lacks either.
 */
export function widenWindows(server: grpc.Server): boolean {
  const options = (server as unknown as Internals).commonServerOptions;
  if (!options || typeof options !== 'object') return false;
  const hooked = onHttp2Server(server, (http2Server) =>
    http2Server.on('session', (session: http2.ServerHttp2Session) => {
      // The connection window is not a SETTINGS value: it grows by a WINDOW_UPDATE on stream 0.
      // A client that is already gone keeps the default: nothing here may throw.
      try {
        if (!session.destroyed) session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      } catch {
        // the session closed under us
      }
    }),
  );
  if (hooked) options.settings = { ...options.settings, initialWindowSize: STREAM_WINDOW_BYTES };
  return hooked;
}
