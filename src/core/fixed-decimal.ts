/**
 * Numbers as C's printf("%.<digits>f") and Python's format(x, ".<digits>f") print them: the
 * exact binary value rounded half to even. Number.prototype.toFixed rounds exact ties up
 * (0.0078125 -> "0.007813" where printf gives "0.007812"), and switches to exponent notation
 * from 1e21.
 */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  // toFixed(100) is exact for every double that can tie at digits + 1 (a tie's binary
  // expansion ends there); larger values have no fraction to tie with.
  if (a < 1e15) {
    const exact = a.toFixed(100);
    const dot = exact.indexOf('.');
    if (/^50*$/.test(exact.slice(dot + 1 + digits))) {
      const units = BigInt(exact.slice(0, dot) + exact.slice(dot + 1, dot + 1 + digits));
      const even = (units % 2n === 0n ? units : units + 1n).toString().padStart(digits + 1, '0');
      return digits ? `${sign}${even.slice(0, -digits)}.${even.slice(-digits)}` : `${sign}${even}`;
    }
  }
  if (a < 1e21) return sign + a.toFixed(digits);
  return `${sign}${BigInt(a)}${digits ? `.${'0'.repeat(digits)}` : ''}`;
}
