/**
 * http(s):// URLs: one file (often an archive), fetched with Node's fetch. Extra request
 * headers come from the variable `<hostname>-headers` (a JSON object), as in KServe. Resumes
 * with Range + If-Range, so a changed file restarts from zero instead of being spliced.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { type Env, envValue } from '../env.js';
import { StorageConfigError, StorageError } from '../errors.js';
import { classifyError } from '../classify-error.js';
import type { OpenedBody, RemoteFile, StorageSource } from '../remote-file.js';
import { safeRelativePath } from '../safe-path.js';
import { redactUri } from '../uri.js';
import { fetchFollowingRedirects } from './http-redirects.js';

function extraHeaders(url: URL, env: Env): Record<string, string> {
  const name = `${url.hostname}-headers`;
  const raw = envValue(env, name);
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    }
  } catch {
    // reported below
  }
  throw new StorageConfigError(`${name} must be a JSON object of header names to values`);
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class HttpSource implements StorageSource {
  private readonly headers: Record<string, string>;
  private readonly where: string;
  private readonly url: URL;
  private readonly env: Env;

  constructor(url: URL, env: Env) {
    this.env = env;
    this.where = redactUri(url.href);
    this.headers = extraHeaders(url, env);
    // fetch refuses URLs with user:password; send them as Basic auth, as curl and requests do.
    this.url = new URL(url.href);
    if (url.username !== '' || url.password !== '') {
      const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.headers = { authorization: `Basic ${Buffer.from(user).toString('base64')}`, ...this.headers };
      this.url.username = '';
      this.url.password = '';
    }
  }

  async list(): Promise<RemoteFile[]> {
    const name = decodeURIComponent(posix.basename(this.url.pathname));
    const path = safeRelativePath(name === '' ? 'index' : name, `file name of ${this.where}`);
    let etag: string | undefined;
    return [
      {
        path,
        name: this.where,
        identity: `http ${this.url.href}`,
        open: async (start, signal) => {
          const opened = await this.open(start, etag, signal);
          etag = opened.etag ?? etag;
          return opened;
        },
      },
    ];
  }

  private async open(start: number, etag: string | undefined, signal: AbortSignal): Promise<OpenedBody & { etag?: string }> {
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    // Without a strong ETag from this run, nothing proves the bytes on disk are from the same
    // file (a URL has no generation), so only an If-Range resume is attempted; else start over.
    if (start > 0 && etag && !etag.startsWith('W/')) {
      headers.range = `bytes=${start}-`;
      headers['if-range'] = etag;
    }
    const plan = { originHeaders: this.headers, transferHeaders: headers, headersFor: (url: URL) => extraHeaders(url, this.env) };
    const res = await fetchFollowingRedirects(this.url, plan, signal, this.where).catch((error) => {
      throw classifyError(error, this.where);
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw classifyError(new HttpStatusError(res.status, res.statusText), this.where);
    }
    if ((res.headers.get('content-type') ?? '').startsWith('text/html')) {
      await res.body.cancel();
      throw new StorageError('FAILED', `${this.where} answered an HTML page (Content-Type text/html), not a model file`);
    }
    const ranged = res.status === 206 && headers.range !== undefined;
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = ranged ? Number(res.headers.get('content-range')?.split('/')[1]) : length;
    return {
      body: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      start: ranged ? start : 0,
      size: Number.isFinite(total) ? total : undefined,
      etag: res.headers.get('etag') ?? undefined,
    };
  }
}
