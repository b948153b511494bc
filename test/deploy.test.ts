/** deploy/ manifests validated against KServe's CRD schemas (../shared/kserve-crds). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { crdSchema, validate } from './helpers/crd-schema.js';
import { repoPath } from './helpers/server.js';

test('the ClusterStorageContainer is valid for KServe and follows the storage-initializer contract', () => {
  const manifest = parse(readFileSync(repoPath('deploy/cluster-storage-container.yaml'), 'utf8'));
  assert.equal(manifest.apiVersion, 'serving.kserve.io/v1alpha1');
  assert.equal(manifest.kind, 'ClusterStorageContainer');
  assert.deepEqual(validate(manifest, crdSchema('serving.kserve.io_clusterstoragecontainers.yaml', 'v1alpha1')), []);
  assert.equal(manifest.spec.container.name, 'storage-initializer', 'KServe requires this container name');
  assert.deepEqual(manifest.spec.container.command.slice(-1), ['/app/dist/src/storage/cli.js']);
  assert.equal(manifest.spec.container.args, undefined, 'KServe appends <src-uri> <dest-path> itself');
  const prefixes = manifest.spec.supportedUriFormats.map((f: { prefix?: string; regex?: string }) => f.prefix ?? f.regex);
  assert.deepEqual(prefixes, ['s3://', 'gs://', 'hf://', '^https?://']);
});

test('the validator catches what the API server would refuse', () => {
  const schema = crdSchema('serving.kserve.io_clusterstoragecontainers.yaml', 'v1alpha1');
  const bad = { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ClusterStorageContainer', spec: { container: { name: 1, imag: 'x' }, supportedUriFormat: [] } };
  assert.deepEqual(validate(bad, schema).sort(), [
    '$.spec.container.imag: unknown field',
    '$.spec.container.name: expected string, got integer',
    '$.spec.supportedUriFormat: unknown field',
    '$.spec.supportedUriFormats: required',
  ]);
});
