/**
 * JSON with the numbers Triton's and KServe's servers take: integers of any 64-bit value
 * exact (rapidjson and orjson read them as int64/uint64), and the NaN, Infinity and -Infinity
 * tokens Triton writes. JSON.parse stays the fast path: the exact parser below runs only for a
 * body JSON.parse refuses because of a non-finite token, or when a 64-bit integer tensor holds
 * a value JSON.parse could not keep (|n| >= 2^53). Every other request costs what it did.
 */
import { InvalidInputError } from '../core/errors.js';

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const NON_FINITE = /NaN|Infinity/;

class JsonSyntaxError extends Error {}

/**
 * A small recursive-descent JSON parser. Integers beyond 2^53 become bigint; NaN, Infinity
 * and -Infinity become their numbers. Strings and structure follow JSON.parse exactly.
 */
class ExactParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): unknown {
    const value = this.value(0);
    this.space();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(`${what} at position ${this.pos}`);
  }

  private space(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = t.charCodeAt(++this.pos);
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`JSON nested more than ${MAX_DEPTH} levels deep`);
    this.space();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [token, value] of LITERALS) {
      if (this.text.startsWith(token, this.pos)) {
        this.pos += token.length;
        return value;
      }
    }
    return this.number();
  }

  private object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.space();
      if (this.text[this.pos++] !== ':') this.fail("expected ':'");
      // defineProperty, as JSON.parse does: a "__proto__" key is data, not the prototype.
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.space();
      const next = this.text[this.pos++];
      if (next === '}') return out;
      if (next !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.space();
      const next = this.text[this.pos++];
      if (next === ']') return out;
      if (next !== ',') this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const start = this.pos;
    let end = start + 1;
    let escaped = false;
    for (;;) {
      end = this.text.indexOf('"', end);
      if (end < 0) this.fail('unterminated string');
      let slashes = 0;
      while (this.text.charCodeAt(end - 1 - slashes) === 92) slashes++;
      if (slashes) escaped = true;
      if (slashes % 2 === 0) break;
      end++;
    }
    this.pos = end + 1;
    const raw = this.text.slice(start, end + 1);
    // JSON forbids raw control characters in strings: such a string goes to JSON.parse to be refused.
    // eslint-disable-next-line no-control-regex
    if (!escaped && !/[\u0000-\u001f]/.test(raw)) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      this.pos = start;
      return this.fail('invalid string');
    }
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('unexpected character');
    const token = match[0];
    this.pos += token.length;
    const n = Number(token);
    if (match[1] === undefined && match[2] === undefined && !Number.isSafeInteger(n)) return BigInt(token);
    return n;
  }
}

const LITERALS: [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
];

/** Parses with big integers as bigint and non-finite tokens accepted. */
export function parseJsonExact(text: string): unknown {
  try {
    return new ExactParser(text).parse();
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new InvalidInputError(`request body is not valid JSON: ${error.message}`);
    throw error;
  }
}

/** JSON.parse, falling back to the exact parser for a body with NaN or Infinity tokens. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (NON_FINITE.test(text)) return parseJsonExact(text);
    throw new InvalidInputError(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Whether JSON.parse may have rounded an integer in `value` (any depth): |n| >= 2^53. */
export function hasRoundedInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (Array.isArray(value)) {
    for (const v of value) if (hasRoundedInteger(v)) return true;
    return false;
  }
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) if (hasRoundedInteger(v)) return true;
  }
  return false;
}

/**
 * JSON.stringify that writes bigint as exact JSON numbers (it would throw) and, like
 * JSON.stringify, non-finite numbers as null.
 */
export function stringifyJson(value: unknown): string {
  let marked = false;
  const mark = `\u0000${Math.random().toString(36).slice(2)}:`;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marked = true;
    return `${mark}${v}`;
  });
  if (!marked) return text;
  // The mark's NUL is written escaped, so only strings this function made can match.
  const escaped = JSON.stringify(mark)
    .slice(1, -1)
    .replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`"${escaped}(-?\\d+)"`, 'g'), '$1');
}
