/**
 * BYTES output data as a JSON array of strings, written from the raw bytes: the text
 * JSON.stringify writes for each element decoded as UTF-8, but without making a string per
 * element. 4 M elements cost one pass to check and measure them, then 256 KiB chunks written as
 * the socket takes them, instead of seconds of allocation in one turn of the event loop. Valid UTF-8 goes through as is (JSON.stringify does not escape
 * non-ASCII text, and valid UTF-8 holds no lone surrogates); only quote, backslash and control
 * characters are escaped, as JSON.stringify escapes them.
 */
import { isUtf8 } from 'node:buffer';
import { lengthAt } from '../core/bytes-data.js';
import { InvalidInputError } from '../core/errors.js';
import type { BytesData } from '../core/tensor.js';

const SHORT: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** The escape of each ASCII byte that needs one; undefined where the byte goes through. */
const ESCAPE: (Uint8Array | undefined)[] = Array.from({ length: 0x80 }, (_, b) => {
  const text = SHORT[b] ?? (b < 0x20 ? `\\u${b.toString(16).padStart(4, '0')}` : undefined);
  return text === undefined ? undefined : Buffer.from(text, 'latin1');
});

/** Bytes each byte takes in the output: 1, or its escape's length. */
const WIDTH = Uint8Array.from({ length: 0x100 }, (_, b) => ESCAPE[b]?.byteLength ?? 1);

/** Output bytes per chunk: a few milliseconds of encoding between two turns of the event loop. */
const CHUNK = 256 * 1024;

export function notJsonText(output: string): (i: number) => Error {
  return (i) =>
    new InvalidInputError(`output '${output}' element ${i} is not valid UTF-8 and cannot be sent as JSON; request it with binary_data`);
}

/** Output size; throws `notUtf8(i)` for the first element that is not valid UTF-8. */
function measure(data: BytesData, notUtf8: (i: number) => Error): number {
  const { raw, length } = data;
  let size = 2 + Math.max(0, length - 1) + 2 * length; // brackets, commas, quotes
  for (let i = 0, offset = 0; i < length; i++) {
    const start = offset + 4;
    offset = start + lengthAt(raw, offset);
    let ascii = true;
    for (let p = start; p < offset; p++) {
      const b = raw[p]!;
      size += WIDTH[b]!;
      if (b >= 0x80) ascii = false;
    }
    if (!ascii && !isUtf8(raw.subarray(start, offset))) throw notUtf8(i);
  }
  return size;
}

/** The JSON text of BYTES output data: measured and checked at once, written as `chunks` are read. */
export interface BytesJson {
  byteLength: number;
  chunks(): Generator<Uint8Array>;
}

/** Throws InvalidInputError naming `output` when an element is not UTF-8, which JSON cannot carry. */
export function bytesJson(data: BytesData, output: string): BytesJson {
  const byteLength = measure(data, notJsonText(output));
  return { byteLength, chunks: () => writeChunks(data, byteLength) };
}

/** `[` each element as a JSON string `]`, in chunks of at most CHUNK bytes. */
function* writeChunks(data: BytesData, total: number): Generator<Uint8Array> {
  const { raw, length } = data;
  let left = total;
  let out = Buffer.allocUnsafe(Math.min(CHUNK, left));
  let w = 0;
  function* flush() {
    yield out.subarray(0, w);
    left -= w;
    out = Buffer.allocUnsafe(Math.min(CHUNK, left));
    w = 0;
  }
  out[w++] = 0x5b; // [
  for (let i = 0, offset = 0; i < length; i++) {
    const start = offset + 4;
    offset = start + lengthAt(raw, offset);
    if (w + 2 > out.length) yield* flush();
    if (i) out[w++] = 0x2c; // ,
    out[w++] = 0x22; // "
    for (let p = start; p < offset; p++) {
      const b = raw[p]!;
      const escape = b < 0x80 ? ESCAPE[b] : undefined;
      if (w + (escape ? escape.byteLength : 1) > out.length) yield* flush();
      if (escape) {
        out.set(escape, w);
        w += escape.byteLength;
      } else out[w++] = b;
    }
    if (w + 1 > out.length) yield* flush();
    out[w++] = 0x22;
  }
  if (w + 1 > out.length) yield* flush();
  out[w++] = 0x5d; // ]
  yield out.subarray(0, w);
}

/** The same text as one string, for outputs small enough to write at once. */
export function bytesJsonArray(data: BytesData, output: string): string {
  const json = bytesJson(data, output);
  return Buffer.concat([...json.chunks()], json.byteLength).toString('utf8');
}
