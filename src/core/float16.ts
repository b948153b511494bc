/** IEEE 754 half precision, which JavaScript has no type for (Float16Array arrives after Node 20). */

/** Rounds a non-negative number to the nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const rest = v - floor;
  if (rest !== 0.5) return rest < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The half-precision bits nearest to `value`, rounded once from the double (round half to
 * even); beyond the largest half, infinity.
 */
export function toHalfBits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (Number.isNaN(abs)) return 0x7e00;
  if (abs >= 65520) return sign | 0x7c00; // 65520 is halfway to the next (infinite) step
  if (abs < 2 ** -14) return sign | roundHalfEven(abs * 2 ** 24); // subnormal; may round up to the smallest normal
  let exp = Math.floor(Math.log2(abs));
  if (2 ** exp > abs) exp--;
  else if (2 ** (exp + 1) <= abs) exp++;
  const mant = roundHalfEven((abs / 2 ** exp - 1) * 1024); // scaling by powers of two is exact
  return sign | (((exp + 15) << 10) + mant); // a mantissa of 1024 carries into the exponent
}

export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
