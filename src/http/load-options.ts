/** A REST repository load request's parameters as load options: `config` JSON, `file:<path>` base64. */
import type { LoadOptions } from '../dataplane/data-plane.js';

export function loadOptions(parameters: Record<string, unknown>): LoadOptions {
  const options: LoadOptions = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key === 'config') options.config = value as object | string;
    else if (key.startsWith('file:')) {
      options.files ??= new Map();
      options.files.set(key.slice('file:'.length), typeof value === 'string' ? Buffer.from(value, 'base64') : new Uint8Array(0));
    }
  }
  return options;
}
