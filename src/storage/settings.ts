/**
 * Transfer settings from the environment. KServe's S3-specific names are honoured as aliases of
 * ours, so a ClusterStorageContainer written for KServe's initializer behaves the same here.
 */
import { type Env, envNumber } from './env.js';
import { type PathFilter, parsePatternList } from './patterns.js';

export interface TransferSettings {
  /** Files downloaded at once. */
  concurrency: number;
  /** Attempts per file (the first included) before giving up. */
  maxAttempts: number;
  /** First backoff delay; doubles per attempt, with jitter, capped at 30 s. */
  retryBaseMs: number;
  /** A response that sends no byte for this long is abandoned and retried. */
  readTimeoutMs: number;
  connectTimeoutMs: number;
  progressIntervalMs: number;
  filter: PathFilter;
}

export function readSettings(env: Env): TransferSettings {
  return {
    concurrency: Math.floor(envNumber(env, ['STORAGE_MAX_CONCURRENCY', 'S3_MAX_FILE_CONCURRENCY'], 4)),
    maxAttempts: Math.floor(envNumber(env, ['STORAGE_MAX_ATTEMPTS', 'S3_MAX_ATTEMPTS'], 5)),
    retryBaseMs: envNumber(env, ['STORAGE_RETRY_BACKOFF_MS'], 500, { min: 0 }),
    readTimeoutMs: envNumber(env, ['STORAGE_READ_TIMEOUT', 'S3_READ_TIMEOUT'], 30, { min: 0.1 }) * 1000,
    connectTimeoutMs: envNumber(env, ['STORAGE_CONNECT_TIMEOUT', 'S3_CONNECT_TIMEOUT'], 15) * 1000,
    progressIntervalMs: envNumber(env, ['STORAGE_PROGRESS_INTERVAL'], 10, { min: 0.01 }) * 1000,
    filter: {
      allow: parsePatternList('STORAGE_ALLOW_PATTERNS', env.STORAGE_ALLOW_PATTERNS),
      ignore: parsePatternList('STORAGE_IGNORE_PATTERNS', env.STORAGE_IGNORE_PATTERNS),
    },
  };
}
