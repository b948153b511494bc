/**
 * BYTES output data as a JSON array of strings, written from the raw bytes: the text
 * JSON.stringify writes for each element decoded as UTF-8, but without making a string per
 * element, so 4 M elements cost two linear passes over the bytes on the main thread instead
 * of seconds of allocation. Valid UTF-8 goes through as is (JSON.stringify does not escape
 * non-ASCII text, and valid UTF-8 holds no lone surrogates); only quote, backslash and control
 * characters are escaped, as JSON.stringify escapes them.
 */
import { isUtf8 } from 'node:buffer';
import type { BytesData } from '../core/tensor.js';

const SHORT: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** The escape of each ASCII byte that needs one; undefined where the byte goes through. */
const ESCAPE: (Uint8Array | undefined)[] = Array.from({ length: 0x80 }, (_, b) => {
  const text = SHORT[b] ?? (b < 0x20 ? `\\u${b.toString(16).padStart(4, '0')}` : undefined);
  return text === undefined ? undefined : Buffer.from(text, 'latin1');
});

/** Bytes each byte takes in the output: 1, or its escape's length. */
const WIDTH = Uint8Array.from({ length: 0x100 }, (_, b) => ESCAPE[b]?.byteLength ?? 1);

/** Output size; throws `notUtf8(i)` for the first element that is not valid UTF-8. */
function measure(data: BytesData, notUtf8: (i: number) => Error): number {
  const { raw } = data;
  let size = 2 + Math.max(0, data.length - 1) + 2 * data.length; // brackets, commas, quotes
  data.forEachRange((start, end, i) => {
    let ascii = true;
    for (let p = start; p < end; p++) {
      const b = raw[p]!;
      size += WIDTH[b]!;
      if (b >= 0x80) ascii = false;
    }
    if (!ascii && !isUtf8(raw.subarray(start, end))) throw notUtf8(i);
  });
  return size;
}

/**
 * `[` elements as JSON strings `]`. `notUtf8(i)` is the error for element i when it is not
 * valid UTF-8, which JSON cannot carry.
 */
export function bytesJsonArray(data: BytesData, notUtf8: (i: number) => Error): string {
  const out = Buffer.allocUnsafe(measure(data, notUtf8));
  const { raw } = data;
  let w = 0;
  out[w++] = 0x5b; // [
  data.forEachRange((start, end, i) => {
    if (i) out[w++] = 0x2c; // ,
    out[w++] = 0x22; // "
    for (let p = start; p < end; p++) {
      const b = raw[p]!;
      const escape = b < 0x80 ? ESCAPE[b] : undefined;
      if (escape) {
        out.set(escape, w);
        w += escape.byteLength;
      } else out[w++] = b;
    }
    out[w++] = 0x22;
  });
  out[w++] = 0x5d; // ]
  return out.toString('utf8');
}
