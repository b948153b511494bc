/**
 * The datatype cases shared by the REST datatype suite and the gRPC parity suite: four values
 * per datatype for the identity models in test/fixtures/dtypes, and an encoder for the raw
 * little-endian form written with Buffer's own writers, independent of the server's codecs.
 */
import assert from 'node:assert/strict';

/** The IEEE half-precision value nearest to `v` (round half to even, overflow to infinity). */
export function nearestHalf(v: number): number {
  if (Number.isNaN(v)) return NaN;
  if (v === 0 || !Number.isFinite(v)) return v;
  const a = Math.abs(v);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  e = Math.max(e, -14); // below 2^-14 the spacing stays that of subnormals, 2^-24
  const ulp = 2 ** (e - 10);
  const q = a / ulp; // exact: ulp is a power of two
  let n = Math.floor(q);
  const r = q - n;
  if (r > 0.5 || (r === 0.5 && n % 2 === 1)) n++;
  const h = n * ulp;
  return Math.sign(v) * (h > 65504 ? Infinity : h);
}

/** The bit pattern of a value that is exactly representable in half precision. */
export function halfBitsOf(h: number): number {
  if (Number.isNaN(h)) return 0x7e00;
  const sign = h < 0 || Object.is(h, -0) ? 0x8000 : 0;
  const a = Math.abs(h);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | (a / 2 ** -24);
  const e = Math.floor(Math.log2(a));
  const mant = (a / 2 ** e - 1) * 1024;
  assert.ok(Number.isInteger(mant), `${h} is not a half value`);
  return sign | ((e + 15) << 10) | mant;
}

/** Decodes half bits to a number. */
export function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

export type Value = number | boolean | string | bigint;

/** Little-endian raw encoding of `values` as `datatype`, written with Buffer's own writers. */
export function encode(datatype: string, values: readonly Value[]): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      values.map((v) => {
        const s = Buffer.from(String(v), 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(s.byteLength, 0);
        return Buffer.concat([len, s]);
      }),
    );
  }
  const size: Record<string, number> = {
    BOOL: 1,
    UINT8: 1,
    INT8: 1,
    UINT16: 2,
    INT16: 2,
    FP16: 2,
    UINT32: 4,
    INT32: 4,
    FP32: 4,
    UINT64: 8,
    INT64: 8,
    FP64: 8,
  };
  const n = size[datatype]!;
  const out = Buffer.alloc(values.length * n);
  values.forEach((v, i) => {
    const o = i * n;
    switch (datatype) {
      case 'BOOL':
        out.writeUInt8(v ? 1 : 0, o);
        break;
      case 'UINT8':
        out.writeUInt8(Number(v), o);
        break;
      case 'INT8':
        out.writeInt8(Number(v), o);
        break;
      case 'UINT16':
        out.writeUInt16LE(Number(v), o);
        break;
      case 'INT16':
        out.writeInt16LE(Number(v), o);
        break;
      case 'FP16':
        out.writeUInt16LE(halfBitsOf(nearestHalf(Number(v))), o);
        break;
      case 'UINT32':
        out.writeUInt32LE(Number(v), o);
        break;
      case 'INT32':
        out.writeInt32LE(Number(v), o);
        break;
      case 'FP32':
        out.writeFloatLE(Number(v), o);
        break;
      case 'UINT64':
        out.writeBigUInt64LE(BigInt(v), o);
        break;
      case 'INT64':
        out.writeBigInt64LE(BigInt(v), o);
        break;
      case 'FP64':
        out.writeDoubleLE(Number(v), o);
        break;
      default:
        throw new Error(datatype);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The cases: four values per datatype, sent as shape [2,2] (nested) or [1,4] (flat)

export interface Case {
  model: string;
  datatype: string;
  /** What is sent as JSON `data` (flat, four elements). */
  input: readonly (number | boolean | string)[];
  /** The values that must come back, in order. */
  expected: readonly Value[];
}

export const CASES: Case[] = [
  { model: 'bool', datatype: 'BOOL', input: [true, false, false, true], expected: [true, false, false, true] },
  { model: 'uint8', datatype: 'UINT8', input: [0, 1, 254, 255], expected: [0, 1, 254, 255] },
  { model: 'uint16', datatype: 'UINT16', input: [0, 1, 65534, 65535], expected: [0, 1, 65534, 65535] },
  { model: 'uint32', datatype: 'UINT32', input: [0, 1, 2147483648, 4294967295], expected: [0, 1, 2147483648, 4294967295] },
  {
    model: 'uint64',
    datatype: 'UINT64',
    input: ['0', 1, '9007199254740993', '18446744073709551615'],
    expected: [0n, 1n, 9007199254740993n, 18446744073709551615n],
  },
  { model: 'int8', datatype: 'INT8', input: [-128, -1, 0, 127], expected: [-128, -1, 0, 127] },
  { model: 'int16', datatype: 'INT16', input: [-32768, -1, 0, 32767], expected: [-32768, -1, 0, 32767] },
  {
    model: 'int32',
    datatype: 'INT32',
    input: [-2147483648, -1, 0, 2147483647],
    expected: [-2147483648, -1, 0, 2147483647],
  },
  {
    model: 'int64',
    datatype: 'INT64',
    input: ['-9223372036854775808', -1, '9007199254740993', '9223372036854775807'],
    expected: [-9223372036854775808n, -1n, 9007199254740993n, 9223372036854775807n],
  },
  {
    model: 'fp16',
    datatype: 'FP16',
    input: [0.5, -2, 65504, 0.0001],
    expected: [0.5, -2, 65504, nearestHalf(0.0001)],
  },
  {
    model: 'fp32',
    datatype: 'FP32',
    // All exactly representable in float32: 0.1 rounded to float32, the largest finite float32,
    // the smallest subnormal float32, and 2^24.
    input: [Math.fround(0.1), 3.4028234663852886e38, -1.401298464324817e-45, 16777216],
    expected: [Math.fround(0.1), 3.4028234663852886e38, -1.401298464324817e-45, 16777216],
  },
  {
    model: 'fp64',
    datatype: 'FP64',
    input: [1e300, 5e-324, -1.7976931348623157e308, 0.1],
    expected: [1e300, 5e-324, -1.7976931348623157e308, 0.1],
  },
  {
    model: 'bytes',
    datatype: 'BYTES',
    input: ['héllo wörld', '', '日本語 🎉', 'quote " back\\slash ] {}'],
    expected: ['héllo wörld', '', '日本語 🎉', 'quote " back\\slash ] {}'],
  },
];
