/**
 * TCP_NODELAY on the gRPC server's connections. grpc-js creates its node:http2 server without
 * `noDelay`, so Nagle's algorithm holds a unary answer's trailers (written after its HEADERS
 * and DATA) until the client ACKs, and the client's delayed ACK puts milliseconds on every
 * call (bench/README: ~8 ms p50 at one connection against 0.2 ms over REST). gRPC's C core
 * sets TCP_NODELAY on every socket; grpc-js offers no option for it, so the option is added to
 * the server options grpc-js hands to `http2.createServer` for each port it binds.
 */
import type * as grpc from '@grpc/grpc-js';

interface WithServerOptions {
  commonServerOptions?: { noDelay?: boolean };
}

/** Must run before `bindAsync`. Returns false when this grpc-js no longer has the field. */
export function disableNagle(server: grpc.Server): boolean {
  const options = (server as unknown as WithServerOptions).commonServerOptions;
  if (!options || typeof options !== 'object') return false;
  options.noDelay = true;
  return true;
}
