/**
 * Every v2 datatype through the HTTP API, on Identity models (test/fixtures/dtypes/<name>, input
 * `x`, output `y`, shape [-1,-1]): JSON and binary tensor data in both directions, the raw
 * single-input body, bodies without a Content-Type, compressed bodies, and datatype errors.
 * Expected values are computed here, independently of the server's own codecs.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { CASES, type Case, type Value, encode, halfBitsOf, halfValue, nearestHalf } from './helpers/dtype-cases.js';
import { type InferReply, type TestServer, binaryBody, postBody, repoPath, startTestServer } from './helpers/server.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer(repoPath('test/fixtures/dtypes'));
});

after(async () => {
  await srv?.close();
});

const nested = (flat: readonly unknown[]) => [flat.slice(0, 2), flat.slice(2, 4)];

// ---------------------------------------------------------------------------------------------
// HTTP helpers

function inferUrl(model: string): string {
  return `${srv.url}/v2/models/${model}/infer`;
}

type Reply = InferReply;

function send(model: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Reply> {
  return postBody(inferUrl(model), body, headers);
}

function sendJson(model: string, request: unknown): Promise<Reply> {
  return send(model, JSON.stringify(request), { 'content-type': 'application/json' });
}

function sendBinary(model: string, header: unknown, ...parts: Uint8Array[]): Promise<Reply> {
  const { body, headerLength } = binaryBody(header, ...parts);
  return send(model, body, {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(headerLength),
  });
}

/** The raw JSON text of the first output's `data` array (needed for exact 64-bit integers). */
function rawDataTokens(text: string): string[] {
  const m = /"data"\s*:\s*\[([^\]]*)\]/.exec(text);
  assert.ok(m, `no numeric data array in ${text}`);
  return m[1]!.split(',').map((t) => t.trim());
}

/** Asserts that a JSON reply carries exactly `expected` for output y. */
function assertJsonOutput(reply: Reply, c: Case, shape: number[], expected: readonly Value[] = c.expected): void {
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(reply.headers.get('inference-header-content-length'), null);
  assert.equal(reply.json.model_name, c.model);
  assert.equal(reply.json.model_version, '1');
  assert.equal(reply.json.outputs.length, 1);
  const out = reply.json.outputs[0];
  assert.equal(out.name, 'y');
  assert.equal(out.datatype, c.datatype);
  assert.deepEqual(out.shape, shape);
  assert.equal(out.parameters?.binary_data_size, undefined);
  if (c.datatype === 'INT64' || c.datatype === 'UINT64') {
    // JSON.parse would round these; read the tokens of the body text itself. They must be
    // bare JSON numbers (no quotes), exact to the last digit.
    const tokens = rawDataTokens(reply.text);
    assert.deepEqual(
      tokens,
      expected.map((v) => BigInt(v).toString()),
    );
  } else {
    assert.deepEqual(out.data, expected);
  }
}

/** Asserts that a binary reply carries `raw` for output y. */
function assertBinaryOutput(reply: Reply, c: Case, shape: number[], raw: Buffer): void {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('content-type'), 'application/octet-stream');
  const h = reply.headers.get('inference-header-content-length');
  assert.ok(h !== null, 'Inference-Header-Content-Length is missing');
  assert.equal(Buffer.byteLength(reply.text), Number(h));
  assert.equal(reply.json.model_name, c.model);
  const out = reply.json.outputs[0];
  assert.equal(out.name, 'y');
  assert.equal(out.datatype, c.datatype);
  assert.deepEqual(out.shape, shape);
  assert.equal(out.data, undefined);
  assert.equal(out.parameters.binary_data_size, raw.byteLength);
  assert.equal(reply.binary.byteLength, raw.byteLength);
  assert.ok(reply.binary.equals(raw), `binary output differs:\n got ${reply.binary.toString('hex')}\nwant ${raw.toString('hex')}`);
}

function caseOf(model: string): Case {
  const c = CASES.find((x) => x.model === model);
  assert.ok(c);
  return c;
}

// ---------------------------------------------------------------------------------------------

