/**
 * The one rule a model name must meet, checked wherever a name enters the server (REST path,
 * gRPC message, OpenAI body) before it is looked up, loaded or echoed. A model is a folder of
 * the repository, so a name is what a folder can be called: at most 255 bytes (NAME_MAX), no
 * path separators, not `.` or `..`; control characters are refused as they would corrupt log
 * lines and metric labels.
 */
import { InvalidInputError } from './errors.js';

export const MAX_MODEL_NAME_BYTES = 255;
const SHOWN_CHARS = 64;

/** The name as an error message shows it: a long name is cut, control characters escaped. */
export function shownName(name: string): string {
  const cut = name.length > SHOWN_CHARS ? `${name.slice(0, SHOWN_CHARS)}...` : name;
  return JSON.stringify(cut).slice(1, -1);
}

function problem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_MODEL_NAME_BYTES) return `it is longer than ${MAX_MODEL_NAME_BYTES} bytes`;
  // Control characters are what this rule is for: eslint's no-control-regex guards against them by accident.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it holds a control character';
  if (/[/\\]/.test(name)) return "it holds '/' or '\\'";
  if (name === '.' || name === '..') return `'${name}' is not a folder name`;
  return undefined;
}

export class InvalidModelNameError extends InvalidInputError {
  constructor(name: string, why: string) {
    super(
      `invalid model name '${shownName(name)}': ${why}; a model name is 1 to ${MAX_MODEL_NAME_BYTES} bytes without '/', '\\' or control characters`,
    );
  }
}

/** Throws InvalidModelNameError unless `name` can name a model. */
export function checkModelName(name: string): void {
  const why = problem(name);
  if (why) throw new InvalidModelNameError(name, why);
}
