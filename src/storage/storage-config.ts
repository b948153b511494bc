/**
 * KServe's storage spec: the controller puts one key of the `storage-config` secret into
 * STORAGE_CONFIG (JSON) and the InferenceService's `storage.parameters` into
 * STORAGE_OVERRIDE_CONFIG; for `type: s3` the keys map onto the S3 environment variables, as
 * KServe's own initializer does. Other types carry nothing we use (the URI is rebuilt by the
 * controller) and are left alone.
 */
import { type Env } from './env.js';
import { StorageConfigError } from './errors.js';

/** Each key sets its variables; the second name is the one that would otherwise take precedence. */
const S3_KEYS: Record<string, string[]> = {
  endpoint_url: ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'],
  access_key_id: ['AWS_ACCESS_KEY_ID'],
  secret_access_key: ['AWS_SECRET_ACCESS_KEY'],
  region: ['AWS_DEFAULT_REGION', 'AWS_REGION'],
  ca_bundle: ['AWS_CA_BUNDLE'],
  verify_ssl: ['S3_VERIFY_SSL'],
  anonymous: ['awsAnonymousCredential'],
};

function parseObject(name: string, raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new StorageConfigError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StorageConfigError(`${name} must be a JSON object like {"type": "s3", "access_key_id": "..."}`);
  }
  return parsed as Record<string, unknown>;
}

/** `env` with the storage spec applied; the spec wins over variables set directly, as in KServe. */
export function applyStorageConfig(env: Env): Env {
  const spec = {
    ...parseObject('STORAGE_CONFIG', env.STORAGE_CONFIG),
    ...parseObject('STORAGE_OVERRIDE_CONFIG', env.STORAGE_OVERRIDE_CONFIG),
  };
  if (spec.type !== 's3') return env;
  const out: Record<string, string | undefined> = { ...env };
  for (const [key, variables] of Object.entries(S3_KEYS)) {
    const value = spec[key];
    if (value !== undefined && value !== null) for (const v of variables) out[v] = String(value);
  }
  return out;
}
