/**
 * file:// and local paths, as KServe's initializer treats them: nothing is copied; each
 * top-level entry of the source is symlinked into the destination (with allow/ignore patterns,
 * each matching file is linked at its own sub-path instead).
 */
import { mkdir, readdir, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SourceNotFoundError } from './errors.js';
import { type PathFilter, isIncluded } from './patterns.js';

async function walk(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(root, full)));
    else out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

async function replaceWithLink(target: string, link: string): Promise<void> {
  await mkdir(dirname(link), { recursive: true });
  await rm(link, { recursive: true, force: true });
  await symlink(target, link);
}

/** Links `source` into `dest`; returns the linked paths (relative to dest). */
export async function linkLocal(source: string, dest: string, filter: PathFilter): Promise<string[]> {
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new SourceNotFoundError(`Cannot locate source uri ${source}: no such file or folder`);
  const src = resolve(source);
  if (resolve(dest) === src) return [];
  await mkdir(dest, { recursive: true });
  const filtered = filter.allow.length > 0 || filter.ignore.length > 0;
  const entries = !info.isDirectory() ? [''] : filtered ? (await walk(src)).filter((p) => isIncluded(p, filter)) : await readdir(src);
  for (const entry of entries) {
    const name = entry === '' ? src.split(sep).pop()! : entry;
    await replaceWithLink(entry === '' ? src : join(src, entry), join(dest, name));
  }
  return entries.map((e) => (e === '' ? src.split(sep).pop()! : e));
}
