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

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

function tooLarge(size: number | string, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `request body of ${size} bytes exceeds the limit of ${limit} bytes; raise it with --http_max_input_size`,
  );
}

/**
 * Gathers the chunks as they arrive and copies them once into a buffer of the exact size, so
 * memory follows the bytes received, never a Content-Length a client merely declared.
 */
function collect(stream: Readable, declared: number | undefined, limit: number, alignAt: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (error: Error) => {
      stream.removeAllListeners('data');
      stream.resume(); // drain, so the reply can still be written
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limit) return fail(tooLarge(`more than ${limit}`, limit));
      if (declared !== undefined && received > declared) return fail(new InvalidInputError('request body is longer than its Content-Length'));
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (declared !== undefined && received !== declared) {
        return reject(new InvalidInputError(`request body ended after ${received} of its ${declared} bytes`));
      }
      // Pad the front so byte `alignAt` (where binary tensors start) lands on an 8-byte boundary:
      // then every 8-byte-multiple tensor decodes as a view, not a copy.
      const pad = (8 - (alignAt % 8)) % 8;
      const body = new Uint8Array(markOwned(new ArrayBuffer(received + pad)), pad, received);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      resolve(body);
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
    else out = await inflate(body, options).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'Z_DATA_ERROR') throw error;
      return inflateRaw(body, options);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`more than ${limit} once inflated`, limit);
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

/** `alignAt` is the body offset that should sit on an 8-byte boundary (the binary section). */
export async function readBody(stream: Readable, headers: IncomingHttpHeaders, limit: number, alignAt = 0): Promise<Uint8Array> {
  const lengthHeader = headers['content-length'];
  const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) {
    throw new InvalidInputError(`Content-Length must be a non-negative integer, got '${lengthHeader}'`);
  }
  if (declared !== undefined && declared > limit) throw tooLarge(declared, limit);
  const body = await collect(stream, declared, limit, alignAt);
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (!['gzip', 'x-gzip', 'deflate'].includes(encoding)) {
    throw new ServingError('UNIMPLEMENTED', `Content-Encoding '${encoding}' is not supported; use gzip, deflate or none`);
  }
  return decompress(body, encoding, limit);
}