describe('independent half-precision helper', () => {
  it('rounds to the nearest half value, ties to even', () => {
    assert.equal(nearestHalf(0.5), 0.5);
    assert.equal(nearestHalf(65504), 65504);
    assert.equal(nearestHalf(65519), 65504);
    assert.equal(nearestHalf(65520), Infinity);
    assert.equal(nearestHalf(0.0001), 1678 * 2 ** -24);
    assert.equal(nearestHalf(1 / 3), 0.333251953125);
    assert.equal(nearestHalf(2 ** -25), 0); // tie between 0 and the smallest subnormal
    assert.equal(nearestHalf(1.5 * 2 ** -25), 2 ** -24);
    assert.equal(nearestHalf(1 + 2 ** -11), 1); // tie, to even
    assert.equal(nearestHalf(1 + 3 * 2 ** -11), 1 + 2 ** -9); // tie, to even (up)
    assert.equal(halfBitsOf(1), 0x3c00);
    assert.equal(halfBitsOf(-2), 0xc000);
    assert.equal(halfBitsOf(65504), 0x7bff);
    assert.equal(halfBitsOf(2 ** -24), 0x0001);
    assert.equal(halfBitsOf(nearestHalf(0.0001)), 0x068e);
    assert.equal(halfValue(0x3555), 0.333251953125);
  });
});

