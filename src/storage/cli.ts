#!/usr/bin/env node
/**
 * The storage-initializer command, with the contract of KServe's ClusterStorageContainer:
 * `storage-initializer <src-uri> [<dest-path>] [<src-uri> <dest-path> ...]`, pairs downloaded
 * one after the other, dest defaulting to /mnt/models; exit 0 when every model is in place,
 * 1 with the reason on stderr when one is not, 2 on a usage error.
 */
import '../no-telemetry.js'; // first: before onnxruntime loads
import { createLogger } from '../log.js';
import { routeProcessWarnings } from '../process-warnings.js';
import { downloadModel } from './download-model.js';
import { envValue } from './env.js';
import { StorageError } from './errors.js';
import { redactUri } from './uri.js';

export const DEFAULT_DEST = '/mnt/models';

const USAGE = `Usage: storage-initializer <src-uri> [<dest-path>] [<src-uri> <dest-path> ...]

Downloads each model to its destination (default ${DEFAULT_DEST}).
Sources: s3://bucket/prefix, gs://bucket/prefix, hf://owner/repo[:revision], http(s)://host/file, file:///path or a local path.
Environment: see the README (AWS_*, S3_*, GOOGLE_APPLICATION_CREDENTIALS, STORAGE_EMULATOR_HOST, HF_TOKEN, HF_ENDPOINT,
STORAGE_CONFIG, STORAGE_ALLOW_PATTERNS, STORAGE_IGNORE_PATTERNS, STORAGE_MAX_CONCURRENCY, STORAGE_MAX_ATTEMPTS).`;

export function pairsOf(args: readonly string[]): Array<[string, string]> | undefined {
  if (args.length === 1) return [[args[0]!, DEFAULT_DEST]];
  if (args.length === 0 || args.length % 2 !== 0) return undefined;
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i += 2) pairs.push([args[i]!, args[i + 1]!]);
  return pairs;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--help' || args[0] === '-h') return void process.stdout.write(`${USAGE}\n`);
  const pairs = pairsOf(args);
  if (!pairs) {
    process.stderr.write(`storage-initializer: expected <src-uri> <dest-path> pairs, got ${args.length} argument(s)\n\n${USAGE}\n`);
    process.exit(2);
  }
  const logger = createLogger(envValue(process.env, 'STORAGE_LOG_LEVEL', 'KSERVE_LOGLEVEL') ?? 'info').child({
    component: 'storage-initializer',
  });
  routeProcessWarnings(logger);
  const controller = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => controller.abort(new Error(`interrupted by ${signal}`)));
  for (const [uri, dest] of pairs) {
    try {
      await downloadModel(uri, dest, { logger, signal: controller.signal });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof StorageError ? error.code : 'FAILED';
      logger.error({ code, error: message }, 'download failed');
      process.stderr.write(`storage-initializer: failed to download ${redactUri(uri)} to ${dest}: ${message}\n`);
      process.exit(1);
    }
  }
}

void main();
