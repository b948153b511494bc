/**
 * gs:// through @google-cloud/storage, pointed at a stand-in JSON API with STORAGE_EMULATOR_HOST:
 * prefix semantics, the single-object fallback, workload-identity credentials, anonymous access,
 * MD5 checks, a reset mid-file and the 401/404 failures.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ISSUED_TOKEN, GcsStandIn } from './helpers/stand-ins/gcs-server.js';
import { download, downloadError, readTree, removeTempDirs, tempDir } from './helpers/storage.js';

describe('gs:// sources', () => {
  let gcs: GcsStandIn;
  let privateGcs: GcsStandIn;
  const big = Buffer.alloc(2 * 1024 * 1024 + 17, 'gcs-bytes');

  before(async () => {
    gcs = await new GcsStandIn({ pageSize: 2 }).start();
    privateGcs = await new GcsStandIn({ requireAuth: true }).start();
    for (const store of [gcs, privateGcs]) {
      store.put('bucket', 'model/config.json', '{"g":1}');
      store.put('bucket', 'model/1/model.onnx', 'gcs-weights');
      store.put('bucket', 'model/deep/er/vocab.txt', 'vocab');
      store.put('bucket', 'model-v2/config.json', 'sibling');
      store.put('bucket', 'file.onnx', 'single');
      store.put('bucket', 'big.bin', big);
    }
  });
  after(async () => {
    await gcs.close();
    await privateGcs.close();
    await removeTempDirs();
  });

  test('a prefix is a folder with its sub-paths, without the sibling prefix; anonymous against the emulator', async () => {
    gcs.requests.length = 0;
    const dest = await tempDir();
    await download('gs://bucket/model', dest, { STORAGE_EMULATOR_HOST: gcs.url });
    assert.deepEqual(await readTree(dest), {
      '1/model.onnx': 'gcs-weights',
      'config.json': '{"g":1}',
      'deep/er/vocab.txt': 'vocab',
    });
    assert.ok(
      gcs.requests.some((r) => r.url.includes('pageToken=')),
      'followed the pages',
    );
    assert.ok(gcs.requests.every((r) => r.headers.authorization === undefined));
  });

  test('an object name downloads that one object', async () => {
    const dest = await tempDir();
    await download('gs://bucket/file.onnx', dest, { STORAGE_EMULATOR_HOST: gcs.url });
    assert.deepEqual(await readTree(dest), { 'file.onnx': 'single' });
  });

  test('GOOGLE_APPLICATION_CREDENTIALS (workload identity federation) is exchanged for a token sent on every call', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'subject-token'), 'k8s-service-account-jwt');
    const credentials = join(dir, 'credentials.json');
    await writeFile(
      credentials,
      JSON.stringify({
        type: 'external_account',
        audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/k8s',
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${privateGcs.url}/token`,
        credential_source: { file: join(dir, 'subject-token') },
      }),
    );
    const dest = await tempDir();
    await download('gs://bucket/model', dest, { STORAGE_EMULATOR_HOST: privateGcs.url, GOOGLE_APPLICATION_CREDENTIALS: credentials });
    assert.equal(Object.keys(await readTree(dest)).length, 3);
    assert.ok(privateGcs.tokenRequests.length >= 1);
    assert.equal(privateGcs.tokenRequests[0]!.get('subject_token'), 'k8s-service-account-jwt');
    const apiCalls = privateGcs.requests.filter((r) => r.url.startsWith('/storage/'));
    assert.ok(apiCalls.length >= 4);
    assert.ok(apiCalls.every((r) => r.headers.authorization === `Bearer ${ISSUED_TOKEN}`));
  });

  test('without credentials a private bucket answers 401: access denied', async () => {
    const error = await downloadError('gs://bucket/model', await tempDir(), { STORAGE_EMULATOR_HOST: privateGcs.url });
    assert.equal(error.code, 'ACCESS_DENIED');
    assert.match(error.message, /^access denied to gs:\/\/bucket\/model \(HTTP 401: .*storage\.objects\.list/);
  });

  test('a missing bucket or object is not found', async () => {
    const bucket = await downloadError('gs://nobucket/model', await tempDir(), { STORAGE_EMULATOR_HOST: gcs.url });
    assert.equal(bucket.code, 'NOT_FOUND');
    const object = await downloadError('gs://bucket/missing', await tempDir(), { STORAGE_EMULATOR_HOST: gcs.url });
    assert.equal(object.code, 'NOT_FOUND');
    assert.equal(object.message, "No model found in gs://bucket/missing: no object with that name and no objects under 'missing/'");
  });

  test('a reset mid-object (noticed by the read timeout: the client stalls) resumes from the bytes on disk', async () => {
    gcs.faults.set('bucket/big.bin', { resetAfter: { bytes: 1024 * 1024, times: 1 } });
    gcs.requests.length = 0;
    const dest = await tempDir();
    await download('gs://bucket/big.bin', dest, { STORAGE_EMULATOR_HOST: gcs.url, STORAGE_READ_TIMEOUT: '0.5' });
    assert.ok((await readFile(join(dest, 'big.bin'))).equals(big));
    const media = gcs.requests.filter((r) => r.url.includes('alt=media'));
    assert.equal(media.length, 2);
    assert.notEqual(media[1]!.headers.range, 'bytes=0-');
    assert.match(media[1]!.headers.range ?? '', /^bytes=[1-9]\d*-$/);
  });

  test('bytes that do not match md5Hash are an integrity error', async () => {
    gcs.faults.set('bucket/file.onnx', { corrupt: true });
    const dest = await tempDir();
    const error = await downloadError('gs://bucket/file.onnx', dest, { STORAGE_EMULATOR_HOST: gcs.url, STORAGE_MAX_ATTEMPTS: '2' });
    gcs.faults.delete('bucket/file.onnx');
    assert.equal(error.code, 'INTEGRITY');
    assert.match(error.message, /^gs:\/\/bucket\/file\.onnx: md5 checksum mismatch \(expected [0-9a-f]{32}\) \(after 2 attempts\)$/);
    assert.deepEqual(await readdir(dest), ['.tsserve-download']);
  });
});
