/**
 * Symbolic links in the model repository may only point inside it, unless
 * --allow_model_dir_symlinks says otherwise: a link to /etc or to another tenant's volume must
 * not become a model a client can load. Links that stay inside (Kubernetes' ConfigMap and
 * Secret mounts go through `..data` links in the same folder) are always fine.
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { ModelLayoutError } from './layout.js';

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Throws ModelLayoutError for the first link under `path` (or `path` itself) that leaves `modelDir`. */
export async function refuseOutsideLinks(modelDir: string, path: string): Promise<void> {
  const root = await realpath(modelDir);
  await walk(root, modelDir, path, 0);
}

async function walk(root: string, modelDir: string, path: string, depth: number): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (info.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    if (target && !inside(root, target)) {
      throw new ModelLayoutError(
        `'${relative(modelDir, path)}' in the model directory is a symbolic link to '${target}', outside --model_dir; ` +
          'start tsserve with --allow_model_dir_symlinks true if the repository relies on such links (e.g. a PVC mounted through links)',
      );
    }
  }
  // Bounded: model folders are a few levels deep (model/version/file, Hugging Face's onnx/).
  if (depth > 8 || !(info.isDirectory() || info.isSymbolicLink())) return;
  const names = await readdir(path).catch(() => [] as string[]);
  for (const name of names) await walk(root, modelDir, join(path, name), depth + 1);
}
