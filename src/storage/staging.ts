/**
 * Atomic completion. Everything is downloaded under `<dest>/.tsserve-download/` (inside dest, so
 * the final renames never cross a filesystem even when dest is a mounted volume such as KServe's
 * /mnt/models), and only moved into dest once every file is complete and verified. Until then
 * dest holds nothing but that hidden folder, which the model repository skips.
 *
 *   parts/index.json  each file's identity (ETag, generation...) as listed by this run
 *   parts/<id>.part   bytes so far of a file in progress
 *   parts/<id>.done   a complete, verified file
 *   tree/             the model as it will appear in dest (assembled from the .done files)
 *
 * A rerun after a crash keeps parts/: a file whose identity is unchanged since the index the
 * crashed run wrote is reused if done and resumed if partial; any other starts from zero. One
 * index per run, rather than a marker per file, keeps a 1000-file model from costing 1000 more
 * writes.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RemoteFile } from './remote-file.js';

export const STAGING_DIR = '.tsserve-download';

export interface PartPaths {
  part: string;
  done: string;
}

type Index = Record<string, string>;

function partId(file: RemoteFile): string {
  return createHash('sha256').update(file.path).digest('hex').slice(0, 32);
}

export class Staging {
  readonly root: string;
  readonly tree: string;
  private readonly parts: string;
  /** Files whose bytes on disk (if any) belong to the same object as now listed. */
  private readonly unchanged = new Set<string>();

  private constructor(readonly dest: string) {
    this.root = join(dest, STAGING_DIR);
    this.parts = join(this.root, 'parts');
    this.tree = join(this.root, 'tree');
  }

  /** Opens (or reopens, after a crash) the staging folder for this listing of files. */
  static async open(dest: string, files: readonly RemoteFile[]): Promise<Staging> {
    const staging = new Staging(dest);
    await mkdir(staging.parts, { recursive: true });
    await rm(staging.tree, { recursive: true, force: true });
    const indexPath = join(staging.parts, 'index.json');
    const previous = JSON.parse(await readFile(indexPath, 'utf8').catch(() => '{}')) as Index;
    const index: Index = {};
    for (const file of files) {
      const id = partId(file);
      // Hashed: an identity may hold a URL with credentials, and this file outlives a crash.
      index[id] = createHash('sha256').update(file.identity).digest('hex');
      if (previous[id] === index[id]) staging.unchanged.add(id);
    }
    await writeFile(`${indexPath}.tmp`, JSON.stringify(index));
    await rename(`${indexPath}.tmp`, indexPath);
    return staging;
  }

  paths(file: RemoteFile): PartPaths {
    const base = join(this.parts, partId(file));
    return { part: `${base}.part`, done: `${base}.done` };
  }

  /** The bytes an earlier run left for `file`, when they belong to the same object; else 0 (the part is overwritten). */
  async resumable(file: RemoteFile): Promise<{ done: boolean; offset: number }> {
    if (!this.unchanged.has(partId(file))) return { done: false, offset: 0 };
    const p = this.paths(file);
    const done = await stat(p.done).catch(() => undefined);
    if (done && (file.size === undefined || done.size === file.size)) return { done: true, offset: done.size };
    const part = await stat(p.part).catch(() => undefined);
    return { done: false, offset: part?.size ?? 0 };
  }

  /** Moves every completed file to its place under tree/. */
  async assemble(files: readonly RemoteFile[]): Promise<void> {
    const made = new Set<string>();
    for (const file of files) {
      const target = join(this.tree, file.path);
      const dir = dirname(target);
      if (!made.has(dir)) await mkdir(dir, { recursive: true });
      made.add(dir);
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
