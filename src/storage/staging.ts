/**
 * Atomic completion. Everything is downloaded under `<dest>/.tsserve-download/` (inside dest, so
 * the final renames never cross a filesystem even when dest is a mounted volume such as KServe's
 * /mnt/models), and only moved into dest once every file is complete and verified. Until then
 * dest holds nothing but that hidden folder, which the model repository skips.
 *
 *   parts/<id>.part   bytes so far of a file in progress
 *   parts/<id>.json   the object's identity (ETag, generation...): resume only if it still matches
 *   parts/<id>.done   a complete, verified file
 *   tree/             the model as it will appear in dest (assembled from the .done files)
 *
 * A rerun after a crash keeps parts/ (completed files are reused, partial ones resume) and
 * rebuilds tree/.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RemoteFile } from './remote-file.js';

export const STAGING_DIR = '.tsserve-download';

export interface PartPaths {
  part: string;
  meta: string;
  done: string;
}

export class Staging {
  readonly root: string;
  readonly tree: string;
  private readonly parts: string;

  private constructor(readonly dest: string) {
    this.root = join(dest, STAGING_DIR);
    this.parts = join(this.root, 'parts');
    this.tree = join(this.root, 'tree');
  }

  static async open(dest: string): Promise<Staging> {
    const staging = new Staging(dest);
    await mkdir(staging.parts, { recursive: true });
    await rm(staging.tree, { recursive: true, force: true });
    return staging;
  }

  paths(file: RemoteFile): PartPaths {
    const id = createHash('sha256').update(file.path).digest('hex').slice(0, 32);
    const base = join(this.parts, id);
    return { part: `${base}.part`, meta: `${base}.json`, done: `${base}.done` };
  }

  /** The bytes already on disk for `file` from an earlier attempt or run, if they belong to the same object. */
  async resumable(file: RemoteFile): Promise<{ done: boolean; offset: number }> {
    const p = this.paths(file);
    const identity = await readFile(p.meta, 'utf8').catch(() => undefined);
    if (identity !== file.identity) {
      await Promise.all([rm(p.part, { force: true }), rm(p.done, { force: true })]);
      await writeFile(p.meta, file.identity);
      return { done: false, offset: 0 };
    }
    const done = await stat(p.done).catch(() => undefined);
    if (done && (file.size === undefined || done.size === file.size)) return { done: true, offset: done.size };
    const part = await stat(p.part).catch(() => undefined);
    return { done: false, offset: part?.size ?? 0 };
  }

  /** Moves every completed file to its place under tree/. */
  async assemble(files: readonly RemoteFile[]): Promise<void> {
    await mkdir(this.tree, { recursive: true });
    for (const file of files) {
      const target = join(this.tree, file.path);
      await mkdir(dirname(target), { recursive: true });
      await rename(this.paths(file).done, target);
    }
  }

  /** Moves tree/'s entries into dest, replacing what is there under the same names, then removes staging. */
  async commit(): Promise<string[]> {
    const entries = await readdir(this.tree);
    for (const name of entries) {
      const target = join(this.dest, name);
      await rm(target, { recursive: true, force: true });
      await rename(join(this.tree, name), target);
    }
    await rm(this.root, { recursive: true, force: true });
    return entries;
  }
}