describe('JSON in, JSON out', () => {
  for (const c of CASES) {
    it(`${c.datatype}: flat data, shape [1,4]`, async () => {
      const reply = await sendJson(c.model, { inputs: [{ name: 'x', datatype: c.datatype, shape: [1, 4], data: c.input }] });
      assertJsonOutput(reply, c, [1, 4]);
    });

    it(`${c.datatype}: nested data, shape [2,2], comes back flat`, async () => {
      const reply = await sendJson(c.model, {
        id: `nested-${c.model}`,
        inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 2], data: nested(c.input) }],
      });
      assertJsonOutput(reply, c, [2, 2]);
      assert.equal(reply.json.id, `nested-${c.model}`);
    });

    it(`${c.datatype}: nested data, shape [4,1]`, async () => {
      const reply = await sendJson(c.model, {
        inputs: [{ name: 'x', datatype: c.datatype, shape: [4, 1], data: c.input.map((v) => [v]) }],
      });
      assertJsonOutput(reply, c, [4, 1]);
    });
  }

  it('BOOL accepts 0 and 1 on input and answers true/false', async () => {
    const c = caseOf('bool');
    const reply = await sendJson('bool', {
      inputs: [
        {
          name: 'x',
          datatype: 'BOOL',
          shape: [2, 2],
          data: [
            [1, 0],
            [true, 0],
          ],
        },
      ],
    });
    assertJsonOutput(reply, c, [2, 2], [true, false, true, false]);
    assert.match(reply.text, /"data":\[true,false,true,false\]/);
  });

  it('FP16 given as JSON numbers comes back as the nearest half values', async () => {
    const c = caseOf('fp16');
    const values = [0.5, -2, 65504, 0.0001, 1 / 3, 65519, 1e-7, -0.1, 3.14159, 2 ** -24];
    const reply = await sendJson('fp16', { inputs: [{ name: 'x', datatype: 'FP16', shape: [2, 5], data: values }] });
    const expected = values.map(nearestHalf);
    assertJsonOutput(reply, c, [2, 5], expected);
    // Spot checks of the independent rounding itself.
    assert.deepEqual(expected.slice(0, 6), [0.5, -2, 65504, 0.00010001659393310547, 0.333251953125, 65504]);
    assert.equal(expected[6], 2 * 2 ** -24);
    assert.equal(expected[8], 3.140625);
  });

  it('FP16 beyond the half range becomes infinity (null in JSON)', async () => {
    const reply = await sendJson('fp16', { inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 3], data: [65520, -1e6, 1] }] });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json.outputs[0].data, [null, null, 1]);
    // And binary output shows they are the infinities, not NaN.
    const bin = await sendJson('fp16', {
      inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 3], data: [65520, -1e6, 1] }],
      parameters: { binary_data_output: true },
    });
    assertBinaryOutput(bin, caseOf('fp16'), [1, 3], Buffer.from([0x00, 0x7c, 0x00, 0xfc, 0x00, 0x3c]));
  });

  it('FP16 from JSON rounds directly to the nearest half (no double rounding through float32)', async () => {
    const v = 1 + 2 ** -11 + 2 ** -40; // just above the midpoint between 1 and 1+2^-10
    const reply = await sendJson('fp16', { inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 1], data: [v] }] });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json.outputs[0].data, [nearestHalf(v)]);
    assert.equal(nearestHalf(v), 1.0009765625);
  });

  it('FP32 and FP64 null stands for NaN and comes back as null', async () => {
    for (const c of [caseOf('fp32'), caseOf('fp64')]) {
      const reply = await sendJson(c.model, { inputs: [{ name: 'x', datatype: c.datatype, shape: [1, 3], data: [null, 2.5, null] }] });
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.json.outputs[0].data, [null, 2.5, null]);
      const bin = await sendJson(c.model, {
        inputs: [{ name: 'x', datatype: c.datatype, shape: [1, 3], data: [null, 2.5, null] }],
        parameters: { binary_data_output: true },
      });
      assert.equal(bin.status, 200);
      const read = (i: number) => (c.datatype === 'FP32' ? bin.binary.readFloatLE(i * 4) : bin.binary.readDoubleLE(i * 8));
      assert.ok(Number.isNaN(read(0)));
      assert.equal(read(1), 2.5);
      assert.ok(Number.isNaN(read(2)));
    }
  });

  it('FP32/FP64 negative zero keeps its sign in JSON output', async () => {
    const reply = await send('fp64', '{"inputs":[{"name":"x","datatype":"FP64","shape":[1,2],"data":[-0.0,1]}]}');
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(rawDataTokens(reply.text).map(Number), [-0, 1]);
    assert.ok(Object.is(reply.json.outputs[0].data[0], -0), `got ${reply.text}`);
  });

  it('INT64/UINT64 accept safe integers as JSON numbers and larger ones as strings', async () => {
    const reply = await sendJson('int64', {
      inputs: [{ name: 'x', datatype: 'INT64', shape: [1, 4], data: [9007199254740991, -9007199254740991, '-9007199254740993', '0'] }],
    });
    assertJsonOutput(reply, caseOf('int64'), [1, 4], [9007199254740991n, -9007199254740991n, -9007199254740993n, 0n]);
  });

  it('BYTES keeps unicode, empty strings and escapes exactly', async () => {
    const strings = ['', '\u0001\t\n"\\/', 'Ω≈ç√∫', '🏳️‍🌈 family 👨‍👩‍👧', 'x'.repeat(1000)];
    const reply = await sendJson('bytes', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [5, 1], data: strings }] });
    assertJsonOutput(reply, caseOf('bytes'), [5, 1], strings);
  });

  it('a scalar data value fills a one-element tensor', async () => {
    const reply = await sendJson('int32', { inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 1], data: -7 }] });
    assertJsonOutput(reply, caseOf('int32'), [1, 1], [-7]);
  });

  it('an empty tensor (shape [0,3]) round-trips', async () => {
    const reply = await sendJson('fp32', { inputs: [{ name: 'x', datatype: 'FP32', shape: [0, 3], data: [] }] });
    assertJsonOutput(reply, caseOf('fp32'), [0, 3], []);
  });
});

