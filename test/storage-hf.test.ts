/**
 * hf:// through @huggingface/hub, pointed at a stand-in hub with HF_ENDPOINT: the recursive tree,
 * revisions, HF_TOKEN, sha256 (LFS) and git blob id checks, patterns, and the failures.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HfStandIn } from './helpers/stand-ins/hf-server.js';
import { download, downloadError, readTree, removeTempDirs, tempDir } from './helpers/storage.js';

describe('hf:// sources', () => {
  let hub: HfStandIn;
  let env: Record<string, string>;
  const weights = Buffer.alloc(1_500_000, 'safetensors');

  before(async () => {
    hub = await new HfStandIn({ token: 'hf_test_token', pageSize: 3 }).start();
    env = { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_test_token' };
    hub.put('org/model', 'config.json', '{"hidden_size":8}');
    hub.put('org/model', 'model.safetensors', weights, { lfs: true });
    hub.put('org/model', 'tokenizer/vocab.txt', 'a\nb\n');
    hub.put('org/model', 'onnx/model.onnx', 'onnx-bytes', { lfs: true });
    hub.put('org/bad-lfs', 'model.safetensors', 'bytes', { lfs: true, wrongDigest: true });
    hub.put('org/bad-git', 'config.json', '{}', { wrongDigest: true });
  });
  after(async () => {
    await hub.close();
    await removeTempDirs();
  });

  test('the whole repo tree arrives with its sub-paths, each request carrying HF_TOKEN', async () => {
    hub.requests.length = 0;
    const dest = await tempDir();
    const result = await download('hf://org/model', dest, env);
    const tree = await readTree(dest);
    assert.deepEqual(Object.keys(tree), ['config.json', 'model.safetensors', 'onnx/model.onnx', 'tokenizer/vocab.txt']);
    assert.equal(tree['config.json'], '{"hidden_size":8}');
    assert.ok((await readFile(join(dest, 'model.safetensors'))).equals(weights));
    assert.equal(result.bytes, 17 + weights.byteLength + 10 + 4);
    assert.ok(
      hub.requests.some((r) => r.url.includes('cursor=')),
      'followed the Link pages',
    );
    assert.ok(hub.requests.every((r) => r.headers.authorization === 'Bearer hf_test_token'));
    assert.ok(hub.requests.some((r) => r.url.startsWith('/api/models/org/model/tree/main?recursive=true')));
  });

  test('hf://owner/repo:revision asks for that revision', async () => {
    hub.requests.length = 0;
    const dest = await tempDir();
    await download('hf://org/model:v1.0', dest, { ...env, STORAGE_ALLOW_PATTERNS: 'config.json' });
    assert.deepEqual(await readTree(dest), { 'config.json': '{"hidden_size":8}' });
    assert.ok(hub.requests.some((r) => r.url.startsWith('/api/models/org/model/tree/v1.0?')));
    assert.ok(hub.requests.some((r) => r.url === '/org/model/resolve/v1.0/config.json'));
  });

  test('allow and ignore patterns; a pattern ending in / takes the folder', async () => {
    const dest = await tempDir();
    await download('hf://org/model', dest, {
      ...env,
      STORAGE_ALLOW_PATTERNS: '*.json,tokenizer/',
      STORAGE_IGNORE_PATTERNS: '*.safetensors',
    });
    assert.deepEqual(Object.keys(await readTree(dest)), ['config.json', 'tokenizer/vocab.txt']);
  });

  test('without the token the hub answers 401: access denied', async () => {
    const error = await downloadError('hf://org/model', await tempDir(), { HF_ENDPOINT: hub.url });
    assert.equal(error.code, 'ACCESS_DENIED');
    assert.match(error.message, /^access denied to hf:\/\/org\/model \(HTTP 401/);
  });

  test('a missing repo is not found; a malformed hf:// URI is refused', async () => {
    const missing = await downloadError('hf://org/missing', await tempDir(), env);
    assert.equal(missing.code, 'NOT_FOUND');
    const bad = await downloadError('hf://just-a-name', await tempDir(), env);
    assert.equal(bad.code, 'INVALID_URI');
    assert.equal(bad.message, "'hf://just-a-name' is not a Hugging Face repo: expected hf://owner/repo or hf://owner/repo:revision");
  });

  test('an LFS file whose bytes do not match its sha256 is an integrity error', async () => {
    const dest = await tempDir();
    const error = await downloadError('hf://org/bad-lfs', dest, { ...env, STORAGE_MAX_ATTEMPTS: '2' });
    assert.equal(error.code, 'INTEGRITY');
    assert.match(error.message, /^hf:\/\/org\/bad-lfs\/model\.safetensors: sha256 checksum mismatch/);
    assert.deepEqual(await readdir(dest), ['.tsserve-download']);
  });

  test('a plain git file is checked against its blob id', async () => {
    const error = await downloadError('hf://org/bad-git', await tempDir(), { ...env, STORAGE_MAX_ATTEMPTS: '1' });
    assert.equal(error.code, 'INTEGRITY');
    assert.match(error.message, /^hf:\/\/org\/bad-git\/config\.json: git-sha1 checksum mismatch/);
  });

  test('a 502 on the listing is retried', async () => {
    hub.faults.set('org/model/tree', { status: { code: 502, times: 2 } });
    const dest = await tempDir();
    await download('hf://org/model', dest, { ...env, STORAGE_ALLOW_PATTERNS: 'config.json', STORAGE_MAX_ATTEMPTS: '3' });
    assert.deepEqual(await readTree(dest), { 'config.json': '{"hidden_size":8}' });
    hub.faults.set('org/model/tree', { status: { code: 503, times: 5 } });
    const failed = await downloadError('hf://org/model', await tempDir(), { ...env, STORAGE_MAX_ATTEMPTS: '2' });
    hub.faults.delete('org/model/tree');
    assert.equal(failed.code, 'TRANSIENT');
    assert.match(failed.message, /^hf:\/\/org\/model: HTTP 503 .* \(after 2 attempts\)$/);
  });

  test('a 500 and a reset mid-file are retried; the resumed file still matches its sha256', async () => {
    hub.faults.set('org/model/model.safetensors', { status: { code: 500, times: 1 }, resetAfter: { bytes: 700_000, times: 1 } });
    hub.requests.length = 0;
    const dest = await tempDir();
    await download('hf://org/model', dest, { ...env, STORAGE_ALLOW_PATTERNS: '*.safetensors' });
    assert.ok((await readFile(join(dest, 'model.safetensors'))).equals(weights));
    const ranged = hub.requests.filter(
      (r) => r.url === '/org/model/resolve/main/model.safetensors' && /^bytes=[1-9]\d*-/.test(r.headers.range ?? ''),
    );
    assert.equal(ranged.length, 1, 'resumed once with a range');
  });
});
