/**
 * A stand-in for the Cloud Storage JSON API, enough for @google-cloud/storage pointed at it with
 * STORAGE_EMULATOR_HOST: objects.list (paged), objects.get (metadata, and alt=media with
 * Range), and an STS token endpoint, so that a GOOGLE_APPLICATION_CREDENTIALS file of type
 * `external_account` (workload identity federation: its token_url points here) is exchanged for a
 * token that later requests must carry. (Service-account keys always post to Google's own token
 * URL, which cannot be pointed at a local server.)
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { type Faults, StandInServer, type StoredObject, bytesObject, readBody, sendObject, takeStatusFault } from './blob.js';

export interface GcsStandInOptions {
  /** When set, every API call needs `Authorization: Bearer <issued token>`. */
  requireAuth?: boolean;
  pageSize?: number;
}

export const ISSUED_TOKEN = 'ya29.stand-in-token';

export class GcsStandIn extends StandInServer {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly faults = new Map<string, Faults>();
  /** The forms posted to the token endpoint. */
  readonly tokenRequests: URLSearchParams[] = [];

  constructor(private readonly options: GcsStandInOptions = {}) {
    super((req, res) => this.handle(req, res));
  }

  put(bucket: string, name: string, object: StoredObject | Buffer | string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
    this.buckets.get(bucket)!.set(name, Buffer.isBuffer(object) || typeof object === 'string' ? bytesObject(object) : object);
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  }

  private error(res: http.ServerResponse, status: number, message: string): void {
    this.json(res, status, { error: { code: status, message, errors: [{ message, reason: status === 404 ? 'notFound' : 'forbidden' }] } });
  }

  private resource(bucket: string, name: string, object: StoredObject): Record<string, unknown> {
    return {
      kind: 'storage#object',
      id: `${bucket}/${name}/1`,
      name,
      bucket,
      generation: '1700000000000001',
      size: String(object.size),
      ...(object.md5 ? { md5Hash: Buffer.from(object.md5, 'hex').toString('base64') } : {}),
      contentType: 'application/octet-stream',
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname === '/token' && req.method === 'POST') {
      this.tokenRequests.push(new URLSearchParams(await readBody(req)));
      return this.json(res, 200, {
        access_token: ISSUED_TOKEN,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 3600,
      });
    }
    if (this.options.requireAuth && req.headers.authorization !== `Bearer ${ISSUED_TOKEN}`) {
      return this.error(res, 401, 'Anonymous caller does not have storage.objects.list access');
    }
    const m = /^(?:\/download)?(?:\/storage\/v1)?\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
    if (!m) return this.error(res, 404, `no route ${url.pathname}`);
    const bucket = decodeURIComponent(m[1]!);
    const objects = this.buckets.get(bucket);
    if (!objects) return this.error(res, 404, 'The specified bucket does not exist.');
    if (m[2] === undefined) return this.list(res, bucket, objects, url.searchParams);
    const name = decodeURIComponent(m[2]);
    const object = objects.get(name);
    if (!object) return this.error(res, 404, `No such object: ${bucket}/${name}`);
    const faults = this.faults.get(`${bucket}/${name}`);
    if (url.searchParams.get('alt') !== 'media') return this.json(res, 200, this.resource(bucket, name, object));
    const status = takeStatusFault(faults);
    if (status) return this.error(res, status, 'injected');
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('x-goog-generation', '1700000000000001');
    if (object.md5) res.setHeader('x-goog-hash', `md5=${Buffer.from(object.md5, 'hex').toString('base64')}`);
    res.setHeader('etag', createHash('md5').update(name).digest('hex'));
    await sendObject(req, res, object, faults);
  }

  private list(res: http.ServerResponse, bucket: string, objects: Map<string, StoredObject>, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? '';
    const pageSize = Math.min(Number(query.get('maxResults') ?? 1000), this.options.pageSize ?? 1000);
    const after = query.get('pageToken') ?? '';
    const names = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = names.slice(0, pageSize);
    this.json(res, 200, {
      kind: 'storage#objects',
      items: page.map((n) => this.resource(bucket, n, objects.get(n)!)),
      ...(names.length > page.length ? { nextPageToken: page.at(-1) } : {}),
    });
  }
}