describe('binary in, binary out', () => {
  for (const c of CASES) {
    it(`${c.datatype}: bytes come back byte for byte`, async () => {
      const raw = encode(c.datatype, c.expected);
      const reply = await sendBinary(
        c.model,
        {
          inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 2], parameters: { binary_data_size: raw.byteLength } }],
          parameters: { binary_data_output: true },
        },
        raw,
      );
      assertBinaryOutput(reply, c, [2, 2], raw);
    });

    it(`${c.datatype}: at every alignment of the binary section`, async () => {
      const raw = encode(c.datatype, [...c.expected, ...c.expected]);
      for (let pad = 0; pad < 8; pad++) {
        const id = 'p'.repeat(pad + 1); // shifts where the binary section starts
        const reply = await sendBinary(
          c.model,
          {
            id,
            inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 4], parameters: { binary_data_size: raw.byteLength } }],
            parameters: { binary_data_output: true },
          },
          raw,
        );
        assertBinaryOutput(reply, c, [2, 4], raw);
        assert.equal(reply.json.id, id);
      }
    });
  }

  it('large tensors (1 MiB FP32, 256 KiB of BYTES) come back byte for byte', async () => {
    const floats = new Float32Array(512 * 512).map((_, i) => Math.sin(i) * 1e3);
    const raw = Buffer.from(floats.buffer);
    const reply = await sendBinary(
      'fp32',
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [512, 512], parameters: { binary_data_size: raw.byteLength } }],
        parameters: { binary_data_output: true },
      },
      raw,
    );
    assertBinaryOutput(reply, caseOf('fp32'), [512, 512], raw);
    assert.equal(reply.headers.get('content-length'), String(Buffer.byteLength(reply.text) + raw.byteLength));

    const strings = Array.from({ length: 4096 }, (_, i) => `row ${i}: ${'é'.repeat(i % 50)}`);
    const bytes = encode('BYTES', strings);
    const text = await sendBinary(
      'bytes',
      {
        inputs: [{ name: 'x', datatype: 'BYTES', shape: [4096, 1], parameters: { binary_data_size: bytes.byteLength } }],
        parameters: { binary_data_output: true },
      },
      bytes,
    );
    assertBinaryOutput(text, caseOf('bytes'), [4096, 1], bytes);
  });

  it('bit patterns JSON cannot carry survive: NaN payloads, infinities, -0, subnormals', async () => {
    const f16 = Buffer.from([0x00, 0x7c, 0x00, 0xfc, 0x00, 0x80, 0x01, 0x00, 0x00, 0x7e, 0xff, 0x7b]);
    const f32 = Buffer.alloc(16);
    f32.writeUInt32LE(0x7fc01234, 0); // NaN with a payload
    f32.writeFloatLE(-0, 4);
    f32.writeFloatLE(-Infinity, 8);
    f32.writeUInt32LE(0x00000001, 12);
    const f64 = Buffer.alloc(32);
    f64.writeDoubleLE(Infinity, 0);
    f64.writeDoubleLE(-0, 8);
    f64.writeBigUInt64LE(0x7ff8000000000abcn, 16);
    f64.writeDoubleLE(5e-324, 24);
    for (const [model, raw, shape] of [
      ['fp16', f16, [2, 3]],
      ['fp32', f32, [2, 2]],
      ['fp64', f64, [1, 4]],
    ] as const) {
      const c = caseOf(model);
      const reply = await sendBinary(
        model,
        {
          inputs: [{ name: 'x', datatype: c.datatype, shape, parameters: { binary_data_size: raw.byteLength } }],
          parameters: { binary_data_output: true },
        },
        raw,
      );
      assertBinaryOutput(reply, c, [...shape], raw);
    }
  });

  it('BYTES elements are length-prefixed (4-byte little-endian) in the reply', async () => {
    const raw = encode('BYTES', ['a', '', 'ü', 'longer element']);
    assert.deepEqual([...raw.subarray(0, 5)], [1, 0, 0, 0, 0x61]);
    const reply = await sendBinary(
      'bytes',
      {
        inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 4], parameters: { binary_data_size: raw.byteLength } }],
        parameters: { binary_data_output: true },
      },
      raw,
    );
    assertBinaryOutput(reply, caseOf('bytes'), [1, 4], raw);
    // Walk the reply's own prefixes.
    const got: string[] = [];
    for (let o = 0; o < reply.binary.byteLength;) {
      const n = reply.binary.readUInt32LE(o);
      got.push(reply.binary.subarray(o + 4, o + 4 + n).toString('utf8'));
      o += 4 + n;
    }
    assert.deepEqual(got, ['a', '', 'ü', 'longer element']);
  });

  it('BYTES that are not UTF-8 are refused with 400 (onnxruntime strings are UTF-8)', async () => {
    const raw = Buffer.from([2, 0, 0, 0, 0xff, 0xfe]);
    const reply = await sendBinary(
      'bytes',
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: 6 } }] },
      raw,
    );
    assert.equal(reply.status, 400);
    assert.match(reply.json.error, /'x'/);
    assert.match(reply.json.error, /UTF-8/);
  });
});

