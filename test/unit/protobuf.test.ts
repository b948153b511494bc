/** The ONNX writer/reader's protobuf wire format, checked against protobufjs's encoder. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ProtoWriter, ProtobufError, WIRE_BYTES, WIRE_VARINT, readFields, stringOf, stringsOf } from '../../runtimes/onnx-ml/protobuf.js';

const tag = (field: number, wire: number) => ((field << 3) | wire) >>> 0;

describe('protobuf writer and reader', () => {
  it('writes varints, floats, strings, bytes and packed fields as protobufjs does', () => {
    const ours = new ProtoWriter(4)
      .int(1, 150)
      .int(2, 2 ** 40)
      .float(3, 1.5)
      .string(4, 'héllo')
      .bytes(5, new Uint8Array([1, 2, 3]))
      .packedVarints(6, [1, 300, 0])
      .packedFloats(7, [0.25, -2])
      .finish();
    const w = protobuf.Writer.create();
    w.uint32(tag(1, 0)).uint64(150);
    w.uint32(tag(2, 0)).uint64(2 ** 40);
    w.uint32(tag(3, 5)).float(1.5);
    w.uint32(tag(4, 2)).string('héllo');
    w.uint32(tag(5, 2)).bytes(new Uint8Array([1, 2, 3]));
    w.uint32(tag(6, 2)).fork().uint64(1).uint64(300).uint64(0).ldelim();
    w.uint32(tag(7, 2)).fork().float(0.25).float(-2).ldelim();
    assert.deepEqual(Buffer.from(ours), Buffer.from(w.finish()));
  });

  it('reads back the fields it wrote, in order', () => {
    const inner = new ProtoWriter().string(1, 'a').finish();
    const bytes = new ProtoWriter().int(1, 7).string(2, 'x').string(2, 'y').bytes(3, inner).finish();
    const fields = readFields(bytes);
    assert.deepEqual(
      fields.map((f) => [f.field, f.wire]),
      [
        [1, WIRE_VARINT],
        [2, WIRE_BYTES],
        [2, WIRE_BYTES],
        [3, WIRE_BYTES],
      ],
    );
    assert.equal(fields[0]!.value, 7);
    assert.deepEqual(stringsOf(fields, 2), ['x', 'y']);
    assert.equal(stringOf(readFields(fields[3]!.payload!), 1), 'a');
  });

  it('refuses truncated input with a ProtobufError', () => {
    const bytes = new ProtoWriter().string(1, 'hello').finish();
    assert.throws(() => readFields(bytes.subarray(0, bytes.length - 1)), ProtobufError);
    assert.throws(() => readFields(new Uint8Array([0x08, 0x80])), /truncated varint/);
  });
});
