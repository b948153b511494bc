/**
 * Turns whatever a client library threw (AWS SDK, Google's ApiError, the Hub's HubApiError,
 * undici, node streams) into a StorageError, so the transfer loop decides once whether to retry
 * and every store fails with the same kind of message.
 */
import {
  AccessDeniedError,
  SourceNotFoundError,
  StorageError,
  TransientError,
} from './errors.js';

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE', 'TimeoutError', 'RequestTimeout', 'RequestTimeTooSkewed',
]);
const NETWORK_MESSAGES = /socket hang up|terminated|premature close|aborted|network|timed? ?out|ECONNRESET/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  status?: unknown;
  statusCode?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

export function httpStatusOf(error: unknown): number | undefined {
  const e = error as ErrorLike | undefined;
  for (const v of [e?.$metadata?.httpStatusCode, e?.statusCode, e?.status, e?.code]) {
    if (typeof v === 'number' && v >= 100 && v < 600) return v;
  }
  return undefined;
}

function isNetworkError(error: unknown, depth = 0): boolean {
  const e = error as ErrorLike | undefined;
  if (!e || depth > 4) return false;
  if (NETWORK_CODES.has(String(e.code)) || NETWORK_CODES.has(String(e.name))) return true;
  if (typeof e.message === 'string' && NETWORK_MESSAGES.test(e.message)) return true;
  return isNetworkError(e.cause, depth + 1);
}

function describe(error: unknown): string {
  const e = error as ErrorLike | undefined;
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(error);
  return `${name}${message}`.split('\n')[0]!;
}

/** `what` names the object (redacted URI) so the message says where it failed. */
export function classifyError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const status = httpStatusOf(error);
  const detail = describe(error);
  if (status === 401 || status === 403) return new AccessDeniedError(`access denied to ${what} (HTTP ${status}: ${detail}); check the credentials`, error);
  if (status === 404) return new SourceNotFoundError(`${what} was not found (HTTP 404: ${detail})`, error);
  if (status !== undefined && (status >= 500 || status === 408 || status === 429)) {
    return new TransientError(`${what}: HTTP ${status} (${detail})`, error);
  }
  if (status !== undefined) return new StorageError('FAILED', `${what}: HTTP ${status} (${detail})`, { cause: error });
  if (isNetworkError(error)) return new TransientError(`${what}: ${detail}`, error);
  return new StorageError('FAILED', `${what}: ${detail}`, { cause: error });
}
