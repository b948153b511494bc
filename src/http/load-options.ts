/** A REST repository load request's parameters as load options: `config` JSON, `file:<path>` base64. */
import { InvalidInputError } from '../core/errors.js';
import type { LoadOptions } from '../dataplane/data-plane.js';

export function loadOptions(parameters: Record<string, unknown>): LoadOptions {
  const options: LoadOptions = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key === 'config') options.config = value as object | string;
    else if (key.startsWith('file:')) {
      options.files ??= new Map();
      if (typeof value !== 'string') throw new InvalidInputError(`load parameter '${key}' must be the file's content as a base64 string`);
      options.files.set(key.slice('file:'.length), Buffer.from(value, 'base64'));
    }
  }
  return options;
}
