/**
 * http(s) downloads that are redirected or cannot connect, through the storage-initializer
 * command: `<hostname>-headers` and URL credentials reach only the origin they were meant for,
 * a redirect loop says so, and a connection that fails says why (the cause under `fetch failed`)
 * in the JSON log line and the exit message.
 */
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readTree, removeTempDirs, runCommand, tempDir } from './helpers/storage.js';

const CLI = 'src/storage/cli.js';

/** A server that answers each path with a redirect or a file, and records what it was sent. */
async function origin(routes: Record<string, string | ((base: string) => string)>) {
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, headers: req.headers });
    const route = routes[path];
    if (route === undefined) return void res.writeHead(404).end();
    if (typeof route === 'string') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(route);
    res.writeHead(302, { location: route(base) }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return { base, port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('storage initializer: redirects and connection failures', () => {
  let a: Awaited<ReturnType<typeof origin>>;
  let b: Awaited<ReturnType<typeof origin>>;
  before(async () => {
    b = await origin({ '/model.onnx': 'bytes from b' });
    a = await origin({
      '/elsewhere/model.onnx': () => `http://localhost:${b.port}/model.onnx`,
      '/here/model.onnx': (base) => `${base}/model.onnx`,
      '/model.onnx': 'bytes from a',
      '/loop/model.onnx': () => '/loop/model.onnx',
    });
  });
  after(async () => {
    await a.close();
    await b.close();
    await removeTempDirs();
  });

  test("a redirect to another origin carries neither the first host's headers nor its credentials", async () => {
    const dest = await tempDir();
    const url = `http://user:pw@127.0.0.1:${a.port}/elsewhere/model.onnx`;
    const run = await runCommand(CLI, [url, dest], {
      '127.0.0.1-headers': '{"x-api-key": "key-for-a"}',
      'localhost-headers': '{"x-api-key": "key-for-b"}',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'bytes from b' });
    const atA = a.seen.find((r) => r.path === '/elsewhere/model.onnx')!;
    assert.equal(atA.headers['x-api-key'], 'key-for-a');
    assert.match(atA.headers.authorization ?? '', /^Basic /);
    const atB = b.seen.at(-1)!;
    assert.equal(atB.headers['x-api-key'], 'key-for-b', 'the redirect target gets the headers configured for its own hostname');
    assert.equal(atB.headers.authorization, undefined);
  });

  test('a redirect within the same origin keeps the headers', async () => {
    const dest = await tempDir();
    a.seen.length = 0;
    const run = await runCommand(CLI, [`${a.base}/here/model.onnx`, dest], { '127.0.0.1-headers': '{"x-api-key": "key-for-a"}' });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'bytes from a' });
    assert.deepEqual(
      a.seen.map((r) => [r.path, r.headers['x-api-key']]),
      [
        ['/here/model.onnx', 'key-for-a'],
        ['/model.onnx', 'key-for-a'],
      ],
    );
  });

  test('a redirect loop says "too many redirects"', async () => {
    const run = await runCommand(CLI, [`${a.base}/loop/model.onnx`, await tempDir()], {});
    assert.equal(run.code, 1);
    assert.match(run.stderr, /too many redirects \(more than 20\)/);
    const line = JSON.parse(
      run.stdout
        .trim()
        .split('\n')
        .find((l) => l.includes('download failed'))!,
    );
    assert.match(line.error, /too many redirects/);
  });

  test('a refused connection and a TLS failure name their cause, not just "fetch failed"', async () => {
    const closed = await origin({});
    await closed.close(); // a port that was just free: nothing listens there now
    const refused = await runCommand(CLI, [`${closed.base}/model.onnx`, await tempDir()], { STORAGE_MAX_ATTEMPTS: '1' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /fetch failed: .*ECONNREFUSED 127\.0\.0\.1:\d+/);
    const logged = JSON.parse(
      refused.stdout
        .trim()
        .split('\n')
        .find((l) => l.includes('download failed'))!,
    );
    assert.match(logged.error, /ECONNREFUSED/);

    // https:// to a plain-HTTP port: the TLS handshake fails, and the message says how.
    const tls = await runCommand(CLI, [`https://127.0.0.1:${a.port}/model.onnx`, await tempDir()], { STORAGE_MAX_ATTEMPTS: '1' });
    assert.equal(tls.code, 1);
    assert.match(tls.stderr, /fetch failed: .*(SSL|TLS|ssl|tls)/);
  });
});
