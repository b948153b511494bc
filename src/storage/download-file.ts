/**
 * Downloads one file into staging: streamed to disk (memory stays at a few stream buffers
 * whatever the size), retried with exponential backoff on resets, timeouts and 5xx, resumed
 * from the bytes already on disk with a Range request, and checked against the size and the
 * digest the store declared before it counts as done.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat, truncate } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { classifyError } from './classify-error.js';
import { IntegrityError, TransientError } from './errors.js';
import type { Progress } from './progress.js';
import type { OpenedBody, RemoteFile } from './remote-file.js';
import { RunningHash } from './running-hash.js';
import { backoffMs } from './retry.js';
import type { TransferSettings } from './settings.js';
import type { PartPaths, Staging } from './staging.js';

export interface TransferContext {
  staging: Staging;
  settings: TransferSettings;
  progress: Progress;
  logger: Logger;
}

/** Larger writes than the 16 KiB default: fewer syscalls for big files, still bounded memory. */
const WRITE_BUFFER = 1024 * 1024;

/** Counts and hashes bytes as they pass, and fails the stream if none arrive for `idleMs`. */
function meter(onChunk: (chunk: Buffer) => void, idleMs: number): Transform {
  let timer: NodeJS.Timeout | undefined;
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      arm();
      onChunk(chunk);
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(error, done) {
      clearTimeout(timer);
      done(error);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => t.destroy(new TransientError(`no data received for ${idleMs / 1000} s`)), idleMs);
  };
  arm();
  return t;
}

async function sizeOnDisk(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}

export async function downloadFile(file: RemoteFile, ctx: TransferContext, signal: AbortSignal): Promise<void> {
  const paths = ctx.staging.paths(file);
  const resume = await ctx.staging.resumable(file);
  if (resume.done) {
    ctx.logger.debug({ file: file.path }, 'already downloaded by an earlier run');
    ctx.progress.add(resume.offset);
    ctx.progress.fileDone();
    return;
  }
  let offset = resume.offset;
  ctx.progress.add(offset);
  // Kept across attempts so a resume hashes only new bytes; rebuilt from disk when it disagrees.
  const digest: { hash?: RunningHash } = {};
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await attemptOnce(file, ctx, paths, offset, digest, signal);
      if (result.kind === 'done') break;
      offset = result.offset;
      throw new TransientError(`${file.name}: the response ended after ${offset} bytes`);
    } catch (error) {
      const failure = classifyError(error, `${file.name}`);
      if (signal.aborted) throw signal.reason ?? failure;
      const onDisk = await sizeOnDisk(paths.part);
      if (failure instanceof IntegrityError) {
        await rm(paths.part, { force: true });
        delete digest.hash;
        ctx.progress.add(-onDisk);
        offset = 0;
      } else {
        ctx.progress.add(onDisk - offset);
        offset = onDisk;
      }
      if (!failure.retryable || attempt >= ctx.settings.maxAttempts) {
        if (attempt > 1) failure.message += ` (after ${attempt} attempts)`;
        throw failure;
      }
      const delay = backoffMs(ctx.settings, attempt);
      ctx.logger.warn({ file: file.path, attempt, resumeAt: offset, delayMs: Math.round(delay), error: failure.message }, 'retrying');
      await sleep(delay, undefined, { signal });
    }
  }
  await rename(paths.part, paths.done);
  ctx.progress.fileDone();
}

type AttemptResult = { kind: 'done' } | { kind: 'short'; offset: number };

async function attemptOnce(
  file: RemoteFile,
  ctx: TransferContext,
  paths: PartPaths,
  offset: number,
  digest: { hash?: RunningHash },
  signal: AbortSignal,
): Promise<AttemptResult> {
  const opened: OpenedBody = await file.open(offset, signal);
  if (opened.start !== offset) {
    ctx.progress.add(opened.start - offset); // the store ignored the range: start over
    offset = opened.start;
  }
  if (offset > 0) await truncate(paths.part, offset);
  const size = opened.size ?? file.size;
  const checksum = opened.checksum;
  if (!checksum || size === undefined) delete digest.hash;
  else if (!digest.hash || digest.hash.bytes !== offset) {
    digest.hash = new RunningHash(checksum, size);
    await digest.hash.rebuild(paths.part, offset);
  }
  const hash = digest.hash;
  let total = offset;
  const counter = meter((chunk) => {
    hash?.update(chunk);
    total += chunk.byteLength;
    ctx.progress.add(chunk.byteLength);
  }, ctx.settings.readTimeoutMs);
  // 'w' truncates whatever an earlier run left for a changed object; 'a' appends to a resumed part.
  await pipeline(opened.body, counter, createWriteStream(paths.part, { flags: offset > 0 ? 'a' : 'w', highWaterMark: WRITE_BUFFER }), {
    signal,
  });
  if (size !== undefined && total < size) return { kind: 'short', offset: total };
  if (size !== undefined && total > size) {
    throw new IntegrityError(`${file.name}: received ${total} bytes, the store declared ${size}`);
  }
  if (hash && !hash.matches()) {
    throw new IntegrityError(`${file.name}: ${hash.expected.algorithm} checksum mismatch (expected ${hash.expected.hex})`);
  }
  return { kind: 'done' };
}
