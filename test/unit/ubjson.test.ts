/** UBJSON (XGBoost's .ubj), decoded from documents written byte by byte after the UBJSON spec. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UbjsonError, decodeUbjson } from '../../runtimes/xgboost/ubjson.js';

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const doc = (...parts: (number | string)[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? ascii(p) : [p])));
/** A UBJSON string: 'S', its length as an int8, then its bytes. */
const str = (s: string) => ['S', 'i', s.length, s] as const;
const key = (s: string) => ['i', s.length, s] as const;

describe('UBJSON decoder', () => {
  it('decodes scalars of every numeric marker (big-endian)', () => {
    assert.equal(decodeUbjson(doc('i', 0xff)), -1);
    assert.equal(decodeUbjson(doc('U', 0xff)), 255);
    assert.equal(decodeUbjson(doc('I', 0x01, 0x00)), 256);
    assert.equal(decodeUbjson(doc('l', 0xff, 0xff, 0xff, 0xfe)), -2);
    assert.equal(decodeUbjson(doc('d', 0x3f, 0xc0, 0x00, 0x00)), 1.5);
    assert.equal(decodeUbjson(doc('D', 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18)), 3.141592653589793);
    assert.equal(decodeUbjson(doc('T')), true);
    assert.equal(decodeUbjson(doc('Z')), null);
    assert.equal(decodeUbjson(doc(...str('abc'))), 'abc');
  });

  it('decodes objects and arrays, plain and typed with a count', () => {
    const value = decodeUbjson(doc('{', ...key('a'), 'i', 1, ...key('b'), '[', 'i', 2, 'U', 3, ']', '}')) as Record<string, unknown>;
    assert.deepEqual({ a: value['a'], b: Array.from(value['b'] as ArrayLike<number>) }, { a: 1, b: [2, 3] });
    const typed = decodeUbjson(doc('[', '$', 'd', '#', 'i', 2, 0x3f, 0x80, 0, 0, 0x40, 0, 0, 0)) as ArrayLike<number>;
    assert.deepEqual(Array.from(typed), [1, 2]);
  });

  it('refuses trailing bytes and truncated documents', () => {
    assert.throws(() => decodeUbjson(doc('i', 1, 'i')), UbjsonError);
    assert.throws(() => decodeUbjson(doc('I', 1)), UbjsonError);
  });
});
