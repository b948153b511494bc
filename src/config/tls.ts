/**
 * The certificate and key of --ssl_certfile / --ssl_keyfile (vLLM's flags, which KServe's
 * LLMInferenceService template passes from /var/run/kserve/tls/), read and checked once at start,
 * so a wrong path or a key that does not match the certificate stops the server with one line
 * naming the flag, instead of failing every handshake later.
 */
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { CliError } from './cli-args.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliError(`--${flag} '${path}' cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Undefined when neither flag is set: plain HTTP and an insecure gRPC port. */
export function readTlsFiles(options: { ssl_certfile: string; ssl_keyfile: string }): TlsFiles | undefined {
  const { ssl_certfile: certFile, ssl_keyfile: keyFile } = options;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new CliError('--ssl_certfile and --ssl_keyfile go together: give both, or neither to serve without TLS');
  const tls = { cert: readPem('ssl_certfile', certFile), key: readPem('ssl_keyfile', keyFile) };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new CliError(
      `--ssl_certfile '${certFile}' and --ssl_keyfile '${keyFile}' are not a PEM certificate and its private key: ${(error as Error).message}`,
    );
  }
  return tls;
}
