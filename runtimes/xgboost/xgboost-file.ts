/**
 * Reading an XGBoost model file into its JSON document. XGBoost itself tells the formats
 * apart by content, not by name: `{"` is JSON, `{` followed by a UBJSON marker is UBJSON, and
 * anything else is the deprecated binary format (`binf...`, or older headerless files), which
 * this server does not read.
 */
import { basename } from 'node:path';
import { ModelLoadError } from '../../src/core/runtime.js';
import { decodeUbjson } from './ubjson.js';

export type XgbJson = unknown;

export type XgbFormat = 'json' | 'ubjson' | 'legacy';

function firstNonSpace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[i]!)) i++;
  return bytes[i] ?? -1;
}

export function sniffXgboost(head: Uint8Array): XgbFormat {
  const first = firstNonSpace(head, 0);
  if (first !== 0x7b /* { */) return 'legacy';
  const start = head.indexOf(0x7b);
  return firstNonSpace(head, start + 1) === 0x22 /* " */ || firstNonSpace(head, start + 1) === 0x7d ? 'json' : 'ubjson';
}

export function legacyBinaryMessage(file: string): string {
  return (
    `'${file}' is in XGBoost's deprecated binary format, which tsserve does not read. ` +
    `Re-save it as JSON with XGBoost: bst = xgboost.Booster(model_file='${file}'); bst.save_model('model.json')`
  );
}

/**
 * XGBoost writes NaN and Infinity as bare words (a categorical split's condition is NaN),
 * which JSON.parse refuses: outside strings they become null (read as NaN) and 1e999.
 */
function parseJsonWithNonFinite(text: string): XgbJson {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!/NaN|Infinity/.test(text)) throw error;
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') out += c + (text[++i] ?? '');
      else {
        if (c === '"') inString = false;
        out += c;
      }
      continue;
    }
    if (c === '"') inString = true;
    if (text.startsWith('NaN', i)) {
      out += 'null';
      i += 2;
    } else if (text.startsWith('Infinity', i)) {
      out += '1e999';
      i += 7;
    } else out += c;
  }
  return JSON.parse(out);
}

export function parseXgboostFile(bytes: Uint8Array, path: string): XgbJson {
  const file = basename(path);
  const format = sniffXgboost(bytes.subarray(0, 64));
  if (format === 'legacy') throw new ModelLoadError(legacyBinaryMessage(file));
  try {
    return format === 'json' ? parseJsonWithNonFinite(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) : decodeUbjson(bytes);
  } catch (error) {
    throw new ModelLoadError(
      `'${file}' is not a valid XGBoost ${format === 'json' ? 'JSON' : 'UBJSON'} model: ${(error as Error).message}`,
    );
  }
}
