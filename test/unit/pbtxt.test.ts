/** The config.pbtxt text-format parser: Triton's own example shapes, and errors that say where. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PbtxtSyntaxError, parsePbtxt } from '../../src/model-config/pbtxt.js';

describe('pbtxt parser', () => {
  it('parses scalars, repeated fields, lists, nested messages and comments', () => {
    const msg = parsePbtxt(`
      name: "resnet"   # a comment
      platform: 'onnxruntime_onnx'
      max_batch_size: 8
      input [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1 ] } ]
      instance_group { count: 2 kind: KIND_CPU }
      instance_group { count: 1, kind: KIND_GPU }
      dynamic_batching { preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 100 }
      parameters { key: "pooling" value { string_value: "cls" } }
    `);
    // Schema-less: every field is a list, as text format cannot tell repeated from singular.
    assert.deepEqual(msg, {
      name: ['resnet'],
      platform: ['onnxruntime_onnx'],
      max_batch_size: [8],
      input: [{ name: ['x'], data_type: ['TYPE_FP32'], dims: [3, -1] }],
      instance_group: [
        { count: [2], kind: ['KIND_CPU'] },
        { count: [1], kind: ['KIND_GPU'] },
      ],
      dynamic_batching: [{ preferred_batch_size: [2, 4], max_queue_delay_microseconds: [100] }],
      parameters: [{ key: ['pooling'], value: [{ string_value: ['cls'] }] }],
    });
  });

  it('names the line of a syntax error', () => {
    assert.throws(() => parsePbtxt('name: "a"\nmax_batch_size 8 {'), PbtxtSyntaxError);
    assert.throws(() => parsePbtxt('name: "unterminated'), PbtxtSyntaxError);
  });
});
