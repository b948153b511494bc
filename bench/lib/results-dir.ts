/**
 * Where a benchmark writes its report. Runs write to bench/out/ (git-ignored), so running a bench
 * never dirties the checkout; `--update-results` writes to bench/results/, the committed figures
 * the README quotes, and is meant for a quiet machine.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function resultsDir(argv: readonly string[] = process.argv): string {
  const dir = join(ROOT, 'bench', argv.includes('--update-results') ? 'results' : 'out');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The report file `name` in the results folder chosen by the command line. */
export function resultsFile(name: string, argv: readonly string[] = process.argv): string {
  return join(resultsDir(argv), name);
}
