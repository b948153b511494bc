/**
 * Typed access to an untrusted JSON (or UBJSON) document: every read checks the type and
 * names the path in its error, so a malformed model file says where it is malformed.
 */
import { ModelLoadError } from '../../src/core/runtime.js';

export class JsonPath {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  private fail(expected: string): never {
    const got = Array.isArray(this.value) ? 'an array' : this.value === null ? 'null' : typeof this.value;
    throw new ModelLoadError(`${this.path}: expected ${expected}, got ${got}`);
  }

  has(key: string): boolean {
    return typeof this.value === 'object' && this.value !== null && key in this.value;
  }

  get(key: string): JsonPath {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail('an object');
    if (!(key in this.value)) throw new ModelLoadError(`${this.path}: missing '${key}'`);
    return new JsonPath((this.value as Record<string, unknown>)[key], `${this.path}.${key}`);
  }

  string(): string {
    if (typeof this.value !== 'string') this.fail('a string');
    return this.value;
  }

  /** A number, or a string holding one (XGBoost writes most parameters as strings). */
  number(): number {
    const n = typeof this.value === 'string' && this.value.trim() !== '' ? Number(this.value) : this.value;
    if (typeof n !== 'number' || Number.isNaN(n)) this.fail('a number');
    return n;
  }

  integer(min = 0): number {
    const n = this.number();
    if (!Number.isInteger(n) || n < min) throw new ModelLoadError(`${this.path}: expected an integer >= ${min}, got ${n}`);
    return n;
  }

  /** A list of numbers: a JSON array (booleans count as 0/1, null as NaN) or a UBJSON typed array. */
  numbers(length?: number): ArrayLike<number> {
    const v = this.value;
    let out: ArrayLike<number>;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out = v as unknown as ArrayLike<number>;
    else if (Array.isArray(v) && v.every((e) => e === null || typeof e === 'number' || typeof e === 'boolean')) {
      out = v.map((e) => (e === null ? NaN : Number(e)));
    } else this.fail('an array of numbers');
    if (length !== undefined && out.length !== length) {
      throw new ModelLoadError(`${this.path}: expected ${length} entries, got ${out.length}`);
    }
    return out;
  }

  items(): JsonPath[] {
    if (!Array.isArray(this.value)) this.fail('an array');
    return this.value.map((v, i) => new JsonPath(v, `${this.path}[${i}]`));
  }
}
