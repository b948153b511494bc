/**
 * hf://owner/repo[:revision] through @huggingface/hub: the repo's tree is listed recursively
 * and each file streamed (the library picks plain or xet transfer, and ranges for resuming).
 * LFS files are checked against their sha256, others against their git blob id. HF_TOKEN
 * authenticates; HF_ENDPOINT points at a mirror or a private hub.
 */
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { type RepoDesignation, downloadFile, listFiles } from '@huggingface/hub';
import { type Env, envValue } from '../env.js';
import { SourceNotFoundError } from '../errors.js';
import type { Checksum, OpenedBody, RemoteFile, StorageSource } from '../remote-file.js';
import { safeRelativePath } from '../safe-path.js';

export class HfSource implements StorageSource {
  private readonly repo: RepoDesignation;
  private readonly hubUrl: string;
  private readonly accessToken: string | undefined;

  constructor(
    private readonly name: string,
    private readonly revision: string | undefined,
    env: Env,
  ) {
    this.repo = { type: 'model', name };
    this.hubUrl = (envValue(env, 'HF_ENDPOINT') ?? 'https://huggingface.co').replace(/\/+$/, '');
    this.accessToken = envValue(env, 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN');
  }

  async list(signal: AbortSignal): Promise<RemoteFile[]> {
    const files: RemoteFile[] = [];
    const params = { repo: this.repo, revision: this.revision, hubUrl: this.hubUrl, accessToken: this.accessToken, recursive: true };
    for await (const entry of listFiles({ ...params, fetch: (input, init) => fetch(input, { ...init, signal }) })) {
      if (entry.type !== 'file') continue;
      const checksum: Checksum | undefined = entry.lfs
        ? { algorithm: 'sha256', hex: entry.lfs.oid }
        : entry.oid
          ? { algorithm: 'git-sha1', hex: entry.oid }
          : undefined;
      const path = safeRelativePath(entry.path, `file hf://${this.name}/${entry.path}`);
      files.push({
        path,
        name: `hf://${this.name}/${entry.path}`,
        size: entry.size,
        identity: `hf ${entry.lfs?.oid ?? entry.oid ?? ''} ${entry.size}`,
        open: (start, s) => this.open(entry.path, start, checksum, s),
      });
    }
    return files;
  }

  private async open(path: string, start: number, checksum: Checksum | undefined, signal: AbortSignal): Promise<OpenedBody> {
    const blob = await downloadFile({
      repo: this.repo,
      path,
      revision: this.revision,
      hubUrl: this.hubUrl,
      accessToken: this.accessToken,
      fetch: (input, init) => fetch(input, { ...init, signal }),
    });
    if (!blob) throw new SourceNotFoundError(`hf://${this.name}/${path} is listed but the hub has no such file`);
    const part = start > 0 ? blob.slice(start) : blob;
    return { body: Readable.fromWeb(part.stream() as ReadableStream), start, size: blob.size, checksum };
  }
}
