/** IEEE 754 half precision: every bit pattern survives a round trip, and rounding is to nearest even. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHalfBits, toHalfBits } from '../../src/core/float16.js';

describe('float16', () => {
  it('round-trips every non-NaN bit pattern', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromHalfBits(bits);
      if (Number.isNaN(value)) continue;
      assert.equal(toHalfBits(value), bits, `bits 0x${bits.toString(16)} -> ${value}`);
    }
  });

  it('decodes the values IEEE 754 defines', () => {
    assert.equal(fromHalfBits(0x3c00), 1);
    assert.equal(fromHalfBits(0xc000), -2);
    assert.equal(fromHalfBits(0x7bff), 65504); // largest finite
    assert.equal(fromHalfBits(0x0001), 2 ** -24); // smallest subnormal
    assert.equal(fromHalfBits(0x7c00), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(fromHalfBits(0x7e00)));
    assert.ok(Object.is(fromHalfBits(0x8000), -0));
  });

  it('rounds to the nearest half, ties to even, and overflows to infinity', () => {
    const one = 0x3c00;
    const ulp = 2 ** -10;
    assert.equal(toHalfBits(1 + ulp / 2), one, 'a tie goes to the even mantissa');
    assert.equal(toHalfBits(1 + (3 * ulp) / 2), one + 2, 'a tie goes to the even mantissa');
    assert.equal(toHalfBits(1 + ulp * 0.51), one + 1);
    assert.equal(toHalfBits(65520), 0x7c00);
    assert.equal(toHalfBits(-1e6), 0xfc00);
    assert.equal(toHalfBits(Number.NaN), 0x7e00);
  });
});
