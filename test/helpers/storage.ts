/** Shared pieces of the storage tests: temp folders, a tree reader, the CLI runner, quick retries. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { type DownloadResult, downloadModel } from '../../src/storage/download-model.js';
import type { Env } from '../../src/storage/env.js';
import { repoPath } from './server.js';

export const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** Quick retries, no credential lookups beyond what a test sets. */
export const TEST_ENV: Env = {
  STORAGE_RETRY_BACKOFF_MS: '5',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const made: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsserve-storage-'));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Every entry under `dir` (hidden ones included), files mapped to their text. */
export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const rel = join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1);
    if (entry.isFile()) out[rel] = await readFile(join(dir, rel), 'utf8');
    else if (entry.isSymbolicLink()) out[rel] = `-> link`;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function download(uri: string, dest: string, env: Env): Promise<DownloadResult> {
  return downloadModel(uri, dest, { logger, env: { ...TEST_ENV, ...env } });
}

/** Runs the download and returns the StorageError it fails with (the test fails if it succeeds). */
export async function downloadError(uri: string, dest: string, env: Env): Promise<Error & { code?: string }> {
  try {
    await download(uri, dest, env);
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error(`expected the download of ${uri} to fail`);
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built command (path under dist/) with exactly `env` (plus PATH), as KServe would run the container. */
export function runCommand(script: string, args: string[], env: Env, onStart?: (pid: number) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('dist', script), ...args], {
      env: { PATH: process.env.PATH, ...TEST_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (child.pid !== undefined) onStart?.(child.pid);
  });
}
