/** A gRPC RepositoryModelLoad's parameters as load options: `config` string_param, `file:<path>` bytes_param. */
import type { LoadOptions } from '../dataplane/data-plane.js';

interface RepositoryParameter {
  string_param?: string;
  bytes_param?: Uint8Array;
}

export function loadOptions(parameters: Record<string, unknown>): LoadOptions {
  const options: LoadOptions = {};
  for (const [key, raw] of Object.entries(parameters)) {
    const value = (raw ?? {}) as RepositoryParameter;
    if (key === 'config') options.config = value.string_param ?? '';
    else if (key.startsWith('file:')) {
      options.files ??= new Map();
      options.files.set(key.slice('file:'.length), value.bytes_param ?? new Uint8Array(0));
    }
  }
  return options;
}
