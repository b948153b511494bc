/**
 * Reads the one request message of a unary gRPC call from its HTTP/2 DATA chunks: a 5-byte
 * prefix (compressed flag, big-endian length) then the message. The length is checked against
 * the receive limit as soon as the prefix is read, before any of the message is kept.
 */
import { status } from '@grpc/grpc-js';
import type { ErrorStatus } from './status.js';

const PREFIX = 5;

export class UnaryMessageReader {
  /** Only for a prefix split across chunks. */
  private head: Buffer | undefined;
  private headFill = 0;
  private flag = 0;
  private length = -1;
  private parts: Buffer[] = [];
  private received = 0;
  private complete: Buffer | undefined;

  /** `maxLength` is --grpc_max_receive_message_length; -1 is no limit, as in grpc-js. */
  constructor(
    private readonly maxLength: number,
    private readonly path: string,
  ) {}

  /** The message once all of it has arrived. */
  get message(): Buffer | undefined {
    return this.complete;
  }

  /** Takes one chunk; returns the status that refuses the call, if the chunk breaks a rule. */
  push(chunk: Buffer): ErrorStatus | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.complete) {
        return { code: status.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${this.path}` };
      }
      if (this.length < 0) {
        at = this.readPrefix(chunk, at);
        if (this.length < 0) return undefined;
        const refused = this.checkPrefix();
        if (refused) return refused;
      } else {
        at = this.readMessage(chunk, at);
      }
    }
    return undefined;
  }

  private readPrefix(chunk: Buffer, at: number): number {
    if (this.headFill === 0 && chunk.length - at >= PREFIX) {
      this.flag = chunk[at]!;
      this.length = chunk.readUInt32BE(at + 1);
      return at + PREFIX;
    }
    const head = (this.head ??= Buffer.alloc(PREFIX));
    const n = Math.min(PREFIX - this.headFill, chunk.length - at);
    chunk.copy(head, this.headFill, at, at + n);
    this.headFill += n;
    if (this.headFill === PREFIX) {
      this.flag = head[0]!;
      this.length = head.readUInt32BE(1);
    }
    return at + n;
  }

  private checkPrefix(): ErrorStatus | undefined {
    // Only calls without grpc-encoding (or with identity) come here: a compressed message has no codec.
    if (this.flag !== 0) {
      return { code: status.INTERNAL, details: 'Received a compressed message but the call has no grpc-encoding' };
    }
    if (this.maxLength !== -1 && this.length > this.maxLength) {
      return { code: status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${this.length} vs ${this.maxLength})` };
    }
    if (this.length === 0) this.complete = Buffer.alloc(0);
    return undefined;
  }

  private readMessage(chunk: Buffer, at: number): number {
    const n = Math.min(this.length - this.received, chunk.length - at);
    this.parts.push(chunk.subarray(at, at + n));
    this.received += n;
    if (this.received === this.length) this.complete = this.join();
    return at + n;
  }

  /**
   * One chunk is used as it is (a view of node:http2's read buffer, never adopted: the
   * DATA frame's header shares it). Several are joined into a buffer of the message's own,
   * which infer messages may adopt and move to a worker (owned-messages.ts).
   */
  private join(): Buffer {
    const parts = this.parts;
    this.parts = [];
    if (parts.length === 1) return parts[0]!;
    const message = Buffer.allocUnsafeSlow(this.length);
    let offset = 0;
    for (const part of parts) offset += part.copy(message, offset);
    return message;
  }
}
