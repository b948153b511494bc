/**
 * --enable_ssl_refresh (vLLM's flag, which KServe's LLMInferenceService template passes with
 * TLS): when the certificate or key file changes, new HTTPS connections get the new pair;
 * connections already open keep theirs. The files' stat is polled because a Kubernetes Secret
 * volume updates by swapping a symlink, which fs.watch does not follow. A half-written update (a
 * new certificate with the old key) is logged and skipped, and picked up when the key follows.
 */
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from '../log.js';
import { readTlsFiles } from '../config/tls.js';

const POLL_MS = 2000;

export interface TlsFileNames {
  ssl_certfile: string;
  ssl_keyfile: string;
}

/** Starts watching; the returned function stops it. */
export function refreshTlsOnChange(server: HttpsServer, files: TlsFileNames, logger: Logger): () => void {
  const reload = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    try {
      server.setSecureContext(readTlsFiles(files)!);
      logger.info({ certFile: files.ssl_certfile, keyFile: files.ssl_keyfile }, 'TLS certificate reloaded');
    } catch (error) {
      logger.warn({ reason: (error as Error).message }, 'TLS certificate not reloaded: serving the previous one');
    }
  };
  for (const file of [files.ssl_certfile, files.ssl_keyfile]) watchFile(file, { interval: POLL_MS, persistent: false }, reload);
  return () => {
    for (const file of [files.ssl_certfile, files.ssl_keyfile]) unwatchFile(file, reload);
  };
}
