/**
 * The server's side of storage: `--model_dir s3://...` (or STORAGE_URI) is downloaded to a local
 * folder before the repository loads, so one container can pull and serve without an init
 * container. A local model_dir is served where it is.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { downloadModel } from './download-model.js';
import { isRemoteUri, parseStorageUri } from './uri.js';

export interface ModelSourceOptions {
  model_dir: string;
  storage_uri: string;
  storage_dir: string;
}

export function defaultStorageDir(): string {
  return join(tmpdir(), 'tsserve-models');
}

/** The local folder to serve, after downloading it if the options name a remote source. */
export async function prepareModelDir(options: ModelSourceOptions, logger: Logger): Promise<string> {
  if (isRemoteUri(options.model_dir)) {
    const dest = join(
      options.storage_dir || defaultStorageDir(),
      createHash('sha256').update(options.model_dir).digest('hex').slice(0, 16),
    );
    await downloadModel(options.model_dir, dest, { logger });
    return dest;
  }
  const modelDir = options.model_dir.startsWith('file://') ? fileURLToPath(options.model_dir) : options.model_dir;
  if (options.storage_uri === '') return modelDir;
  if (!isRemoteUri(options.storage_uri)) {
    const parsed = parseStorageUri(options.storage_uri);
    return parsed.scheme === 'local' ? parsed.path : modelDir;
  }
  await downloadModel(options.storage_uri, modelDir, { logger });
  return modelDir;
}
