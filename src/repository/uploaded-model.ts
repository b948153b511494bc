/**
 * Model files a client sent with a load request (Triton's `file:<version>/<name>` parameters),
 * written to a temporary folder the server owns and removes when the model is unloaded or
 * replaced. Paths are checked so that no file lands outside that folder.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../core/errors.js';

const SAFE_SEGMENT = /^(?!\.\.?$)[^/\\]+$/;

/** `1/model.onnx` as path segments; refuses absolute paths, `..`, empty segments. */
function segments(path: string): string[] {
  const parts = path.split('/');
  // NUL would cut the path short in the file system calls.
  if (path.includes('\0') || !parts.every((p) => SAFE_SEGMENT.test(p))) {
    throw new InvalidInputError(
      `load parameter 'file:${path}' must name a relative path such as 'file:1/model.onnx' (no '..', '\\\\' or empty parts)`,
    );
  }
  return parts;
}

/** Writes the files into a new temporary model folder and returns its path. */
export async function writeUploadedModel(files: ReadonlyMap<string, Uint8Array>): Promise<string> {
  const checked = [...files].map(([path, bytes]) => [segments(path), bytes] as const);
  const dir = await mkdtemp(join(tmpdir(), 'tsserve-loaded-'));
  try {
    for (const [parts, bytes] of checked) {
      const target = join(dir, ...parts);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    }
  } catch (error) {
    await removeUploadedModel(dir);
    throw error;
  }
  return dir;
}

export async function removeUploadedModel(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
