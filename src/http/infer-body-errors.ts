/**
 * Reads the JSON header of a v2 infer body, and when it does not parse, says what the client
 * most likely got wrong instead of "not valid JSON": binary tensor data sent without an
 * Inference-Header-Content-Length header, or a header length that is not where the JSON ends.
 */
import { InvalidInputError } from '../core/errors.js';
import { parseJsonText } from './json-numbers.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** Where the JSON object at the start of `body` ends (the byte after its '}'), if it does. */
export function jsonObjectEnd(body: Uint8Array): number | undefined {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] !== OPEN) return undefined;
  let depth = 0;
  let inString = false;
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN || c === 0x5b) depth++;
    else if (c === CLOSE || c === 0x5d) {
      if (--depth === 0) return i + 1;
    }
  }
  return undefined;
}

function diagnose(body: Uint8Array, headerLength: number, headerGiven: boolean): InvalidInputError | undefined {
  const end = jsonObjectEnd(body);
  if (end === undefined) return undefined;
  if (!headerGiven && end < body.byteLength) {
    return new InvalidInputError(
      `the body holds a ${end}-byte JSON header followed by ${body.byteLength - end} bytes of binary data, but the ` +
        `Inference-Header-Content-Length header is missing: must specify valid 'Inference-Header-Content-Length' in request ` +
        `header and 'binary_data_size' when passing inputs in binary data format`,
    );
  }
  if (headerGiven && end !== headerLength) {
    return new InvalidInputError(
      `Inference-Header-Content-Length is ${headerLength} but the JSON header of this body is ${end} bytes long; ` +
        `set it to the byte length of the JSON alone`,
    );
  }
  return undefined;
}

/**
 * The text and value of the JSON header: the first `headerLength` bytes of `body`.
 * `headerGiven` says whether the client sent Inference-Header-Content-Length.
 */
export function readJsonHeader(body: Uint8Array, headerLength: number, headerGiven: boolean): { text: string; json: unknown } {
  let text: string;
  try {
    text = utf8.decode(body.subarray(0, headerLength));
  } catch {
    throw diagnose(body, headerLength, headerGiven) ?? new InvalidInputError('request body is not valid JSON: it is not UTF-8 text');
  }
  try {
    return { text, json: parseJsonText(text) };
  } catch (error) {
    throw diagnose(body, headerLength, headerGiven) ?? error;
  }
}

/** The message for an input that names binary data when the body has no binary section. */
export function missingHeaderLength(what: string): InvalidInputError {
  return new InvalidInputError(
    `${what} gives 'binary_data_size' but the request has no Inference-Header-Content-Length header: must specify valid ` +
      `'Inference-Header-Content-Length' in request header and 'binary_data_size' when passing inputs in binary data format`,
  );
}
