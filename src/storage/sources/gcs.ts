/**
 * gs://bucket/prefix through @google-cloud/storage. Credentials: GOOGLE_APPLICATION_CREDENTIALS
 * (a service-account key, also used against STORAGE_EMULATOR_HOST when set), else the default
 * chain (workload identity, metadata server), else anonymous, as KServe falls back to
 * `create_anonymous_client()`. A prefix is a folder; the exact object is the fallback.
 */
import { posix } from 'node:path';
import { type Bucket, type File, Storage, type StorageOptions } from '@google-cloud/storage';
import { GoogleAuth, PassThroughClient } from 'google-auth-library';
import { httpStatusOf } from '../classify-error.js';
import { type Env, envValue } from '../env.js';
import { SourceNotFoundError } from '../errors.js';
import type { Checksum, OpenedBody, RemoteFile, StorageSource } from '../remote-file.js';
import { safeRelativePath } from '../safe-path.js';

const SCOPES = ['https://www.googleapis.com/auth/devstorage.read_only'];

async function storageOptions(env: Env): Promise<StorageOptions> {
  const emulator = envValue(env, 'STORAGE_EMULATOR_HOST');
  const keyFilename = envValue(env, 'GOOGLE_APPLICATION_CREDENTIALS');
  const base: StorageOptions = {
    ...(emulator ? { apiEndpoint: emulator } : {}),
    // Our transfer loop retries (and resumes) every call; the library's retries would multiply them.
    retryOptions: { autoRetry: false },
  };
  if (keyFilename) return { ...base, keyFilename, useAuthWithCustomEndpoint: true };
  if (emulator) return base; // the client sends no credentials to an emulator
  try {
    await new GoogleAuth({ scopes: SCOPES }).getClient();
    return base;
  } catch {
    return { ...base, authClient: new PassThroughClient() };
  }
}

function md5Of(md5Hash: unknown): Checksum | undefined {
  return typeof md5Hash === 'string' && md5Hash !== ''
    ? { algorithm: 'md5', hex: Buffer.from(md5Hash, 'base64').toString('hex') }
    : undefined;
}

export class GcsSource implements StorageSource {
  private bucketRef: Promise<Bucket>;

  constructor(
    private readonly bucket: string,
    private readonly key: string,
    env: Env,
  ) {
    this.bucketRef = storageOptions(env).then((o) => new Storage(o).bucket(bucket));
    this.bucketRef.catch(() => undefined);
  }

  async list(): Promise<RemoteFile[]> {
    const bucket = await this.bucketRef;
    const isFolder = this.key === '' || this.key.endsWith('/');
    const prefix = isFolder ? this.key : `${this.key}/`;
    const [objects] = await bucket.getFiles({ prefix, autoPaginate: true });
    const files = objects
      .filter((o) => !o.name.endsWith('/'))
      .map((o) => this.file(o, safeRelativePath(o.name.slice(prefix.length), `object gs://${this.bucket}/${o.name}`)));
    if (files.length > 0 || isFolder) return files;
    return [await this.single(bucket)];
  }

  private async single(bucket: Bucket): Promise<RemoteFile> {
    const object = bucket.file(this.key);
    try {
      await object.getMetadata();
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      throw new SourceNotFoundError(
        `No model found in gs://${this.bucket}/${this.key}: no object with that name and no objects under '${this.key}/'`,
        error,
      );
    }
    return this.file(object, posix.basename(this.key));
  }

  private file(object: File, path: string): RemoteFile {
    const { size, generation, md5Hash } = object.metadata;
    const pinned = object.bucket.file(object.name, generation === undefined ? {} : { generation: Number(generation) });
    return {
      path,
      name: `gs://${this.bucket}/${object.name}`,
      size: Number(size),
      identity: `gs ${generation ?? ''} ${size}`,
      open: async (start) => this.open(pinned, start, md5Of(md5Hash)),
    };
  }

  private async open(object: File, start: number, checksum: Checksum | undefined): Promise<OpenedBody> {
    // Our own size/MD5 checks cover resumed downloads too, where the library's validation would not.
    // A dropped connection makes this stream stall rather than fail (its fetch layer does not
    // forward the socket's error), so it is the read timeout that notices and resumes.
    const body = object.createReadStream({ start, validation: false, decompress: false });
    return { body, start, checksum };
  }
}
