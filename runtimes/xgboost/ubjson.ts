/**
 * A Universal Binary JSON (UBJSON, draft 12) decoder, for XGBoost's `.ubj` models. Numbers are
 * big-endian. Strongly typed numeric arrays (`[$d#L...`, how XGBoost writes its node arrays)
 * decode to typed arrays in one pass; everything else to plain JavaScript values.
 */

export class UbjsonError extends Error {
  override name = 'UbjsonError';
}

export type UbjValue = null | boolean | number | string | UbjValue[] | ArrayLike<number> | { [key: string]: UbjValue };

const MAX_DEPTH = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type TypedCtor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

const NUMERIC: Record<string, { size: number; array?: TypedCtor; read: (v: DataView, at: number) => number }> = {
  i: { size: 1, array: Int8Array, read: (v, at) => v.getInt8(at) },
  U: { size: 1, array: Uint8Array, read: (v, at) => v.getUint8(at) },
  I: { size: 2, array: Int16Array, read: (v, at) => v.getInt16(at, false) },
  l: { size: 4, array: Int32Array, read: (v, at) => v.getInt32(at, false) },
  L: { size: 8, read: (v, at) => Number(v.getBigInt64(at, false)) },
  d: { size: 4, array: Float32Array, read: (v, at) => v.getFloat32(at, false) },
  D: { size: 8, array: Float64Array, read: (v, at) => v.getFloat64(at, false) },
};

class Decoder {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new UbjsonError(`unexpected end of data at byte ${this.offset}`);
  }

  private marker(): string {
    this.need(1);
    return String.fromCharCode(this.bytes[this.offset++]!);
  }

  private number(type: string): number {
    const spec = NUMERIC[type];
    if (!spec) throw new UbjsonError(`expected a number marker, got '${type}' at byte ${this.offset - 1}`);
    this.need(spec.size);
    const v = spec.read(this.view, this.offset);
    this.offset += spec.size;
    return v;
  }

  private length(): number {
    const n = this.number(this.marker());
    if (!Number.isSafeInteger(n) || n < 0) throw new UbjsonError(`invalid length ${n} at byte ${this.offset}`);
    return n;
  }

  private string(): string {
    const n = this.length();
    this.need(n);
    const s = utf8.decode(this.bytes.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }

  value(depth = 0, type = this.marker()): UbjValue {
    switch (type) {
      case 'Z':
        return null;
      case 'T':
        return true;
      case 'F':
        return false;
      case 'S':
      case 'H':
        return type === 'S' ? this.string() : Number(this.string());
      case 'C':
        this.need(1);
        return String.fromCharCode(this.bytes[this.offset++]!);
      case '[':
        return this.array(depth + 1);
      case '{':
        return this.object(depth + 1);
      default:
        return this.number(type);
    }
  }

  /** The optional `$type` and `#count` that follow an opening bracket. */
  private header(): { type?: string; count?: number } {
    let type: string | undefined;
    if (this.peek() === '$') {
      this.offset++;
      type = this.marker();
      if (this.peek() !== '#') throw new UbjsonError(`a typed container needs a count, at byte ${this.offset}`);
    }
    if (this.peek() !== '#') return { type };
    this.offset++;
    return { type, count: this.length() };
  }

  private peek(): string {
    this.need(1);
    return String.fromCharCode(this.bytes[this.offset]!);
  }

  private array(depth: number): UbjValue {
    if (depth > MAX_DEPTH) throw new UbjsonError(`nested deeper than ${MAX_DEPTH} levels`);
    const { type, count } = this.header();
    if (count === undefined) {
      const out: UbjValue[] = [];
      while (this.peek() !== ']') out.push(this.value(depth));
      this.offset++;
      return out;
    }
    const typed = type === undefined ? undefined : NUMERIC[type];
    if (typed?.array) return this.typedArray(typed.array, typed.size, count, typed.read);
    const out: UbjValue[] = [];
    for (let i = 0; i < count; i++) out.push(this.value(depth, type ?? this.marker()));
    return out;
  }

  private typedArray(ctor: TypedCtor, size: number, count: number, read: (v: DataView, at: number) => number): ArrayLike<number> {
    this.need(count * size);
    const out = new ctor(count);
    for (let i = 0; i < count; i++, this.offset += size) out[i] = read(this.view, this.offset);
    return out;
  }

  private object(depth: number): UbjValue {
    if (depth > MAX_DEPTH) throw new UbjsonError(`nested deeper than ${MAX_DEPTH} levels`);
    const { type, count } = this.header();
    const out: { [key: string]: UbjValue } = {};
    for (let i = 0; count === undefined ? this.peek() !== '}' : i < count; i++) {
      const key = this.string();
      out[key] = this.value(depth, type ?? this.marker());
    }
    if (count === undefined) this.offset++;
    return out;
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new UbjsonError(`${this.bytes.length - this.offset} bytes after the end of the document`);
  }
}

export function decodeUbjson(bytes: Uint8Array): UbjValue {
  const decoder = new Decoder(bytes);
  const value = decoder.value();
  decoder.end();
  return value;
}
