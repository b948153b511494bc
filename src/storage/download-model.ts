/**
 * The storage initializer's one job: put the model named by a URI into a local folder. Lists
 * the files, applies the allow/ignore patterns, downloads them in parallel (bounded) into
 * staging, unpacks a single archive, then moves everything into place at once.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Logger } from '../log.js';
import { archiveKind, extractArchive } from './archive.js';
import { downloadFile } from './download-file.js';
import type { Env } from './env.js';
import { SourceNotFoundError } from './errors.js';
import { linkLocal } from './local-source.js';
import { isIncluded } from './patterns.js';
import { type DownloadSummary, Progress } from './progress.js';
import type { RemoteFile, StorageSource } from './remote-file.js';
import { withRetries } from './retry.js';
import { runLimited } from './run-limited.js';
import { type TransferSettings, readSettings } from './settings.js';
import { Staging } from './staging.js';
import { applyStorageConfig } from './storage-config.js';
import { type StorageUri, parseStorageUri, redactUri } from './uri.js';

export interface DownloadOptions {
  logger: Logger;
  /** Defaults to process.env. */
  env?: Env;
  signal?: AbortSignal;
}

export interface DownloadResult extends DownloadSummary {
  /** Top-level entries now in dest. */
  entries: string[];
}

/** Each client library is loaded only when its scheme is used: together they weigh ~40 MB of RSS. */
async function sourceFor(uri: Exclude<StorageUri, { scheme: 'local' }>, env: Env, settings: TransferSettings): Promise<StorageSource> {
  switch (uri.scheme) {
    case 's3':
      return new (await import('./sources/s3.js')).S3Source(uri.bucket, uri.key, env, settings);
    case 'gs':
      return new (await import('./sources/gcs.js')).GcsSource(uri.bucket, uri.key, env);
    case 'hf':
      return new (await import('./sources/hf.js')).HfSource(uri.repo, uri.revision, env);
    case 'http':
      return new (await import('./sources/http.js')).HttpSource(uri.url, env);
  }
}

function selectFiles(files: RemoteFile[], settings: TransferSettings, where: string): RemoteFile[] {
  if (files.length === 0) throw new SourceNotFoundError(`Failed to fetch model. No model found in ${where}.`);
  const selected = files.filter((f) => isIncluded(f.path, settings.filter));
  if (selected.length === 0) {
    throw new SourceNotFoundError(
      `No file in ${where} matches STORAGE_ALLOW_PATTERNS / STORAGE_IGNORE_PATTERNS (${files.length} files listed)`,
    );
  }
  return selected;
}

export async function downloadModel(uri: string, dest: string, options: DownloadOptions): Promise<DownloadResult> {
  const env = applyStorageConfig(options.env ?? process.env);
  const settings = readSettings(env);
  const parsed = parseStorageUri(uri);
  const where = redactUri(uri);
  const logger = options.logger.child({ uri: where, dest });
  const signal = options.signal ?? new AbortController().signal;
  const started = performance.now();
  if (parsed.scheme === 'local') {
    const entries = await linkLocal(parsed.path, dest, settings.filter);
    logger.info({ entries: entries.length }, 'linked local model');
    return { entries, files: entries.length, bytes: 0, seconds: (performance.now() - started) / 1000, rate: 0 };
  }
  const source = await sourceFor(parsed, env, settings);
  const listed = await withRetries(() => source.list(signal), where, settings, logger, signal);
  const files = selectFiles(listed, settings, where);
  const totalBytes = files.every((f) => f.size !== undefined) ? files.reduce((n, f) => n + f.size!, 0) : undefined;
  logger.info({ files: files.length, totalBytes, concurrency: settings.concurrency }, 'downloading model');
  const staging = await Staging.open(dest, files);
  const progress = new Progress(logger, files.length, totalBytes, settings.progressIntervalMs);
  let summary: DownloadSummary;
  try {
    const ctx = { staging, settings, progress, logger };
    await runLimited(files, settings.concurrency, (file, s) => downloadFile(file, ctx, s), signal);
  } finally {
    summary = progress.stop();
  }
  await staging.assemble(files);
  const only = files.length === 1 ? files[0]! : undefined;
  if (only && archiveKind(only.path)) await unpack(staging, only.path, logger);
  const entries = await staging.commit();
  logger.info(
    { files: summary.files, bytes: summary.bytes, rateMBps: +(summary.rate / 2 ** 20).toFixed(1) },
    `Model downloaded in ${summary.seconds.toFixed(3)} seconds.`,
  );
  return { ...summary, entries };
}

/** Replaces tree/ by the archive's content; a refused or corrupt archive leaves nothing behind. */
async function unpack(staging: Staging, path: string, logger: Logger): Promise<void> {
  const archive = join(staging.root, 'archive');
  await rename(join(staging.tree, path), archive);
  await rm(staging.tree, { recursive: true, force: true });
  await mkdir(staging.tree);
  try {
    await extractArchive(archive, staging.tree, posix.basename(path));
  } catch (error) {
    await rm(staging.root, { recursive: true, force: true });
    throw error;
  }
  await rm(archive);
  logger.info({ archive: path }, 'unpacked archive');
}
