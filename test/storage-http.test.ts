/**
 * http(s):// files and archives, and file:// / local paths. Archives are unpacked when one file
 * arrives; entries that would escape the destination (zip-slip, absolute names, outside links,
 * devices) refuse the whole archive, and a corrupt one fails with KServe's message.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTar, makeZip } from './helpers/archives.js';
import { HttpFileStandIn } from './helpers/stand-ins/http-file-server.js';
import { download, downloadError, readTree, removeTempDirs, tempDir } from './helpers/storage.js';

const MODEL = [
  { path: 'model/', type: 'dir' as const },
  { path: 'model/config.pbtxt', data: 'platform: "onnxruntime_onnx"' },
  { path: 'model/1/model.onnx', data: 'onnx' },
  { path: 'model/current', type: 'symlink' as const, link: '1' },
];
const EXPECTED = { 'model/1/model.onnx': 'onnx', 'model/config.pbtxt': 'platform: "onnxruntime_onnx"', 'model/current': '-> link' };

describe('http(s):// and local sources', () => {
  let web: HttpFileStandIn;
  const big = Buffer.alloc(3 * 1024 * 1024, 'http-bytes');

  before(async () => {
    web = await new HttpFileStandIn().start();
    web.put('/files/model.onnx', 'plain file');
    web.put('/files/big.bin', big);
    web.put('/a/model.tar', makeTar(MODEL), 'application/x-tar');
    web.put('/a/model.tar.gz', makeTar(MODEL, { gzip: true }), 'application/gzip');
    web.put('/a/model.tgz', makeTar(MODEL, { gzip: true }), 'application/gzip');
    web.put('/a/model.zip', makeZip(MODEL), 'application/zip');
    web.put(
      '/bad/slip.zip',
      makeZip([
        { path: 'ok.txt', data: 'ok' },
        { path: '../../evil.txt', data: 'evil' },
      ]),
    );
    web.put(
      '/bad/slip.tar',
      makeTar([
        { path: 'ok.txt', data: 'ok' },
        { path: '../evil.txt', data: 'evil' },
      ]),
    );
    web.put('/bad/absolute.tar', makeTar([{ path: '/tmp/tsserve-evil.txt', data: 'evil' }]));
    web.put('/bad/absolute.zip', makeZip([{ path: '/tmp/tsserve-evil.txt', data: 'evil' }]));
    web.put('/bad/link.tar', makeTar([{ path: 'etc', type: 'symlink', link: '../../../etc' }]));
    web.put('/bad/abslink.tar', makeTar([{ path: 'passwd', type: 'symlink', link: '/etc/passwd' }]));
    web.put('/bad/hardlink.tar', makeTar([{ path: 'passwd', type: 'hardlink', link: '../../etc/passwd' }]));
    web.put('/bad/link.zip', makeZip([{ path: 'up', type: 'symlink', link: '..' }]));
    web.put(
      '/bad/through-link.zip',
      makeZip([
        { path: 'here', type: 'symlink', link: '.' },
        { path: 'here/x.txt', data: 'x' },
      ]),
    );
    web.put('/bad/device.tar', makeTar([{ path: 'null', type: 'chardev' }]));
    web.put('/bad/corrupt.tar.gz', Buffer.from('this is not gzip at all, just text'));
    web.put('/bad/truncated.tgz', makeTar(MODEL, { gzip: true }).subarray(0, 40));
    web.put('/bad/corrupt.zip', Buffer.from('PK\u0003\u0004 not really a zip'));
    web.put('/login.html', '<html>sign in</html>', 'text/html');
  });
  after(async () => {
    await web.close();
    await removeTempDirs();
  });

  test('a plain file downloads under its own name', async () => {
    const dest = await tempDir();
    await download(`${web.url}/files/model.onnx`, dest, {});
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'plain file' });
  });

  for (const name of ['model.tar', 'model.tar.gz', 'model.tgz', 'model.zip']) {
    test(`${name} is unpacked in place of the archive, links inside it kept`, async () => {
      const dest = await tempDir();
      await download(`${web.url}/a/${name}`, dest, {});
      assert.deepEqual(await readTree(dest), EXPECTED);
      assert.equal(await readlink(join(dest, 'model/current')), '1');
    });
  }

  const refused: Array<[string, RegExp]> = [
    ['slip.zip', /^refusing archive slip\.zip: invalid relative path: \.\.\/\.\.\/evil\.txt$/],
    ['slip.tar', /refusing entry in archive slip\.tar '\.\.\/evil\.txt': it would land outside the destination folder/],
    ['absolute.tar', /refusing entry in archive absolute\.tar '\/tmp\/tsserve-evil\.txt'/],
    ['absolute.zip', /^refusing archive absolute\.zip: absolute path: \/tmp\/tsserve-evil\.txt$/],
    ['link.tar', /refusing symlink 'etc' -> '\.\.\/\.\.\/\.\.\/etc' in archive link\.tar: it points outside the destination folder/],
    ['abslink.tar', /refusing symlink 'passwd' -> '\/etc\/passwd'/],
    ['hardlink.tar', /refusing hard link target in archive hardlink\.tar '\.\.\/\.\.\/etc\/passwd'/],
    ['link.zip', /refusing symlink 'up' -> '\.\.' in archive link\.zip/],
    ['through-link.zip', /refusing 'here\/x\.txt' in archive through-link\.zip: it would be written through the symlink 'here'/],
    ['device.tar', /refusing CharacterDevice 'null' in archive device\.tar/],
  ];
  for (const [name, message] of refused) {
    test(`${name} is refused whole, nothing extracted`, async () => {
      const dest = await tempDir();
      const error = await downloadError(`${web.url}/bad/${name}`, dest, {});
      assert.equal(error.code, 'UNSAFE_PATH');
      assert.match(error.message, message);
      assert.deepEqual(await readdir(dest), []);
    });
  }

  for (const name of ['corrupt.tar.gz', 'truncated.tgz', 'corrupt.zip']) {
    test(`${name} fails as an invalid archive`, async () => {
      const dest = await tempDir();
      const error = await downloadError(`${web.url}/bad/${name}`, dest, {});
      assert.equal(error.code, 'ARCHIVE');
      assert.match(
        error.message,
        new RegExp(`^Failed to unpack archive ${name.replace('.', '\\.')}\\. The file format is not valid \\(.+\\)$`),
      );
      assert.deepEqual(await readdir(dest), []);
    });
  }

  test('headers from <hostname>-headers are sent; a 403 without them is access denied', async () => {
    web.requiredHeader = ['x-api-key', 'k-123'];
    try {
      const denied = await downloadError(`${web.url}/files/model.onnx`, await tempDir(), {});
      assert.equal(denied.code, 'ACCESS_DENIED');
      const dest = await tempDir();
      await download(`${web.url}/files/model.onnx`, dest, { '127.0.0.1-headers': '{"x-api-key": "k-123"}' });
      assert.deepEqual(await readTree(dest), { 'model.onnx': 'plain file' });
    } finally {
      web.requiredHeader = undefined;
    }
  });

  test('404 is not found; an HTML page is not taken for a model', async () => {
    const missing = await downloadError(`${web.url}/files/none.onnx`, await tempDir(), {});
    assert.equal(missing.code, 'NOT_FOUND');
    const html = await downloadError(`${web.url}/login.html`, await tempDir(), {});
    assert.equal(html.message, `${web.url}/login.html answered an HTML page (Content-Type text/html), not a model file`);
  });

  test('a reset mid-file resumes with Range and If-Range', async () => {
    web.faults.set('/files/big.bin', { resetAfter: { bytes: 1_000_000, times: 1 } });
    web.requests.length = 0;
    const dest = await tempDir();
    await download(`${web.url}/files/big.bin`, dest, {});
    assert.ok((await readFile(join(dest, 'big.bin'))).equals(big));
    assert.equal(web.requests.length, 2);
    assert.match(web.requests[1]!.headers.range ?? '', /^bytes=[1-9]\d*-$/);
    assert.ok(web.requests[1]!.headers['if-range']);
  });

  test('a rerun after a crash starts the file over (no ETag proves it unchanged); credentials never reach the disk', async () => {
    web.faults.set('/files/big.bin', { resetAfter: { bytes: 1_000_000, times: 1 } });
    const dest = await tempDir();
    const url = `http://user:hunter2@127.0.0.1:${web.port}/files/big.bin`;
    const error = await downloadError(url, dest, { STORAGE_MAX_ATTEMPTS: '1' });
    assert.equal(error.code, 'TRANSIENT');
    const index = await readFile(join(dest, '.tsserve-download/parts/index.json'), 'utf8');
    assert.doesNotMatch(index, /hunter2|127\.0\.0\.1/);
    web.requests.length = 0;
    await download(url, dest, {});
    assert.ok((await readFile(join(dest, 'big.bin'))).equals(big));
    assert.equal(web.requests.length, 1);
    assert.equal(web.requests[0]!.headers.range, undefined);
  });

  test('a server that ignores Range restarts the file from zero and still gets it right', async () => {
    web.faults.set('/files/big.bin', { resetAfter: { bytes: 1_000_000, times: 1 }, ignoreRange: true });
    const dest = await tempDir();
    await download(`${web.url}/files/big.bin`, dest, {});
    web.faults.delete('/files/big.bin');
    assert.ok((await readFile(join(dest, 'big.bin'))).equals(big));
  });

  test('file:// and local paths are linked into dest, top-level entries or (with patterns) each file', async () => {
    const src = await tempDir();
    await mkdir(join(src, 'm/1'), { recursive: true });
    await writeFile(join(src, 'm/1/model.onnx'), 'local');
    await writeFile(join(src, 'm/notes.md'), 'notes');
    const dest = await tempDir();
    await download(`file://${src}/m`, dest, {});
    assert.deepEqual((await readdir(dest)).sort(), ['1', 'notes.md']);
    assert.ok((await lstat(join(dest, '1'))).isSymbolicLink());
    assert.equal(await readFile(join(dest, '1/model.onnx'), 'utf8'), 'local');
    const filtered = await tempDir();
    await download(join(src, 'm'), filtered, { STORAGE_IGNORE_PATTERNS: '*.md' });
    assert.deepEqual(await readTree(filtered), { '1/model.onnx': '-> link' });
    const missing = await downloadError('file:///no/such/model', await tempDir(), {});
    assert.equal(missing.code, 'NOT_FOUND');
  });

  test('an unknown scheme is refused with the list of supported ones', async () => {
    const error = await downloadError('ftp://host/model', await tempDir(), {});
    assert.equal(error.code, 'INVALID_URI');
    assert.equal(
      error.message,
      "Cannot recognize storage type for 'ftp://host/model': expected gs://, s3://, hf://, http(s)://, file:// or a local path",
    );
  });
});
