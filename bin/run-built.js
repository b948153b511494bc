// Starts a command's compiled entry point, or says in one JSON line how to build it.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

/** `entry` is relative to this folder. */
export async function runBuilt(entry) {
  const url = new URL(entry, import.meta.url);
  if (existsSync(url)) return import(url.href);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const msg = `tsserve is not built (npm ci runs no scripts): run \`npm run build\` in ${root}, then this command again`;
  process.stdout.write(`${JSON.stringify({ level: 60, time: Date.now(), service: 'tsserve', msg })}\n`);
  process.exit(1);
}
