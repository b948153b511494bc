/** One cgroup control file (cpu.max, memory.max, ...) as trimmed text, or undefined where there is none. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readCgroupFile(root: string, ...path: string[]): string | undefined {
  try {
    return readFileSync(join(root, ...path), 'utf8').trim();
  } catch {
    return undefined;
  }
}
