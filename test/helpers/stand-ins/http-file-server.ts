/** A plain HTTP file server stand-in: named files with Range, ETag, a chosen Content-Type, and faults. */
import type http from 'node:http';
import { type Faults, StandInServer, type StoredObject, bytesObject, sendObject, takeStatusFault } from './blob.js';

export class HttpFileStandIn extends StandInServer {
  readonly files = new Map<string, { object: StoredObject; contentType: string }>();
  readonly faults = new Map<string, Faults>();
  /** Header name and value every request must carry, else 403. */
  requiredHeader: [string, string] | undefined;

  constructor() {
    super((req, res) => this.handle(req, res));
  }

  put(path: string, data: StoredObject | Buffer | string, contentType = 'application/octet-stream'): void {
    this.files.set(path, { object: Buffer.isBuffer(data) || typeof data === 'string' ? bytesObject(data) : data, contentType });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    if (this.requiredHeader && req.headers[this.requiredHeader[0]] !== this.requiredHeader[1])
      return void res.writeHead(403).end('forbidden');
    const file = this.files.get(path);
    if (!file) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    const faults = this.faults.get(path);
    const status = takeStatusFault(faults);
    if (status) return void res.writeHead(status).end('injected');
    res.setHeader('content-type', file.contentType);
    res.setHeader('etag', `"${file.object.md5 ?? file.object.size}"`);
    await sendObject(req, res, file.object, faults);
  }
}
