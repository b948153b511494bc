/**
 * A stand-in for the Hugging Face Hub, enough for @huggingface/hub pointed at it with
 * HF_ENDPOINT: the recursive tree listing (paged with Link headers) and `resolve` downloads with
 * Range, the hub's headers (ETag, X-Linked-Size, X-Error-Code) and Bearer tokens for private repos.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { type Faults, StandInServer, type StoredObject, bytesObject, sendObject, takeStatusFault } from './blob.js';

interface RepoFile {
  object: StoredObject;
  lfs: boolean;
  /** Set to make the listing declare a wrong digest. */
  wrongDigest?: boolean;
}

export interface HfStandInOptions {
  /** Token required for every repo (private repos); unset: public. */
  token?: string;
  pageSize?: number;
}

export class HfStandIn extends StandInServer {
  readonly repos = new Map<string, Map<string, RepoFile>>();
  readonly faults = new Map<string, Faults>();

  constructor(private readonly options: HfStandInOptions = {}) {
    super((req, res) => this.handle(req, res));
  }

  put(repo: string, path: string, data: Buffer | string, options: { lfs?: boolean; wrongDigest?: boolean } = {}): void {
    if (!this.repos.has(repo)) this.repos.set(repo, new Map());
    this.repos.get(repo)!.set(path, { object: bytesObject(data), lfs: options.lfs ?? false, wrongDigest: options.wrongDigest });
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
    res.end(JSON.stringify({ error: message }));
  }

  private entry(path: string, file: RepoFile): Record<string, unknown> {
    const data = file.object.data!;
    const gitOid = createHash('sha1').update(`blob ${data.byteLength}\0`).update(data).digest('hex');
    const sha256 = createHash('sha256').update(data).digest('hex');
    const flip = (hex: string) => (file.wrongDigest ? `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}` : hex);
    return file.lfs
      ? {
          type: 'file',
          oid: createHash('sha1').update(`pointer ${path}`).digest('hex'),
          size: data.byteLength,
          path,
          lfs: { oid: flip(sha256), size: data.byteLength, pointerSize: 134 },
        }
      : { type: 'file', oid: flip(gitOid), size: data.byteLength, path };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) {
      return this.error(res, 401, 'RepoNotFound', 'Invalid credentials in Authorization header');
    }
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (tree) return this.tree(res, decodeURIComponent(tree[1]!), tree[3] ?? '', url);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!resolve) return this.error(res, 404, 'RepoNotFound', `no route ${url.pathname}`);
    const files = this.repos.get(decodeURIComponent(resolve[1]!));
    if (!files) return this.error(res, 404, 'RepoNotFound', 'Repository not found');
    const path = decodeURIComponent(resolve[3]!);
    const file = files.get(path);
    if (!file) return this.error(res, 404, 'EntryNotFound', 'Entry not found');
    const faults = this.faults.get(`${resolve[1]}/${path}`);
    const status = takeStatusFault(faults);
    if (status) return this.error(res, status, 'Internal', 'injected');
    const etag = `"${(this.entry(path, file).lfs as { oid: string } | undefined)?.oid ?? this.entry(path, file).oid}"`;
    res.setHeader('etag', etag);
    if (file.lfs) res.setHeader('x-linked-etag', etag);
    res.setHeader('x-repo-commit', 'a'.repeat(40));
    res.setHeader('content-type', 'application/octet-stream');
    await sendObject(req, res, file.object, faults);
  }

  private tree(res: http.ServerResponse, repo: string, under: string, url: URL): void {
    const files = this.repos.get(repo);
    if (!files) return this.error(res, 404, 'RepoNotFound', 'Repository not found');
    const status = takeStatusFault(this.faults.get(`${repo}/tree`));
    if (status) return this.error(res, status, 'Internal', 'injected');
    const paths = [...files.keys()].filter((p) => under === '' || p.startsWith(`${under}/`)).sort();
    const dirs = [
      ...new Set(
        paths.flatMap((p) =>
          p
            .split('/')
            .slice(0, -1)
            .map((_, i, a) => a.slice(0, i + 1).join('/')),
        ),
      ),
    ];
    const entries = [
      ...dirs.map((d) => ({ type: 'directory', oid: '0'.repeat(40), size: 0, path: d })),
      ...paths.map((p) => this.entry(p, files.get(p)!)),
    ];
    const pageSize = this.options.pageSize ?? 1000;
    const cursor = Number(url.searchParams.get('cursor') ?? 0);
    const page = entries.slice(cursor, cursor + pageSize);
    if (cursor + pageSize < entries.length) {
      const next = new URL(url.href.replace('http://stand-in', this.url));
      next.searchParams.set('cursor', String(cursor + pageSize));
      res.setHeader('link', `<${next.href}>; rel="next"`);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page));
  }
}
