/** The v2 JSON tensor codec: nested or flat data in, flat JSON out, and errors that name the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/core/errors.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeJsonData, encodeJsonData, jsonValues } from '../../src/http/json-tensor.js';

describe('JSON tensor codec', () => {
  it('decodes nested and flat data into the typed array of the datatype', () => {
    assert.deepEqual(
      decodeJsonData(
        'FP32',
        [2, 2],
        [
          [1, 2],
          [3, 4.5],
        ],
        'input x',
      ),
      Float32Array.from([1, 2, 3, 4.5]),
    );
    assert.deepEqual(decodeJsonData('INT64', [3], [1, -2, 3], 'input x'), BigInt64Array.from([1n, -2n, 3n]));
    assert.deepEqual(decodeJsonData('BOOL', [2], [true, false], 'input x'), Uint8Array.from([1, 0]));
  });

  it('round-trips through encodeJsonData, NaN and infinities as null', () => {
    const tensor: Tensor = {
      name: 'y',
      datatype: 'FP32',
      shape: [3],
      data: Float32Array.from([0.5, Number.NaN, Number.POSITIVE_INFINITY]),
    };
    assert.deepEqual(JSON.parse(encodeJsonData(tensor)), [0.5, null, null]);
    assert.deepEqual(jsonValues(tensor), [0.5, null, null]);
    const bytes: Tensor = { name: 's', datatype: 'BYTES', shape: [2], data: decodeJsonData('BYTES', [2], ['a', 'héllo'], 'input s') };
    assert.deepEqual(JSON.parse(encodeJsonData(bytes)), ['a', 'héllo']);
  });

  it('names the input and what was expected when data does not fit', () => {
    assert.throws(
      () => decodeJsonData('FP32', [2, 2], [1, 2, 3], 'input x'),
      (e: unknown) => {
        assert.ok(e instanceof InvalidInputError);
        assert.match(e.message, /^input x: shape \[2,2\] needs 4 elements but 'data' holds 3/);
        return true;
      },
    );
    assert.throws(() => decodeJsonData('INT32', [1], ['seven'], 'input n'), /input n: element 0 of 'data' is "seven"/);
  });
});