describe('mixed: binary in + JSON out, JSON in + binary out', () => {
  it('INT64 binary in, JSON out: exact integers beyond 2^53 in the body text', async () => {
    const c = caseOf('int64');
    const values = [-9223372036854775808n, 9223372036854775807n, 9007199254740993n, -9007199254740995n];
    const raw = encode('INT64', values);
    const reply = await sendBinary(
      'int64',
      { inputs: [{ name: 'x', datatype: 'INT64', shape: [2, 2], parameters: { binary_data_size: 32 } }] },
      raw,
    );
    assertJsonOutput(reply, c, [2, 2], values);
    assert.match(reply.text, /"data":\[-9223372036854775808,9223372036854775807,9007199254740993,-9007199254740995\]/);
  });

  it('UINT64 binary in, JSON out', async () => {
    const values = [18446744073709551615n, 18446744073709551614n, 9007199254740993n, 0n];
    const raw = encode('UINT64', values);
    const reply = await sendBinary(
      'uint64',
      { inputs: [{ name: 'x', datatype: 'UINT64', shape: [1, 4], parameters: { binary_data_size: 32 } }] },
      raw,
    );
    assertJsonOutput(reply, caseOf('uint64'), [1, 4], values);
  });

  it('FP32 binary in, JSON out', async () => {
    const values = [0.1, 1 / 3, -1e-40, 123456789].map(Math.fround);
    const raw = encode('FP32', values);
    const reply = await sendBinary(
      'fp32',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }] },
      raw,
    );
    assertJsonOutput(reply, caseOf('fp32'), [2, 2], values);
  });

  it('FP16 binary in, JSON out: numbers are the exact half values', async () => {
    const bits = [0x3c00, 0x3555, 0x0001, 0xc000, 0x7bff, 0x8400];
    const raw = Buffer.alloc(bits.length * 2);
    bits.forEach((b, i) => raw.writeUInt16LE(b, i * 2));
    const reply = await sendBinary(
      'fp16',
      { inputs: [{ name: 'x', datatype: 'FP16', shape: [2, 3], parameters: { binary_data_size: 12 } }] },
      raw,
    );
    const expected = bits.map(halfValue);
    assert.deepEqual(expected, [1, 0.333251953125, 2 ** -24, -2, 65504, -(2 ** -14)]);
    assertJsonOutput(reply, caseOf('fp16'), [2, 3], expected);
  });

  it('BYTES binary in, JSON out', async () => {
    const strings = ['naïve', '', '中文'];
    const raw = encode('BYTES', strings);
    const reply = await sendBinary(
      'bytes',
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [3, 1], parameters: { binary_data_size: raw.byteLength } }] },
      raw,
    );
    assertJsonOutput(reply, caseOf('bytes'), [3, 1], strings);
  });

  it('FP16 JSON in, binary out: the half bits computed independently', async () => {
    const reply = await sendJson('fp16', {
      inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 4], data: [0.5, -2, 65504, 0.0001] }],
      parameters: { binary_data_output: true },
    });
    const raw = Buffer.alloc(8);
    [0x3800, 0xc000, 0x7bff, 0x068e].forEach((b, i) => raw.writeUInt16LE(b, i * 2));
    assertBinaryOutput(reply, caseOf('fp16'), [1, 4], raw);
  });

  it('UINT64, INT8, BOOL and BYTES JSON in, binary out', async () => {
    for (const model of ['uint64', 'int8', 'bool', 'bytes']) {
      const c = caseOf(model);
      const reply = await sendJson(model, {
        inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 2], data: nested(c.input) }],
        parameters: { binary_data_output: true },
      });
      assertBinaryOutput(reply, c, [2, 2], encode(c.datatype, c.expected));
    }
  });
});

