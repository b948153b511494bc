/**
 * s3:// through @aws-sdk/client-s3 against a stand-in S3 endpoint on 127.0.0.1: prefix semantics
 * (kserve#3776, #4120), credentials and addressing, STORAGE_CONFIG, patterns, concurrency, and
 * the failures: 403, 404, empty prefix, 5xx, a reset mid-file, a checksum mismatch, unsafe keys.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoPath } from './helpers/server.js';
import { S3StandIn } from './helpers/stand-ins/s3-server.js';
import { download, downloadError, readTree, removeTempDirs, tempDir } from './helpers/storage.js';

const KEY = { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'not-logged-secret', AWS_REGION: 'us-west-2' };

describe('s3:// sources', () => {
  let s3: S3StandIn;
  let env: Record<string, string>;
  const big = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) & 255));

  before(async () => {
    s3 = await new S3StandIn({ accessKeys: ['AKIDTEST', 'AKCONFIG'], publicBuckets: ['public'], pageSize: 2 }).start();
    env = { ...KEY, AWS_ENDPOINT_URL: s3.url };
    s3.put('models', 'model/config.json', '{"a":1}');
    s3.put('models', 'model/1/model.onnx', 'weights-v1');
    s3.put('models', 'model/checkpoints/epoch/model.ckpt', 'ckpt');
    s3.put('models', 'model/', ''); // a console-made folder marker
    s3.put('models', 'model/code/__init__.py', ''); // empty files are kept (KServe skips them)
    s3.put('models', 'model-v2/config.json', 'sibling');
    s3.put('models', 'model-logs', 'sibling file');
    s3.put('models', 'single/model.onnx', 'one file');
    s3.put('models', 'big.bin', big);
    s3.put('models', 'evil/../../escape.txt', 'x');
    s3.put('models', 'empty-marker/', '');
    s3.put('public', 'm/model.onnx', 'public weights');
  });
  after(async () => {
    await s3.close();
    await removeTempDirs();
  });

  test('a prefix is a folder: nested keys keep their sub-paths and sibling prefixes are never pulled', async () => {
    const dest = await tempDir();
    const result = await download('s3://models/model', dest, env);
    assert.deepEqual(await readTree(dest), {
      '1/model.onnx': 'weights-v1',
      'checkpoints/epoch/model.ckpt': 'ckpt',
      'code/__init__.py': '',
      'config.json': '{"a":1}',
    });
    assert.equal(result.files, 4);
    assert.equal(result.bytes, 7 + 10 + 4);
    const lists = s3.requests.filter((r) => r.url.includes('list-type=2') && r.url.includes('prefix=model%2F'));
    assert.ok(lists.length >= 2, 'the 2-key pages were followed');
    assert.ok(lists.some((r) => r.url.includes('continuation-token=')));
  });

  test('a trailing slash and the bucket root list as folders too', async () => {
    const dest = await tempDir();
    await download('s3://models/model/', dest, env);
    assert.deepEqual(Object.keys(await readTree(dest)), [
      '1/model.onnx',
      'checkpoints/epoch/model.ckpt',
      'code/__init__.py',
      'config.json',
    ]);
    const root = await tempDir();
    await download('s3://public', root, { AWS_ENDPOINT_URL: s3.url, awsAnonymousCredential: 'true' });
    assert.deepEqual(await readTree(root), { 'm/model.onnx': 'public weights' });
  });

  test('an exact object key downloads that one file under its own name', async () => {
    const dest = await tempDir();
    await download('s3://models/single/model.onnx', dest, env);
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'one file' });
    const dest2 = await tempDir();
    await download('s3://models/model-logs', dest2, env);
    assert.deepEqual(await readTree(dest2), { 'model-logs': 'sibling file' });
  });

  test('requests are SigV4-signed with the given key, region and session token, path-style', async () => {
    s3.requests.length = 0;
    const dest = await tempDir();
    await download('s3://models/single', dest, { ...env, AWS_SESSION_TOKEN: 'session-tok' });
    assert.ok(s3.requests.length >= 2);
    for (const r of s3.requests) {
      assert.match(
        r.headers.authorization ?? '',
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-west-2\/s3\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/,
      );
      assert.equal(r.headers['x-amz-security-token'], 'session-tok');
      assert.ok(r.headers['x-amz-date']);
      assert.match(r.url, /^\/models\//, 'path-style addressing for a custom endpoint');
      assert.equal(r.headers.host, `127.0.0.1:${s3.port}`);
    }
  });

  test('S3_ENDPOINT with S3_USE_HTTPS=0 (what the KServe controller sets) reaches the endpoint over http', async () => {
    const dest = await tempDir();
    await download('s3://models/single', dest, { ...KEY, S3_ENDPOINT: `127.0.0.1:${s3.port}`, S3_USE_HTTPS: '0' });
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'one file' });
  });

  test('awsAnonymousCredential=true sends unsigned requests', async () => {
    s3.requests.length = 0;
    const dest = await tempDir();
    await download('s3://public/m', dest, { AWS_ENDPOINT_URL: s3.url, awsAnonymousCredential: 'true' });
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'public weights' });
    assert.ok(s3.requests.length >= 2);
    assert.ok(s3.requests.every((r) => r.headers.authorization === undefined));
  });

  test('STORAGE_CONFIG (the storage-config secret) supplies endpoint, keys and region; STORAGE_OVERRIDE_CONFIG wins', async () => {
    s3.requests.length = 0;
    const dest = await tempDir();
    const config = {
      type: 's3',
      access_key_id: 'AKCONFIG',
      secret_access_key: 's',
      endpoint_url: s3.url,
      region: 'eu-west-1',
      bucket: 'models',
    };
    await download('s3://models/single', dest, {
      ...env,
      STORAGE_CONFIG: JSON.stringify(config),
      STORAGE_OVERRIDE_CONFIG: '{"region":"ap-south-1"}',
    });
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'one file' });
    assert.ok(s3.requests.every((r) => /Credential=AKCONFIG\/\d{8}\/ap-south-1\/s3\//.test(r.headers.authorization ?? '')));
    const bad = await downloadError('s3://models/single', await tempDir(), { STORAGE_CONFIG: '{"type": "s3",' });
    assert.equal(bad.code, 'CONFIG');
    assert.match(bad.message, /STORAGE_CONFIG is not valid JSON/);
  });

  test('allow and ignore patterns (fnmatch on the relative path)', async () => {
    const dest = await tempDir();
    await download('s3://models/model', dest, {
      ...env,
      STORAGE_ALLOW_PATTERNS: '["*.ckpt", "*.json", "1/*"]',
      STORAGE_IGNORE_PATTERNS: '1/*.onnx',
    });
    assert.deepEqual(await readTree(dest), { 'checkpoints/epoch/model.ckpt': 'ckpt', 'config.json': '{"a":1}' }, "fnmatch's * crosses /");
    const none = await downloadError('s3://models/model', await tempDir(), { ...env, STORAGE_ALLOW_PATTERNS: '*.gguf' });
    assert.equal(none.code, 'NOT_FOUND');
    assert.match(none.message, /No file in s3:\/\/models\/model matches STORAGE_ALLOW_PATTERNS/);
  });

  test('a wrong key is a 403 that fails at once with the reason, without retrying', async () => {
    s3.requests.length = 0;
    const error = await downloadError('s3://models/model', await tempDir(), { ...env, AWS_ACCESS_KEY_ID: 'AKWRONG' });
    assert.equal(error.code, 'ACCESS_DENIED');
    assert.match(error.message, /access denied to s3:\/\/models\/model \(HTTP 403: InvalidAccessKeyId/);
    assert.equal(s3.requests.length, 1);
    assert.doesNotMatch(error.message, /not-logged-secret/);
  });

  test('a missing bucket, a missing prefix and an empty prefix are "not found"', async () => {
    const bucket = await downloadError('s3://nobucket/model', await tempDir(), env);
    assert.equal(bucket.code, 'NOT_FOUND');
    const missing = await downloadError('s3://models/nothing-here', await tempDir(), env);
    assert.equal(missing.code, 'NOT_FOUND');
    assert.equal(
      missing.message,
      "No model found in s3://models/nothing-here: no object with that key and no objects under 'nothing-here/'",
    );
    const empty = await downloadError('s3://models/empty-marker/', await tempDir(), env);
    assert.equal(empty.code, 'NOT_FOUND');
    assert.equal(empty.message, 'Failed to fetch model. No model found in s3://models/empty-marker/.');
  });

  test('a key that climbs out of the prefix is refused before anything is written', async () => {
    const dest = await tempDir();
    const error = await downloadError('s3://models/evil', dest, env);
    assert.equal(error.code, 'UNSAFE_PATH');
    assert.match(error.message, /refusing key s3:\/\/models\/evil\/\.\.\/\.\.\/escape\.txt/);
    assert.deepEqual(await readdir(dest), []);
  });

  test('5xx answers are retried until the file arrives', async () => {
    s3.faults.set('models/single/model.onnx', { status: { code: 503, times: 2 } });
    s3.requests.length = 0;
    const dest = await tempDir();
    await download('s3://models/single', dest, { ...env, STORAGE_MAX_ATTEMPTS: '3' });
    assert.deepEqual(await readTree(dest), { 'model.onnx': 'one file' });
    assert.equal(s3.requests.filter((r) => r.url.startsWith('/models/single/model.onnx')).length, 3);
    s3.faults.delete('models/single/model.onnx');
  });

  test('a connection reset mid-file resumes with a Range request and the MD5 still checks out', async () => {
    s3.faults.set('models/big.bin', { resetAfter: { bytes: 1024 * 1024 + 5, times: 1 } });
    s3.requests.length = 0;
    const dest = await tempDir();
    await download('s3://models/big.bin', dest, env);
    const got = await readFile(join(dest, 'big.bin'));
    assert.equal(createHash('md5').update(got).digest('hex'), createHash('md5').update(big).digest('hex'));
    const gets = s3.requests.filter((r) => r.url.startsWith('/models/big.bin?'));
    assert.equal(gets.length, 2);
    assert.equal(gets[0]!.headers.range, undefined);
    assert.match(gets[1]!.headers.range ?? '', /^bytes=(\d+)-$/);
    assert.ok(Number(/\d+/.exec(gets[1]!.headers.range!)![0]) > 0, 'resumed past the bytes already on disk');
    assert.equal(gets[1]!.headers['if-match'], `"${createHash('md5').update(big).digest('hex')}"`);
  });

  test('a crashed download leaves only the hidden staging folder, and a rerun resumes it', async () => {
    s3.faults.set('models/big.bin', { resetAfter: { bytes: 2 * 1024 * 1024, times: 1 } });
    const dest = await tempDir();
    const error = await downloadError('s3://models/big.bin', dest, { ...env, STORAGE_MAX_ATTEMPTS: '1' });
    assert.equal(error.code, 'TRANSIENT');
    assert.deepEqual(await readdir(dest), ['.tsserve-download'], 'nothing looks complete');
    s3.requests.length = 0;
    await download('s3://models/big.bin', dest, env);
    assert.deepEqual(await readdir(dest), ['big.bin']);
    assert.ok((await readFile(join(dest, 'big.bin'))).equals(big));
    const get = s3.requests.find((r) => r.url.startsWith('/models/big.bin?'))!;
    assert.match(get.headers.range ?? '', /^bytes=\d+-$/, 'the rerun asked only for the missing bytes');
  });

  test('bytes that do not match the ETag MD5 fail as an integrity error and leave nothing behind', async () => {
    s3.faults.set('models/single/model.onnx', { corrupt: true });
    const dest = await tempDir();
    const error = await downloadError('s3://models/single', dest, { ...env, STORAGE_MAX_ATTEMPTS: '2' });
    s3.faults.delete('models/single/model.onnx');
    assert.equal(error.code, 'INTEGRITY');
    assert.match(
      error.message,
      /^s3:\/\/models\/single\/model\.onnx: md5 checksum mismatch \(expected [0-9a-f]{32}\) \(after 2 attempts\)$/,
    );
    assert.deepEqual(await readdir(dest), ['.tsserve-download']);
  });

  test('files download in parallel, at most STORAGE_MAX_CONCURRENCY at once', async () => {
    for (let i = 0; i < 8; i++) s3.put('models', `many/f${i}.bin`, `file ${i}`);
    s3.delayMs = 40;
    s3.maxInFlight = 0;
    const dest = await tempDir();
    await download('s3://models/many', dest, { ...env, STORAGE_MAX_CONCURRENCY: '3' });
    s3.delayMs = 0;
    assert.equal(Object.keys(await readTree(dest)).length, 8);
    assert.equal(s3.maxInFlight, 3);
  });
});

describe('s3:// over HTTPS with a private CA', () => {
  let s3: S3StandIn;
  const CERT = repoPath('test/fixtures/tls/cert.pem');
  before(async () => {
    s3 = await new S3StandIn({
      accessKeys: ['AKIDTEST'],
      tls: { cert: readFileSync(CERT), key: readFileSync(repoPath('test/fixtures/tls/key.pem')) },
    }).start();
    s3.put('secure', 'm/model.onnx', 'tls weights');
  });
  after(async () => {
    await s3.close();
    await removeTempDirs();
  });

  test('an untrusted certificate fails with the TLS reason; AWS_CA_BUNDLE or S3_VERIFY_SSL=0 make it work', async () => {
    const env = { ...KEY, AWS_ENDPOINT_URL: s3.url };
    const error = await downloadError('s3://secure/m', await tempDir(), env);
    assert.equal(error.code, 'FAILED');
    assert.match(error.message, /^s3:\/\/secure\/m: .*self[- ]signed certificate/);
    const trusted = await tempDir();
    await download('s3://secure/m', trusted, { ...env, AWS_CA_BUNDLE: CERT });
    assert.deepEqual(await readTree(trusted), { 'model.onnx': 'tls weights' });
    const unverified = await tempDir();
    await download('s3://secure/m', unverified, { ...env, S3_VERIFY_SSL: '0' });
    assert.deepEqual(await readTree(unverified), { 'model.onnx': 'tls weights' });
    const badBundle = await downloadError('s3://secure/m', await tempDir(), { ...env, AWS_CA_BUNDLE: '/no/such/ca.pem' });
    assert.equal(badBundle.code, 'CONFIG');
    assert.match(badBundle.message, /^AWS_CA_BUNDLE '\/no\/such\/ca\.pem' cannot be read: ENOENT/);
  });
});
