/** Temporary model repositories assembled from the committed fixtures. */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoPath } from './server.js';

export interface TempRepo {
  dir: string;
  /** Copies a committed fixture file (path under the repo root) to `dest` inside the repo. */
  copy(fixture: string, dest: string): Promise<void>;
  write(dest: string, content: string | Uint8Array): Promise<void>;
  remove(): Promise<void>;
}

export async function tempRepo(): Promise<TempRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'tsserve-test-'));
  return {
    dir,
    async copy(fixture, dest) {
      await mkdir(dirname(join(dir, dest)), { recursive: true });
      await cp(repoPath(fixture), join(dir, dest));
    },
    async write(dest, content) {
      await mkdir(dirname(join(dir, dest)), { recursive: true });
      await writeFile(join(dir, dest), content);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export const FP32_IDENTITY = 'test/fixtures/dtypes/fp32/1/model.onnx';
export const FP64_IDENTITY = 'test/fixtures/dtypes/fp64/1/model.onnx';
export const BYTES_IDENTITY = 'test/fixtures/dtypes/bytes/1/model.onnx';
export const SLOW_MODEL = 'test/fixtures/slow/1/model.onnx';
