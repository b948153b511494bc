/** The digest of a file as its bytes arrive, rebuilt from disk when a download resumes. */
import { type Hash, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Checksum } from './remote-file.js';

const NODE_ALGORITHM = { md5: 'md5', sha256: 'sha256', 'git-sha1': 'sha1' } as const;

export class RunningHash {
  private hash: Hash;
  bytes = 0;

  constructor(
    readonly expected: Checksum,
    private readonly size: number,
  ) {
    this.hash = this.fresh();
  }

  private fresh(): Hash {
    const hash = createHash(NODE_ALGORITHM[this.expected.algorithm]);
    if (this.expected.algorithm === 'git-sha1') hash.update(`blob ${this.size}\0`);
    return hash;
  }

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }

  /** Re-reads the first `offset` bytes of `path` so the digest covers exactly what is on disk. */
  async rebuild(path: string, offset: number): Promise<void> {
    this.hash = this.fresh();
    this.bytes = 0;
    if (offset === 0) return;
    for await (const chunk of createReadStream(path, { start: 0, end: offset - 1 })) this.update(chunk as Buffer);
  }

  matches(): boolean {
    return this.hash.digest('hex') === this.expected.hex.toLowerCase();
  }
}
