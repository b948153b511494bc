/** Reading the predictive fixtures' reference outputs and comparing served numbers with them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoPath } from './server.js';

export const PREDICTIVE = 'test/fixtures/predictive';

export type Row = (number | null)[];

export interface Cases {
  inputs: Row[];
  [key: string]: unknown;
}

export function readCases(folder: string): Cases {
  return JSON.parse(readFileSync(repoPath(PREDICTIVE, folder, 'cases.json'), 'utf8')) as Cases;
}

export function flat(values: unknown): number[] {
  return (Array.isArray(values) ? values.flat(Infinity) : [values]) as number[];
}

/**
 * Probabilities within `tol` absolute, larger values within `tol` relative: float32
 * arithmetic cannot do better on a regression value of 200.
 */
export function assertClose(got: unknown, expected: unknown, what: string, tol = 1e-5): void {
  const g = flat(got);
  const e = flat(expected);
  assert.equal(g.length, e.length, `${what}: ${g.length} values, expected ${e.length}`);
  e.forEach((v, i) => {
    const err = Math.abs(g[i]! - v) / Math.max(1, Math.abs(v));
    assert.ok(err <= tol, `${what}: value ${i} is ${g[i]}, expected ${v} (error ${err})`);
  });
}

/** The indices of rows whose values differ by more than `tol` (relative above 1). */
export function differingRows(got: unknown[], expected: unknown[], tol = 1e-5): number[] {
  const out: number[] = [];
  expected.forEach((e, i) => {
    const a = flat(got[i]);
    const b = flat(e);
    if (a.some((v, k) => !(Math.abs(v - b[k]!) / Math.max(1, Math.abs(b[k]!)) <= tol))) out.push(i);
  });
  return out;
}

/** A v2 request for the model's single [N, F] input. */
export function v2Request(rows: Row[], extra: Record<string, unknown> = {}, datatype = 'FP32', name = 'input') {
  return { inputs: [{ name, datatype, shape: [rows.length, rows[0]!.length], data: rows }], ...extra };
}

/** The next float32 above (or below) a float32 value. */
export function nextFloat32(value: number, direction: 1 | -1): number {
  const f = new Float32Array([value]);
  const bits = new Int32Array(f.buffer);
  if (value === 0) return direction * 2 ** -149;
  bits[0]! += value > 0 === direction > 0 ? 1 : -1;
  return f[0]!;
}
