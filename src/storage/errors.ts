/**
 * Why a model download failed, as a class with a stable code. `retryable` tells the transfer
 * loop whether another attempt can help (a reset, a timeout, a 5xx) or not (403, 404, a bad URI).
 */

export type StorageErrorCode =
  'INVALID_URI' | 'CONFIG' | 'NOT_FOUND' | 'ACCESS_DENIED' | 'UNSAFE_PATH' | 'INTEGRITY' | 'ARCHIVE' | 'TRANSIENT' | 'FAILED';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly retryable: boolean;

  constructor(code: StorageErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.name = new.target.name;
  }
}

export class InvalidUriError extends StorageError {
  constructor(message: string) {
    super('INVALID_URI', message);
  }
}

/** STORAGE_CONFIG, a pattern list or a number in the environment is malformed. */
export class StorageConfigError extends StorageError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

export class SourceNotFoundError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super('NOT_FOUND', message, { cause });
  }
}

export class AccessDeniedError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super('ACCESS_DENIED', message, { cause });
  }
}

/** A key, an archive entry or a link would land outside the destination folder. */
export class UnsafePathError extends StorageError {
  constructor(message: string) {
    super('UNSAFE_PATH', message);
  }
}

/** The bytes received do not match the size or checksum the store declared. */
export class IntegrityError extends StorageError {
  constructor(message: string) {
    super('INTEGRITY', message, { retryable: true });
  }
}

export class ArchiveError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super('ARCHIVE', message, { cause });
  }
}

/** A reset, a timeout, a 5xx or a 429: another attempt may succeed. */
export class TransientError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super('TRANSIENT', message, { retryable: true, cause });
  }
}
