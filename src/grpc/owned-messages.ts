/**
 * Lets raw input contents move to the worker thread by transfer rather than by copy. A
 * tensor that is a view over the received message travels with its whole ArrayBuffer, so it
 * may be transferred only if that buffer holds nothing but this one message. grpc-js gives a
 * message that outgrew Node's shared 8 KiB pool a buffer of its own: the 5-byte gRPC frame
 * header then the message (or, decompressed, the message alone). Smaller messages sit in the
 * shared pool and are left to be copied.
 */
import { markOwned } from '../core/transfer.js';

const FRAME_HEADER = 5;

export function adoptMessageBuffer(message: Buffer): void {
  const spare = message.buffer.byteLength - message.byteLength;
  if ((spare === 0 && message.byteOffset === 0) || (spare === FRAME_HEADER && message.byteOffset === FRAME_HEADER)) {
    markOwned(message.buffer);
  }
}
