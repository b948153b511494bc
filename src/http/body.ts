/**
 * Reads request bodies as bytes for every content type (tritonclient sends none at all), into
 * one buffer allocated for the request so its tensors can later move to a worker without a
 * copy. The size limit is checked against Content-Length before anything is allocated, and
 * against the bytes actually received or inflated.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { InvalidInputError, PayloadTooLargeError, ServingError } from '../core/errors.js';
import { markOwned } from '../core/transfer.js';
import { TENSOR_ALIGNMENT } from '../core/tensor-alignment.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

/** Triton's wording, so clients and runbooks that match on it keep working. */
function tooLarge(size: number | string, limit: number, closeConnection = false, inflated = false): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Request body size${inflated ? ' once inflated' : ''} of ${size} bytes exceeds the maximum allowed value of ${limit} bytes. Use --http-max-input-size to increase the limit.`,
    closeConnection,
  );
}

/**
 * How much of an oversized body is read and dropped before the 413 goes out. Clients such as
 * tritonclient write the whole body before reading: answering mid-upload and closing makes them
 * see a broken pipe instead of the message. Past these bounds the connection is closed.
 */
const DISCARD_MS = 30_000;
function discardLimit(limit: number): number {
  return Math.max(4 * limit, 256 * 1024 * 1024);
}

/**
 * Reads and drops the rest of `stream`, then rejects with the 413: at once if the body
 * would pass the discard bounds, asking for the connection to be closed.
 */
function discardThenReject(stream: Readable, size: number | string, limit: number, received: number, reject: (e: Error) => void): void {
  const cap = discardLimit(limit);
  let dropped = received;
  let settled = false;
  const settle = (complete: boolean) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    stream.removeListener('data', drop);
    stream.removeListener('end', onEnd);
    reject(tooLarge(size, limit, !complete));
  };
  const drop = (chunk: Buffer) => {
    dropped += chunk.byteLength;
    if (dropped > cap) settle(false);
  };
  const onEnd = () => settle(true);
  const timer = setTimeout(() => settle(false), DISCARD_MS);
  stream.removeAllListeners('data');
  stream.on('data', drop);
  stream.once('end', onEnd);
  stream.once('error', () => settle(false));
  stream.resume();
}

/**
 * Bytes joined per turn of the event loop: a 16 MiB body is not one 16 MiB copy that every
 * other request, health checks included, waits behind (on a loaded machine 100-200 ms).
 */
const JOIN_SLICE = 1024 * 1024;

/** The chunks copied into one owned buffer, `pad` bytes into it, yielding between slices. */
async function join(chunks: readonly Buffer[], received: number, pad: number): Promise<Uint8Array> {
  const body = new Uint8Array(markOwned(new ArrayBuffer(received + pad)), pad, received);
  let offset = 0;
  let sinceYield = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
    sinceYield += chunk.byteLength;
    if (sinceYield >= JOIN_SLICE && offset < received) {
      sinceYield = 0;
      await new Promise(setImmediate);
    }
  }
  return body;
}

/**
 * Gathers the chunks as they arrive and copies them once into a buffer of the exact size, so
 * memory follows the bytes received, never a Content-Length a client merely declared.
 * `onUndeclared` counts bytes of a body without Content-Length (admission); it may throw.
 */
function collect(
  stream: Readable,
  declared: number | undefined,
  limit: number,
  alignAt: number,
  onUndeclared?: (bytes: number) => void,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let discarding = false;
    const fail = (error: Error) => {
      stream.removeAllListeners('data');
      stream.resume(); // drain, so the reply can still be written
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limit) {
        chunks.length = 0;
        discarding = true;
        return discardThenReject(stream, declared ?? `more than ${limit}`, limit, received, reject);
      }
      if (declared !== undefined && received > declared)
        return fail(new InvalidInputError('request body is longer than its Content-Length'));
      if (declared === undefined && onUndeclared) {
        try {
          onUndeclared(chunk.byteLength);
        } catch (error) {
          return fail(error as Error);
        }
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (discarding) return;
      if (declared !== undefined && received !== declared) {
        return reject(new InvalidInputError(`request body ended after ${received} of its ${declared} bytes`));
      }
      // Pad the front so byte `alignAt` (where binary tensors start) lands on a 64-byte boundary
      // of the buffer, where onnxruntime's kernels expect tensor data (see tensor-alignment.ts).
      const pad = (TENSOR_ALIGNMENT - (alignAt % TENSOR_ALIGNMENT)) % TENSOR_ALIGNMENT;
      join(chunks, received, pad).then(resolve, reject);
    });
    stream.on('error', reject);
  });
}

/** Inflates a compressed body within the limit; returns owned bytes. */
async function decompress(body: Uint8Array, encoding: string, limit: number): Promise<Uint8Array> {
  const options = { maxOutputLength: limit };
  let out: Buffer;
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') out = await gunzip(body, options);
    // "deflate" means a zlib stream, but some clients send raw deflate: retry only on a bad header.
    else
      out = await inflate(body, options).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'Z_DATA_ERROR') throw error;
        return inflateRaw(body, options);
      });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`more than ${limit}`, limit, false, true);
    throw new InvalidInputError(`request body is not valid ${encoding} data: ${(error as Error).message}`);
  }
  // A buffer that fills its whole ArrayBuffer did not come from Node's shared pool.
  if (out.byteOffset === 0 && out.byteLength === out.buffer.byteLength) {
    markOwned(out.buffer);
    return out;
  }
  const copy = new Uint8Array(markOwned(new ArrayBuffer(out.byteLength)));
  copy.set(out);
  return copy;
}

/**
 * `alignAt` is the body offset that should sit on a 64-byte boundary (the binary section).
 * `onUndeclared` is told the size of each chunk of a body sent without Content-Length.
 */
export async function readBody(
  stream: Readable,
  headers: IncomingHttpHeaders,
  limit: number,
  alignAt = 0,
  onUndeclared?: (bytes: number) => void,
): Promise<Uint8Array> {
  const lengthHeader = headers['content-length'];
  const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) {
    throw new InvalidInputError(`Content-Length must be a non-negative integer, got '${lengthHeader}'`);
  }
  if (declared !== undefined && declared > limit) {
    if (declared > discardLimit(limit)) throw tooLarge(declared, limit, true);
    return new Promise((_resolve, reject) => discardThenReject(stream, declared, limit, 0, reject));
  }
  const body = await collect(stream, declared, limit, alignAt, onUndeclared);
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (!['gzip', 'x-gzip', 'deflate'].includes(encoding)) {
    throw new ServingError('UNIMPLEMENTED', `Content-Encoding '${encoding}' is not supported; use gzip, deflate or none`);
  }
  return decompress(body, encoding, limit);
}
