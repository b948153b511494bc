/**
 * A stand-in for an S3-compatible endpoint (what MinIO or Ceph answer), enough for
 * @aws-sdk/client-s3 to list and download: ListObjectsV2 (paged), HeadObject, GetObject with
 * Range and If-Match, path-style (/bucket/key) and virtual-host (bucket.host) addressing, and
 * SigV4 credentials checked by access key id. Errors are S3's XML bodies.
 */
import type http from 'node:http';
import { type Faults, StandInServer, type StoredObject, bytesObject, sendObject, takeStatusFault } from './blob.js';

export interface S3StandInOptions {
  /** Access key ids accepted; requests signed with another get 403 InvalidAccessKeyId. */
  accessKeys?: string[];
  /** Buckets readable without a signature. */
  publicBuckets?: string[];
  /** Keys per ListObjectsV2 page (S3's default is 1000); small values exercise paging. */
  pageSize?: number;
  /** Serve HTTPS with this certificate. */
  tls?: { cert: Buffer; key: Buffer };
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export class S3StandIn extends StandInServer {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly faults = new Map<string, Faults>();

  constructor(private readonly options: S3StandInOptions = {}) {
    super((req, res) => this.handle(req, res), options.tls);
  }

  put(bucket: string, key: string, object: StoredObject | Buffer | string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
    this.buckets.get(bucket)!.set(key, Buffer.isBuffer(object) || typeof object === 'string' ? bytesObject(object) : object);
  }

  static etag(object: StoredObject): string {
    return object.md5 ? `"${object.md5}"` : `"${object.size.toString(16).padStart(32, '0')}-2"`;
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
  }

  private address(req: http.IncomingMessage): { bucket: string; key: string; query: URLSearchParams } {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const host = (req.headers.host ?? '').split(':')[0]!;
    const path = url.pathname.slice(1).split('/').map(decodeURIComponent).join('/');
    if (host !== '127.0.0.1' && host.includes('.')) {
      return { bucket: host.split('.')[0]!, key: path, query: url.searchParams };
    }
    const slash = path.indexOf('/');
    return { bucket: slash < 0 ? path : path.slice(0, slash), key: slash < 0 ? '' : path.slice(slash + 1), query: url.searchParams };
  }

  private authorized(req: http.IncomingMessage, bucket: string): string | undefined {
    if (this.options.publicBuckets?.includes(bucket) && !req.headers.authorization) return undefined;
    const auth = req.headers.authorization ?? '';
    const keyId = /Credential=([^/]+)\//.exec(auth)?.[1];
    if (!auth.startsWith('AWS4-HMAC-SHA256 ') || !req.headers['x-amz-date'] || !req.headers['x-amz-content-sha256']) {
      return 'AccessDenied';
    }
    if (this.options.accessKeys && !this.options.accessKeys.includes(keyId ?? '')) return 'InvalidAccessKeyId';
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { bucket, key, query } = this.address(req);
    const denied = this.authorized(req, bucket);
    if (denied) return this.error(res, 403, denied, 'Access Denied');
    const objects = this.buckets.get(bucket);
    if (!objects) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (key === '' && query.get('list-type') === '2') return this.list(res, bucket, objects, query);
    const object = objects.get(key);
    if (!object) return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const faults = this.faults.get(`${bucket}/${key}`);
    const status = takeStatusFault(faults);
    if (status) return this.error(res, status, status === 503 ? 'SlowDown' : 'InternalError', 'injected');
    const etag = S3StandIn.etag(object);
    if (req.headers['if-match'] && req.headers['if-match'] !== etag) return this.error(res, 412, 'PreconditionFailed', 'If-Match');
    res.setHeader('etag', etag);
    res.setHeader('content-type', 'binary/octet-stream');
    res.setHeader('last-modified', new Date(0).toUTCString());
    await sendObject(req, res, object, faults);
  }

  private list(res: http.ServerResponse, bucket: string, objects: Map<string, StoredObject>, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? '';
    const pageSize = Math.min(Number(query.get('max-keys') ?? 1000), this.options.pageSize ?? 1000);
    const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, pageSize);
    const truncated = keys.length > page.length;
    const contents = page
      .map((k) => {
        const o = objects.get(k)!;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified><ETag>${xmlEscape(S3StandIn.etag(o))}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${pageSize}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${truncated ? `<NextContinuationToken>${xmlEscape(page.at(-1)!)}</NextContinuationToken>` : ''}</ListBucketResult>`,
    );
  }
}
