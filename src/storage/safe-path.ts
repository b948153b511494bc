/**
 * The one check that keeps a key, an archive entry or a link target inside the destination: no
 * absolute paths, no `..`, no empty segments. Object stores allow keys like `a/../../etc/x`,
 * so a listing is as untrusted as an archive.
 */
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { UnsafePathError } from './errors.js';

export function safeRelativePath(path: string, what: string): string {
  const p = path.replace(/\\/g, '/');
  const segments = p.split('/').filter((s) => s !== '' && s !== '.');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p) || segments.includes('..') || segments.length === 0) {
    throw new UnsafePathError(`refusing ${what} '${path}': it would land outside the destination folder`);
  }
  return segments.join('/');
}

/** True when `target`, resolved from the folder holding `linkPath` (both under `root`), stays inside root. */
export function linkStaysInside(root: string, linkPath: string, target: string): boolean {
  if (isAbsolute(target) || posix.isAbsolute(target)) return false;
  const dir = resolve(root, posix.dirname(linkPath));
  const rel = relative(root, resolve(dir, target));
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
