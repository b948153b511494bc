/** One retry policy for every store: exponential backoff with jitter, only for retryable failures. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { classifyError } from './classify-error.js';
import type { StorageError } from './errors.js';
import type { TransferSettings } from './settings.js';

export function backoffMs(settings: TransferSettings, attempt: number): number {
  const base = Math.min(30_000, settings.retryBaseMs * 2 ** (attempt - 1));
  return base / 2 + Math.random() * (base / 2);
}

/** Runs `fn` until it succeeds, fails for good, or uses up settings.maxAttempts. */
export async function withRetries<T>(
  fn: () => Promise<T>,
  what: string,
  settings: TransferSettings,
  logger: Logger,
  signal: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const failure: StorageError = classifyError(error, what);
      if (signal.aborted) throw signal.reason ?? failure;
      if (!failure.retryable || attempt >= settings.maxAttempts) {
        if (attempt > 1) failure.message += ` (after ${attempt} attempts)`;
        throw failure;
      }
      const delay = backoffMs(settings, attempt);
      logger.warn({ what, attempt, delayMs: Math.round(delay), error: failure.message }, 'retrying');
      await sleep(delay, undefined, { signal });
    }
  }
}
