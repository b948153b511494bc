/**
 * STORAGE_ALLOW_PATTERNS / STORAGE_IGNORE_PATTERNS, with the semantics KServe's users already
 * write them in: Python's fnmatch on the file's path relative to the model root, where `*`
 * also crosses `/` (so `*.json` matches `sub/config.json`). A pattern ending in `/` matches
 * everything under that folder, as in huggingface_hub. minimatch/picomatch implement shell
 * globs, where `*` stops at `/`, so we translate fnmatch ourselves.
 */
import { StorageConfigError } from './errors.js';

export interface PathFilter {
  allow: string[];
  ignore: string[];
}

export function fnmatchToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      out += `[${set}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

function matchesAny(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => fnmatchToRegExp(p.endsWith('/') ? `${p}*` : p).test(path));
}

export function isIncluded(path: string, filter: PathFilter): boolean {
  if (filter.allow.length > 0 && !matchesAny(path, filter.allow)) return false;
  return !matchesAny(path, filter.ignore);
}

/** A JSON array of strings, or a comma-separated list, as KServe reads these variables. */
export function parsePatternList(name: string, raw: string | undefined): string[] {
  const text = raw?.trim() ?? '';
  if (text === '') return [];
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StorageConfigError(`${name} is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
      throw new StorageConfigError(`${name} must be a JSON array of strings or a comma-separated list`);
    }
    return parsed.filter((p) => p !== '');
  }
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}
