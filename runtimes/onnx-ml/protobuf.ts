/**
 * The Protocol Buffers wire format, as much of it as ONNX model files need: varints,
 * fixed32/fixed64, length-delimited fields, packed repeated numbers.
 *
 * Our own rather than protobufjs because (1) the ZipMap rewrite edits models we do not fully
 * describe, and must copy every field it does not touch byte for byte: a reader that keeps
 * raw field ranges does that, a schema-driven decode/encode would drop unknown fields; and
 * (2) tree ensembles write arrays of hundreds of thousands of numbers, which go straight into
 * one growing buffer here instead of one writer operation per element.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

const utf8Encoder = new TextEncoder();

export class ProtoWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialSize = 256) {
    this.buffer = new Uint8Array(initialSize);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  /** A varint of a non-negative safe integer, or of a negative one as 64-bit two's complement. */
  varint(value: number): this {
    if (!Number.isSafeInteger(value)) throw new ProtobufError(`cannot encode ${value} as a varint`);
    if (value < 0) return this.varint64(BigInt.asUintN(64, BigInt(value)));
    this.reserve(8);
    while (value > 0x7f) {
      this.buffer[this.length++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.length++] = value;
    return this;
  }

  private varint64(value: bigint): this {
    this.reserve(10);
    while (value > 0x7fn) {
      this.buffer[this.length++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buffer[this.length++] = Number(value);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, value: number): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32).reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES).varint(value.length).reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8Encoder.encode(value));
  }

  packedVarints(field: number, values: ArrayLike<number>): this {
    const inner = new ProtoWriter(values.length + 16);
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    return this.bytes(field, new Uint8Array(Float32Array.from(values).buffer));
  }

  /** Raw bytes copied as they are: a field kept from a message being rewritten. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** One field of a message as it lies in the bytes: `raw` is the whole field, tag included. */
export interface RawField {
  field: number;
  wire: number;
  raw: Uint8Array;
  /** For length-delimited fields, the payload; for varints, the value (if it fits a double). */
  payload?: Uint8Array;
  value?: number;
}

class ProtoReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.bytes.length) throw new ProtobufError('truncated varint');
      const b = this.bytes[this.offset++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  field(): RawField {
    const start = this.offset;
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${start}`);
    let payload: Uint8Array | undefined;
    let value: number | undefined;
    if (wire === WIRE_VARINT) value = this.varint();
    else if (wire === WIRE_FIXED64) this.skip(8);
    else if (wire === WIRE_FIXED32) this.skip(4);
    else if (wire === WIRE_BYTES) {
      const length = this.varint();
      payload = this.bytes.subarray(this.offset, this.offset + length);
      this.skip(length);
    } else throw new ProtobufError(`unsupported wire type ${wire} at byte ${start}`);
    return { field, wire, raw: this.bytes.subarray(start, this.offset), payload, value };
  }

  private skip(n: number): void {
    if (this.offset + n > this.bytes.length) throw new ProtobufError('field runs past the end of the message');
    this.offset += n;
  }
}

/** The top-level fields of one message, in order. */
export function readFields(bytes: Uint8Array): RawField[] {
  const reader = new ProtoReader(bytes);
  const fields: RawField[] = [];
  while (!reader.done) fields.push(reader.field());
  return fields;
}

const utf8 = new TextDecoder();

/** The string values of a (repeated) string field, e.g. a node's inputs. */
export function stringsOf(fields: readonly RawField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.payload).map((f) => utf8.decode(f.payload));
}

export function stringOf(fields: readonly RawField[], field: number): string | undefined {
  return stringsOf(fields, field).at(-1);
}
