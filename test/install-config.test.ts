/**
 * The install stays quiet and downloads nothing (`npm ci` itself is too slow for a test; the
 * committed config is checked instead). The project's .npmrc sets `ignore-scripts`, a key every
 * npm knows, so npm 10 and 11 run no install script: onnxruntime-node's postinstall would fetch
 * CUDA libraries from NuGet. package.json's `allowScripts` denies each one again for npm 11, which
 * reads it. Since no script runs at install, the project has none npm would run by itself, its
 * commands build first, and its bin files are committed rather than built.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoPath } from './helpers/server.js';

const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8'));

/** npm with no config inherited from an `npm test` around this test: the files alone count. */
async function npm(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return promisify(execFile)('npm', args, { cwd: repoPath(), env });
}

describe('install config', () => {
  it('.npmrc turns install scripts off with a key npm knows, and npm reads it without a warning', async () => {
    const { stdout, stderr } = await npm('config', 'get', 'ignore-scripts');
    assert.equal(stdout.trim(), 'true');
    assert.deepEqual(
      stderr.split('\n').filter((l) => /warn/i.test(l)),
      [],
      'npm warned about the project config',
    );
  });

  it('denies every install script of the lockfile again in allowScripts (read by npm 11)', () => {
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
      .sort();
    assert.ok(withScripts.includes('onnxruntime-node'), 'onnxruntime-node has its NuGet download script');
    assert.deepEqual(Object.keys(pkg.allowScripts).sort(), withScripts);
    for (const name of withScripts) assert.equal(pkg.allowScripts[name], false, name);
  });

  it('has no script that npm would run by itself (ignore-scripts would skip it silently)', () => {
    const lifecycle = /^(pre|post)|^(install|prepare|prepublish|prepack)$/;
    assert.deepEqual(
      Object.keys(pkg.scripts).filter((name) => lifecycle.test(name)),
      [],
    );
  });

  it('builds before it starts or tests, and links committed bin files', () => {
    for (const name of ['start', 'test']) assert.match(pkg.scripts[name], /^tsc -[pb] \. && /, name);
    for (const [command, file] of Object.entries(pkg.bin as Record<string, string>)) {
      assert.ok(!file.startsWith('dist/'), `${command} links ${file}, which npm ci does not build`);
      accessSync(repoPath(file), constants.X_OK);
    }
  });
});
