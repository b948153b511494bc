/**
 * Storage URIs, as KServe's storage initializer accepts them, parsed into one tagged type.
 * Credentials embedded in a URI (http://user:pass@host) are kept for the request but never
 * shown: `redactUri` is what logs and messages print.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidUriError } from './errors.js';

export type StorageUri =
  | { scheme: 's3'; bucket: string; key: string }
  | { scheme: 'gs'; bucket: string; key: string }
  | { scheme: 'hf'; repo: string; revision: string | undefined }
  | { scheme: 'http'; url: URL }
  | { scheme: 'local'; path: string };

const SUPPORTED = 'gs://, s3://, hf://, http(s)://, file:// or a local path';

export function isRemoteUri(uri: string): boolean {
  return /^(s3|gs|hf|https?):\/\//i.test(uri);
}

export function parseStorageUri(uri: string): StorageUri {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 's3' || scheme === 'gs') return { scheme, ...bucketAndKey(uri, scheme) };
  if (scheme === 'hf') return parseHf(uri);
  if (scheme === 'http' || scheme === 'https') return { scheme: 'http', url: parseUrl(uri) };
  if (scheme === 'file') return { scheme: 'local', path: fileURLToPath(parseUrl(uri)) };
  if (scheme === undefined && uri !== '' && (existsSync(uri) || uri.startsWith('/') || uri.startsWith('.'))) {
    return { scheme: 'local', path: resolve(uri) };
  }
  throw new InvalidUriError(`Cannot recognize storage type for '${redactUri(uri)}': expected ${SUPPORTED}`);
}

function bucketAndKey(uri: string, scheme: string): { bucket: string; key: string } {
  const rest = uri.slice(scheme.length + 3);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === '') throw new InvalidUriError(`'${uri}' names no bucket: expected ${scheme}://bucket/prefix`);
  return { bucket, key: slash < 0 ? '' : rest.slice(slash + 1) };
}

function parseHf(uri: string): StorageUri {
  const rest = uri.slice('hf://'.length).replace(/\/+$/, '');
  const colon = rest.lastIndexOf(':');
  const repo = colon < 0 ? rest : rest.slice(0, colon);
  const revision = colon < 0 ? undefined : rest.slice(colon + 1);
  const parts = repo.split('/');
  if (parts.length !== 2 || parts.some((p) => p === '') || revision === '') {
    throw new InvalidUriError(`'${uri}' is not a Hugging Face repo: expected hf://owner/repo or hf://owner/repo:revision`);
  }
  return { scheme: 'hf', repo, revision };
}

function parseUrl(uri: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw new InvalidUriError(`'${redactUri(uri)}' is not a valid URL`);
  }
}

/** The URI with any user:password and query string (presigned signatures) hidden. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@').replace(/\?.*$/, (q) => (q.length > 1 ? '?***' : q));
}
