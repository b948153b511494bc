/** config.pbtxt read against proto/model_config.proto, checked once, and completed at load. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeModelConfig } from '../src/model-config/complete-config.js';
import { ModelConfigError, parseModelConfig } from '../src/model-config/model-config.js';

const METADATA = {
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 4] }],
  outputs: [{ name: 'y', datatype: 'BYTES' as const, shape: [-1] }],
};

function configError(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig(text),
    (error: Error) => error instanceof ModelConfigError && pattern.test(error.message),
  );
}

describe('parseModelConfig', () => {
  it('reads fields by their proto types: singular takes the last value, maps by key, enums by name', () => {
    const config = parseModelConfig(
      [
        'max_batch_size: 4',
        'max_batch_size: 8',
        'dynamic_batching { preferred_batch_size: [ 4, 2, 4 ] max_queue_delay_microseconds: 500 default_queue_policy { max_queue_size: 3 } }',
        'instance_group [ { count: 2 kind: KIND_CPU }, { count: 1 } ]',
        'parameters { key: "intra_op_thread_count" value: { string_value: "3" } }',
        'version_policy: { specific: { versions: [ 1, 3 ] } }',
        'sequence_batching { }', // outside the subset tsserve knows: left out, not an error
      ].join('\n'),
    );
    assert.equal(config.maxBatchSize, 8);
    assert.deepEqual(config.dynamicBatching, { maxQueueDelayUs: 500, preferredBatchSizes: [2, 4], maxQueueSize: 3, defaultTimeoutUs: 0 });
    assert.equal(config.instanceCount, 3);
    assert.deepEqual(config.device, { kind: 'cpu' });
    assert.equal(config.intraOpThreads, 3);
    assert.deepEqual(config.versionPolicy, { kind: 'specific', versions: [1, 3] });
    assert.deepEqual(config.proto['instance_group'], [{ count: 2, kind: 'KIND_CPU' }, { count: 1 }]);
    assert.equal('sequence_batching' in config.proto, false);
  });

  it('names the field and what it must be when a value is of the wrong kind', () => {
    configError('max_batch_size: "eight"', /'max_batch_size' must be an integer, got "eight"/);
    configError('max_batch_size: -1', /'max_batch_size' must be an integer >= 0, got -1/);
    configError(
      'instance_group [ { count: 1 kind: KIND_TPU } ]',
      /'instance_group\[0\]\.kind' must be one of KIND_AUTO, KIND_GPU, KIND_CPU, KIND_MODEL/,
    );
    configError('instance_group [ { count: 0 } ]', /'instance_group\[0\]\.count' must be an integer >= 1/);
    configError('dynamic_batching: 5', /'dynamic_batching' must be a message/);
    configError(
      'dynamic_batching { default_queue_policy { max_queue_size: -2 } }\nmax_batch_size: 2',
      /'dynamic_batching\.default_queue_policy\.max_queue_size' must be an integer >= 0/,
    );
    configError('dynamic_batching { }', /'dynamic_batching' needs 'max_batch_size' > 0/);
    configError('parameters { key: "a" }', /each 'parameters' entry needs a key and a value/);
    configError('max_batch_size: 2\n}', /config\.pbtxt: line 2/);
  });
});

describe('completeModelConfig', () => {
  const config = parseModelConfig(
    'max_batch_size: 8\noutput [ { name: "y" label_filename: "labels.txt" } ]\ninstance_group [ { count: 2 kind: KIND_GPU gpus: [ 1 ] } ]',
  );

  it('reports the instance groups as placed: KIND_GPU with the GPU id on CUDA', () => {
    const done = completeModelConfig({
      name: 'm',
      config,
      metadata: METADATA,
      instances: 2,
      placement: { executionProvider: 'cuda', deviceId: 1 },
    });
    assert.deepEqual(
      (done['instance_group'] as any[]).map((g) => [g.name, g.count, g.kind, g.gpus]),
      [['m_0', 2, 'KIND_GPU', [1]]],
    );
  });

  it('reports KIND_CPU on the CPU, and the model inputs and outputs without the batch dim', () => {
    const done = completeModelConfig({
      name: 'm',
      config,
      metadata: METADATA,
      instances: 2,
      placement: { executionProvider: 'cpu', deviceId: 0 },
    });
    assert.deepEqual(
      (done['instance_group'] as any[]).map((g) => [g.kind, g.gpus]),
      [['KIND_CPU', []]],
    );
    assert.deepEqual(
      (done['input'] as any[]).map((t) => [t.name, t.data_type, t.dims]),
      [['x', 'TYPE_FP32', [4]]],
    );
    assert.deepEqual(
      (done['output'] as any[]).map((t) => [t.name, t.data_type, t.dims, t.label_filename]),
      [['y', 'TYPE_STRING', [], 'labels.txt']],
    );
    assert.equal(done['max_batch_size'], 8);
    assert.deepEqual(done['version_policy'], { latest: { num_versions: 1 } });
  });
});
