/**
 * The environment the storage code reads. It is passed around rather than read from
 * process.env, so that STORAGE_CONFIG can be applied without mutating the process and tests can
 * run downloads with different settings side by side.
 */
import { StorageConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The first of `names` that is set and not empty. */
export function envValue(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

const FALSE = ['0', 'false', 'no', 'off', 'n', 'f'];
const TRUE = ['1', 'true', 'yes', 'on', 'y', 't'];

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const v = envValue(env, name)?.trim().toLowerCase();
  if (v === undefined) return fallback;
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new StorageConfigError(`${name} expects true or false (or 1/0), got '${env[name]}'`);
}

/** A positive number (seconds, counts); `names` are aliases, the first set wins. */
export function envNumber(env: Env, names: string[], fallback: number, { min = 1 } = {}): number {
  const name = names.find((n) => envValue(env, n) !== undefined);
  if (name === undefined) return fallback;
  const v = Number(env[name]);
  if (!Number.isFinite(v) || v < min) throw new StorageConfigError(`${name} expects a number >= ${min}, got '${env[name]}'`);
  return v;
}
