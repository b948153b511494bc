/**
 * s3://bucket/prefix through @aws-sdk/client-s3, configured from the variables KServe's
 * controller sets. A prefix is a folder: `s3://b/model` lists `model/`, never `model-v2/`
 * (kserve#3776); when nothing is under it, the exact key `model` is the one file to fetch.
 * Custom endpoints (MinIO, Ceph, a local server) get path-style addressing unless
 * S3_USER_VIRTUAL_BUCKET asks for virtual hosts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { httpStatusOf } from '../classify-error.js';
import { type Env, envBool, envValue } from '../env.js';
import { SourceNotFoundError, StorageConfigError } from '../errors.js';
import type { Checksum, OpenedBody, RemoteFile, StorageSource } from '../remote-file.js';
import { safeRelativePath } from '../safe-path.js';
import type { TransferSettings } from '../settings.js';

function endpointOf(env: Env): string | undefined {
  const url = envValue(env, 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL');
  if (url) return url;
  const host = envValue(env, 'S3_ENDPOINT');
  if (!host) return undefined;
  if (/^https?:\/\//i.test(host)) return host;
  return `${envBool(env, 'S3_USE_HTTPS', true) ? 'https' : 'http'}://${host}`;
}

function tlsOptions(env: Env): https.AgentOptions {
  const caFile = envValue(env, 'AWS_CA_BUNDLE');
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile);
    } catch (error) {
      throw new StorageConfigError(`AWS_CA_BUNDLE '${caFile}' cannot be read: ${(error as Error).message}`);
    }
  }
  return { ca, rejectUnauthorized: envBool(env, 'S3_VERIFY_SSL', true) };
}

/** Signs nothing: for public buckets (awsAnonymousCredential=true), as boto3's UNSIGNED. */
const unsigned = { sign: async <T>(request: T): Promise<T> => request };

export function s3ClientConfig(env: Env, settings: TransferSettings): S3ClientConfig {
  const endpoint = endpointOf(env);
  const keyId = envValue(env, 'AWS_ACCESS_KEY_ID');
  const secret = envValue(env, 'AWS_SECRET_ACCESS_KEY');
  const anonymous = envBool(env, 'awsAnonymousCredential', false);
  const sockets = { keepAlive: true, maxSockets: Math.max(8, settings.concurrency * 2) };
  return {
    region: envValue(env, 'AWS_REGION', 'AWS_DEFAULT_REGION') ?? 'us-east-1',
    endpoint,
    forcePathStyle: endpoint !== undefined && !envBool(env, 'S3_USER_VIRTUAL_BUCKET', false),
    useAccelerateEndpoint: envBool(env, 'S3_USE_ACCELERATE', false),
    // Our transfer loop retries (and resumes) every call; SDK retries would multiply them.
    maxAttempts: 1,
    // Our own MD5/size checks cover every object; the SDK's CRC checks would only fire on some.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.readTimeoutMs,
      httpAgent: new http.Agent(sockets),
      httpsAgent: new https.Agent({ ...sockets, ...tlsOptions(env) }),
    },
    ...(anonymous
      ? { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: unsigned }
      : keyId && secret
        ? { credentials: { accessKeyId: keyId, secretAccessKey: secret, sessionToken: envValue(env, 'AWS_SESSION_TOKEN') } }
        : {}),
  };
}

/** An S3 ETag is the MD5 of the bytes only for single-part objects not encrypted with KMS or a customer key. */
function md5Of(etag: string | undefined, sse: string | undefined, sseCustomer: string | undefined): Checksum | undefined {
  const hex = etag?.replace(/"/g, '');
  if (!hex || !/^[0-9a-f]{32}$/i.test(hex) || sse === 'aws:kms' || sse === 'aws:kms:dsse' || sseCustomer) return undefined;
  return { algorithm: 'md5', hex };
}

export class S3Source implements StorageSource {
  private readonly client: S3Client;

  constructor(
    private readonly bucket: string,
    private readonly key: string,
    env: Env,
    settings: TransferSettings,
  ) {
    this.client = new S3Client(s3ClientConfig(env, settings));
  }

  async list(signal: AbortSignal): Promise<RemoteFile[]> {
    const isFolder = this.key === '' || this.key.endsWith('/');
    const prefix = isFolder ? this.key : `${this.key}/`;
    const files: RemoteFile[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: prefix },
      { abortSignal: signal },
    )) {
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith('/')) continue; // folder markers
        const path = safeRelativePath(object.Key.slice(prefix.length), `key s3://${this.bucket}/${object.Key}`);
        files.push(this.file(object.Key, path, object.Size ?? 0, object.ETag));
      }
    }
    if (files.length > 0 || isFolder) return files;
    return [await this.single(signal)];
  }

  private async single(signal: AbortSignal): Promise<RemoteFile> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key }), { abortSignal: signal });
      return this.file(this.key, posix.basename(this.key), head.ContentLength ?? 0, head.ETag);
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      throw new SourceNotFoundError(
        `No model found in s3://${this.bucket}/${this.key}: no object with that key and no objects under '${this.key}/'`,
        error,
      );
    }
  }

  private file(key: string, path: string, size: number, etag: string | undefined): RemoteFile {
    return {
      path,
      name: `s3://${this.bucket}/${key}`,
      size,
      identity: `s3 ${etag ?? ''} ${size}`,
      open: (start, signal) => this.open(key, etag, start, signal),
    };
  }

  private async open(key: string, etag: string | undefined, start: number, signal: AbortSignal): Promise<OpenedBody> {
    const res = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: etag, Range: start > 0 ? `bytes=${start}-` : undefined }),
      { abortSignal: signal },
    );
    const ranged = start > 0 && res.ContentRange !== undefined;
    const total = ranged ? Number(res.ContentRange!.split('/')[1]) : res.ContentLength;
    return {
      body: res.Body as Readable,
      start: ranged ? start : 0,
      size: Number.isFinite(total) ? total : undefined,
      checksum: md5Of(etag, res.ServerSideEncryption, res.SSECustomerAlgorithm),
    };
  }
}
