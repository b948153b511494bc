/** What every store's listing yields: the files of one model, each able to stream from an offset. */
import type { Readable } from 'node:stream';

export type ChecksumAlgorithm = 'md5' | 'sha256' | 'git-sha1';

/** A digest the store vouches for, hex-encoded. `git-sha1` is git's blob id (sha1 of "blob <size>\0" + bytes). */
export interface Checksum {
  algorithm: ChecksumAlgorithm;
  hex: string;
}

export interface OpenedBody {
  body: Readable;
  /** Where `body` starts in the file: the offset asked for, or 0 when the store ignored the range. */
  start: number;
  /** The whole file's size, when the response says it. */
  size?: number;
  /** A digest that applies to this response's object (S3 decides per response: SSE-KMS ETags are not MD5s). */
  checksum?: Checksum;
}

export interface RemoteFile {
  /** Path under the destination, '/'-separated, already checked to stay inside it. */
  path: string;
  /** The object as messages name it (s3://bucket/key, a redacted URL...). */
  name: string;
  /** Size from the listing, when the store lists one (plain HTTP does not). */
  size?: number;
  /** Changes when the object changes (ETag, generation, oid): a partial file resumes only if it matches. */
  identity: string;
  /** Opens the file's bytes from `start` (a Range request where the store allows it). */
  open(start: number, signal: AbortSignal): Promise<OpenedBody>;
}

/** One store's view of a URI: lists the model's files. */
export interface StorageSource {
  list(signal: AbortSignal): Promise<RemoteFile[]>;
}
