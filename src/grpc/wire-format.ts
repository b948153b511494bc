/**
 * Pieces of gRPC's HTTP/2 wire format (gRPC's PROTOCOL-HTTP2.md) that the lean ModelInfer
 * path (lean-infer.ts) writes and reads itself: the call timeout header and the encoding of
 * a status message in trailers.
 */

const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
// setTimeout's limit; a longer timeout is as good as none.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The milliseconds of a `grpc-timeout` header ("100m", "5S"), or undefined when it is not
 * one; read as grpc-js reads it, so that both paths agree on what a client's deadline means.
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = TIMEOUT.exec(value);
  if (!match) return undefined;
  return Math.min(Math.floor(Number(match[1]) * UNIT_MS[match[2]!]!), MAX_TIMER_MS);
}

// Printable ASCII but '%' passes as it is, as the spec asks of a grpc-message.
const PLAIN = /^[\x20-\x24\x26-\x7e]*$/;

/** A status message as the `grpc-message` trailer carries it: UTF-8, with bytes outside printable ASCII and '%' percent-encoded. */
export function encodeGrpcMessage(message: string): string {
  if (PLAIN.test(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