describe('per-output binary_data overrides binary_data_output', () => {
  const c = caseOf('int16');
  const input = { name: 'x', datatype: 'INT16', shape: [1, 4], data: c.input };

  it('binary_data_output true, output binary_data false: JSON', async () => {
    const reply = await sendJson('int16', {
      inputs: [input],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'y', parameters: { binary_data: false } }],
    });
    assertJsonOutput(reply, c, [1, 4]);
  });

  it('binary_data_output false, output binary_data true: binary', async () => {
    const reply = await sendJson('int16', {
      inputs: [input],
      parameters: { binary_data_output: false },
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    });
    assertBinaryOutput(reply, c, [1, 4], encode('INT16', c.expected));
  });

  it('no request parameter, output binary_data true: binary', async () => {
    const reply = await sendJson('int16', { inputs: [input], outputs: [{ name: 'y', parameters: { binary_data: true } }] });
    assertBinaryOutput(reply, c, [1, 4], encode('INT16', c.expected));
  });

  it('output listed without parameters inherits binary_data_output', async () => {
    const reply = await sendJson('int16', { inputs: [input], parameters: { binary_data_output: true }, outputs: [{ name: 'y' }] });
    assertBinaryOutput(reply, c, [1, 4], encode('INT16', c.expected));
  });

  it('neither given: JSON', async () => {
    const reply = await sendJson('int16', { inputs: [input], outputs: [{ name: 'y' }] });
    assertJsonOutput(reply, c, [1, 4]);
  });
});

describe('raw single-input body (Inference-Header-Content-Length: 0)', () => {
  it('FP32: the body is the input, the reply is binary', async () => {
    const values = [1.5, -2, 3.25, Math.fround(0.001), 7, -8].map(Math.fround);
    const raw = encode('FP32', values);
    const reply = await send('fp32', raw, { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' });
    assertBinaryOutput(reply, caseOf('fp32'), [1, 6], raw);
    assert.equal(reply.json.model_name, 'fp32');
    assert.equal(reply.json.model_version, '1');
    assert.equal(Number(reply.headers.get('inference-header-content-length')), Buffer.byteLength(reply.text));
  });

  it('INT64: the body is the input, the reply is binary', async () => {
    const raw = encode('INT64', [-9223372036854775808n, 42n]);
    const reply = await send('int64', raw, { 'inference-header-content-length': '0' });
    assertBinaryOutput(reply, caseOf('int64'), [1, 2], raw);
  });

  it('BYTES: length-prefixed elements', async () => {
    const raw = encode('BYTES', ['hello', '', 'wörld']);
    const reply = await send('bytes', raw, { 'inference-header-content-length': '0' });
    assertBinaryOutput(reply, caseOf('bytes'), [1, 3], raw);
  });
});

/** POSTs with node:http so that no header is added beyond the ones given (and Host, Content-Length). */
function postRaw(model: string, body: Uint8Array, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      inferUrl(model),
      { method: 'POST', headers: { 'content-length': String(body.byteLength), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const h = res.headers['inference-header-content-length'];
          const headerLength = h === undefined ? buf.byteLength : Number(h);
          const text = buf.subarray(0, headerLength).toString('utf8');
          const headers_ = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers_.set(k, v);
          resolve({ status: res.statusCode!, headers: headers_, text, json: JSON.parse(text), binary: buf.subarray(headerLength) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('transport details', () => {
  it('a JSON request with no Content-Type header at all works', async () => {
    const c = caseOf('uint32');
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'UINT32', shape: [2, 2], data: nested(c.input) }] }));
    const reply = await postRaw('uint32', body, {});
    assertJsonOutput(reply, c, [2, 2]);
  });

  it('a binary request with no Content-Type header at all works (as tritonclient sends it)', async () => {
    const c = caseOf('fp64');
    const raw = encode('FP64', c.expected);
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 2], parameters: { binary_data_size: raw.byteLength } }],
        parameters: { binary_data_output: true },
      },
      raw,
    );
    const reply = await postRaw('fp64', body, { 'inference-header-content-length': String(headerLength) });
    assertBinaryOutput(reply, c, [2, 2], raw);
  });

  it('an unusual Content-Type (text/plain) is read as bytes too', async () => {
    const c = caseOf('int8');
    const reply = await send('int8', JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 4], data: c.input }] }), {
      'content-type': 'text/plain',
    });
    assertJsonOutput(reply, c, [1, 4]);
  });

  it('gzip-compressed JSON body (Content-Encoding: gzip)', async () => {
    const c = caseOf('int64');
    const body = zlib.gzipSync(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT64', shape: [2, 2], data: nested(c.input) }] }));
    const reply = await send('int64', body, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
    assertJsonOutput(reply, c, [2, 2]);
  });

  it('deflate-compressed JSON body, zlib-wrapped and raw (Content-Encoding: deflate)', async () => {
    const c = caseOf('bytes');
    const json = JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [2, 2], data: nested(c.input) }] });
    for (const body of [zlib.deflateSync(json), zlib.deflateRawSync(json)]) {
      const reply = await send('bytes', body, { 'content-encoding': 'deflate' });
      assertJsonOutput(reply, c, [2, 2]);
    }
  });

  it('gzip-compressed binary body: Inference-Header-Content-Length counts the inflated JSON', async () => {
    const c = caseOf('uint16');
    const raw = encode('UINT16', c.expected);
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: 'x', datatype: 'UINT16', shape: [2, 2], parameters: { binary_data_size: raw.byteLength } }],
        parameters: { binary_data_output: true },
      },
      raw,
    );
    const reply = await postRaw('uint16', zlib.gzipSync(body), {
      'content-encoding': 'gzip',
      'inference-header-content-length': String(headerLength),
    });
    assertBinaryOutput(reply, c, [2, 2], raw);
  });

  it('an all-JSON body with Inference-Header-Content-Length equal to its length (as perf_analyzer sends it)', async () => {
    const c = caseOf('int16');
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT16', shape: [2, 2], data: nested(c.input) }] });
    const reply = await send('int16', body, {
      'content-type': 'application/json',
      'inference-header-content-length': String(Buffer.byteLength(body)),
    });
    assertJsonOutput(reply, c, [2, 2]);
  });

  it('Content-Encoding identity and upper-case GZIP are accepted', async () => {
    const c = caseOf('uint8');
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [1, 4], data: c.input }] });
    assertJsonOutput(await send('uint8', body, { 'content-encoding': 'identity' }), c, [1, 4]);
    assertJsonOutput(await send('uint8', zlib.gzipSync(body), { 'content-encoding': 'GZIP' }), c, [1, 4]);
  });

  it('a chunked body without Content-Length works', async () => {
    const c = caseOf('fp32');
    const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: c.input }] }));
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = http.request(inferUrl('fp32'), { method: 'POST' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers({ 'content-type': String(res.headers['content-type']) });
          resolve({ status: res.statusCode!, headers, text, json: JSON.parse(text), binary: Buffer.alloc(0) });
        });
      });
      req.on('error', reject);
      req.write(json.subarray(0, 10));
      setTimeout(() => req.end(json.subarray(10)), 20);
    });
    assertJsonOutput(reply, c, [1, 4]);
  });
});

