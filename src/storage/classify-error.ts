/**
 * Turns whatever a client library threw (AWS SDK, Google's ApiError, the Hub's HubApiError,
 * undici, node streams) into a StorageError, so the transfer loop decides once whether to retry
 * and every store fails with the same kind of message.
 */
import { AccessDeniedError, SourceNotFoundError, StorageError, TransientError } from './errors.js';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeTooSkewed',
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

function ownText(e: ErrorLike): string {
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]! : '';
  const code = typeof e.code === 'string' && !message.includes(e.code) ? e.code : '';
  return [code, message].filter(Boolean).join(' ');
}

/**
 * The message and the causes under it: undici's `fetch failed` says nothing by itself, its cause
 * does (`getaddrinfo ENOTFOUND host`, `connect ECONNREFUSED 127.0.0.1:9`, a TLS error), and a
 * connection tried on several addresses fails with an AggregateError of one error per address.
 */
function describe(error: unknown): string {
  const top = error as ErrorLike | undefined;
  const name = typeof top?.name === 'string' && top.name !== 'Error' ? `${top.name}: ` : '';
  const parts: string[] = [];
  const add = (e: unknown) => {
    const text = e && typeof e === 'object' ? ownText(e as ErrorLike) : String(e ?? '');
    if (text !== '' && !parts.some((p) => p.includes(text))) parts.push(text);
  };
  let e: unknown = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    add(e);
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner)) inner.slice(0, 4).forEach(add);
    e = (e as ErrorLike).cause;
  }
  return `${name}${parts.join(': ') || String(error)}`;
}

/** `what` names the object (redacted URI) so the message says where it failed. */
export function classifyError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const status = httpStatusOf(error);
  const detail = describe(error);
  if (status === 401 || status === 403)
    return new AccessDeniedError(`access denied to ${what} (HTTP ${status}: ${detail}); check the credentials`, error);
  if (status === 404) return new SourceNotFoundError(`${what} was not found (HTTP 404: ${detail})`, error);
  if (status !== undefined && (status >= 500 || status === 408 || status === 429)) {
    return new TransientError(`${what}: HTTP ${status} (${detail})`, error);
  }
  if (status !== undefined) return new StorageError('FAILED', `${what}: HTTP ${status} (${detail})`, { cause: error });
  if (isNetworkError(error)) return new TransientError(`${what}: ${detail}`, error);
  return new StorageError('FAILED', `${what}: ${detail}`, { cause: error });
}