describe('datatype errors', () => {
  function assertError(reply: Reply, ...patterns: RegExp[]): void {
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(reply.json), ['error']);
    assert.equal(typeof reply.json.error, 'string');
    for (const p of patterns) assert.match(reply.json.error, p);
  }

  it('INT32 sent to the INT64 model: 400 naming the input and both types', async () => {
    const reply = await sendJson('int64', { inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 2], data: [1, 2] }] });
    assertError(reply, /'x'/, /INT32/, /INT64/, /int64/);
  });

  it('wrong datatype in binary form too (FP64 bytes to the FP32 model)', async () => {
    const raw = encode('FP64', [1, 2]);
    const reply = await sendBinary(
      'fp32',
      { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 2], parameters: { binary_data_size: 16 } }] },
      raw,
    );
    assertError(reply, /'x'/, /FP64/, /FP32/);
  });

  it('every model refuses a datatype other than its own', async () => {
    for (const c of CASES) {
      const other = c.datatype === 'BYTES' ? 'INT32' : 'BYTES';
      const data = other === 'BYTES' ? ['a', 'b'] : [1, 2];
      const reply = await sendJson(c.model, { inputs: [{ name: 'x', datatype: other, shape: [1, 2], data }] });
      assertError(reply, /'x'/, new RegExp(`'${other}'`), new RegExp(`'${c.datatype}'`));
    }
  });

  const outOfRange: { model: string; datatype: string; data: unknown[]; index: number; shown: string }[] = [
    { model: 'uint8', datatype: 'UINT8', data: [1, 2, 300], index: 2, shown: '300' },
    { model: 'uint8', datatype: 'UINT8', data: [-1, 2, 3], index: 0, shown: '-1' },
    { model: 'int8', datatype: 'INT8', data: [0, -129, 3], index: 1, shown: '-129' },
    { model: 'int8', datatype: 'INT8', data: [0, 1, 128], index: 2, shown: '128' },
    { model: 'uint16', datatype: 'UINT16', data: [65536, 0, 0], index: 0, shown: '65536' },
    { model: 'int16', datatype: 'INT16', data: [0, 32768, 0], index: 1, shown: '32768' },
    { model: 'uint32', datatype: 'UINT32', data: [0, 0, 4294967296], index: 2, shown: '4294967296' },
    { model: 'int32', datatype: 'INT32', data: [2147483648, 0, 0], index: 0, shown: '2147483648' },
    { model: 'int32', datatype: 'INT32', data: [0, 1.5, 0], index: 1, shown: '1.5' },
    { model: 'int64', datatype: 'INT64', data: [0, '9223372036854775808', 0], index: 1, shown: '9223372036854775808' },
    { model: 'uint64', datatype: 'UINT64', data: ['-1', 0, 0], index: 0, shown: '-1' },
    { model: 'uint64', datatype: 'UINT64', data: [0, '18446744073709551616', 0], index: 1, shown: '18446744073709551616' },
    { model: 'bool', datatype: 'BOOL', data: [true, 2, false], index: 1, shown: '2' },
    { model: 'bool', datatype: 'BOOL', data: [true, false, 'true'], index: 2, shown: '"true"' },
    { model: 'fp32', datatype: 'FP32', data: [1, '2', 3], index: 1, shown: '"2"' },
    { model: 'bytes', datatype: 'BYTES', data: ['a', 'b', 5], index: 2, shown: '5' },
  ];
  for (const t of outOfRange) {
    it(`${t.datatype} element ${JSON.stringify(t.data[t.index])} is refused, naming the element`, async () => {
      const reply = await sendJson(t.model, { inputs: [{ name: 'x', datatype: t.datatype, shape: [1, 3], data: t.data }] });
      assertError(reply, /'x'/, new RegExp(`element ${t.index}\\b`), new RegExp(t.shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });
  }

  it('UINT8 300 in nested data names the flat element index', async () => {
    const reply = await sendJson('uint8', {
      inputs: [
        {
          name: 'x',
          datatype: 'UINT8',
          shape: [2, 2],
          data: [
            [1, 2],
            [300, 4],
          ],
        },
      ],
    });
    assertError(reply, /'x'/, /element 2\b/, /300/);
  });

  it('shape vs element count mismatch in JSON: 400', async () => {
    const reply = await sendJson('fp32', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }] });
    assertError(reply, /'x'/, /\[2,2\]/, /4 elements/, /holds 3/);
    const over = await sendJson('int8', {
      inputs: [
        {
          name: 'x',
          datatype: 'INT8',
          shape: [1, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
    });
    assertError(over, /'x'/, /\[1,2\]/, /2 elements/, /holds 4/);
  });

  it('shape vs binary size mismatch: 400', async () => {
    const raw = encode('FP32', [1, 2, 3]);
    const reply = await sendBinary(
      'fp32',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 12 } }] },
      raw,
    );
    assertError(reply, /'x'/, /16 bytes/, /got 12/);
    const bytes = encode('BYTES', ['a', 'b', 'c']);
    const reply2 = await sendBinary(
      'bytes',
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [2, 2], parameters: { binary_data_size: bytes.byteLength } }] },
      bytes,
    );
    assertError(reply2, /'x'/, /expected 4 BYTES elements/, /got 3/);
  });

  it('a shape of the wrong rank for the model: 400', async () => {
    const reply = await sendJson('fp32', { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });
    assertError(reply, /'x'/, /\[-1,-1\]/, /\[4\]/);
  });

  it('the server still answers correctly after the errors', async () => {
    const c = caseOf('uint8');
    assertJsonOutput(await sendJson('uint8', { inputs: [{ name: 'x', datatype: 'UINT8', shape: [1, 4], data: c.input }] }), c, [1, 4]);
  });
});
