/**
 * One request path for every protocol: the same values sent over REST (JSON data and binary
 * tensor data) and over gRPC (raw_input_contents and typed contents) to the identity model of
 * each datatype (test/fixtures/dtypes) come back as the same bytes, and those bytes are the
 * independently encoded expected values.
 */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { CASES, type Case, encode } from './helpers/dtype-cases.js';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { type TestServer, binaryBody, readInferResponse, repoPath, startTestServer } from './helpers/server.js';

let srv: TestServer;
let client: GrpcTestClient;

before(async () => {
  srv = await startTestServer(repoPath('test/fixtures/dtypes'));
  client = new GrpcTestClient(srv.grpcAddress);
});

after(async () => {
  client?.close();
  await srv?.close();
});

/** The typed contents field and values a gRPC client fills for each datatype. */
function typedContents(c: Case): Record<string, unknown[]> {
  const v = c.expected;
  switch (c.datatype) {
    case 'BOOL':
      return { bool_contents: [...v] };
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return { uint_contents: [...v] };
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return { int_contents: [...v] };
    case 'INT64':
      return { int64_contents: v.map(String) };
    case 'UINT64':
      return { uint64_contents: v.map(String) };
    case 'FP32':
      return { fp32_contents: [...v] };
    case 'FP64':
      return { fp64_contents: [...v] };
    case 'BYTES':
      return { bytes_contents: v.map((s) => Buffer.from(String(s), 'utf8')) };
    default:
      throw new Error(`no typed contents for ${c.datatype}`);
  }
}

async function restJsonIn(c: Case): Promise<Buffer> {
  const res = await fetch(`${srv.url}/v2/models/${c.model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 2], data: c.input }],
      parameters: { binary_data_output: true },
    }),
  });
  assert.equal(res.status, 200);
  const { json, binary } = await readInferResponse(res);
  assert.deepEqual(json.outputs[0].shape, [2, 2]);
  return binary;
}

async function restBinaryIn(c: Case, raw: Buffer): Promise<Buffer> {
  const { body, headerLength } = binaryBody(
    {
      inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 2], parameters: { binary_data_size: raw.byteLength } }],
      parameters: { binary_data_output: true },
    },
    raw,
  );
  const res = await fetch(`${srv.url}/v2/models/${c.model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
    body,
  });
  assert.equal(res.status, 200);
  return (await readInferResponse(res)).binary;
}

async function grpcIn(c: Case, input: Record<string, unknown>, raw?: Buffer): Promise<Buffer> {
  const response = await client.call('ModelInfer', {
    model_name: c.model,
    id: `${c.model}-parity`,
    inputs: [{ name: 'x', datatype: c.datatype, shape: [2, 2], ...input }],
    raw_input_contents: raw ? [raw] : [],
  });
  assert.equal(response.model_name, c.model);
  assert.equal(response.model_version, '1');
  assert.equal(response.id, `${c.model}-parity`);
  assert.deepEqual(
    response.outputs.map((o: any) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
    [{ name: 'y', datatype: c.datatype, shape: ['2', '2'] }],
  );
  assert.equal(response.raw_output_contents.length, 1);
  return outputBytes(response, 0);
}

describe('REST JSON, REST binary, gRPC raw and gRPC typed give byte-identical outputs', () => {
  for (const c of CASES) {
    it(c.datatype, async () => {
      const expected = encode(c.datatype, c.expected);
      const outputs: Record<string, Buffer> = {
        'REST JSON': await restJsonIn(c),
        'REST binary': await restBinaryIn(c, expected),
        'gRPC raw': await grpcIn(c, {}, expected),
      };
      if (c.datatype !== 'FP16') outputs['gRPC typed'] = await grpcIn(c, { contents: typedContents(c) });
      for (const [path, bytes] of Object.entries(outputs))
        assert.ok(bytes.equals(expected), `${path}: ${bytes.toString('hex')} != ${expected.toString('hex')}`);
    });
  }

  it('FP16 has no typed contents field: INVALID_ARGUMENT says to send it raw', async () => {
    await assertStatus(
      client.call('ModelInfer', {
        model_name: 'fp16',
        inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 2], contents: { fp32_contents: [1, 2] } }],
      }),
      status.INVALID_ARGUMENT,
      /input 'x'/,
      /FP16/,
      /raw_input_contents/,
    );
  });
});

describe('large raw contents', () => {
  // Over Node's 8 KiB pool, grpc-js gives the message a buffer of its own, which the server
  // hands to the worker by transfer (aligned) or copies (unaligned): both must be exact.
  for (const id of ['a', 'ab', 'abc', 'abcd']) {
    it(`1 MiB FP32 and 256 KiB FP64 round trip exactly (id '${id}' shifts the alignment)`, async () => {
      const floats = Buffer.from(new Float32Array(512 * 512).map((_, i) => Math.sin(i) * 1e3).buffer);
      const fp32 = await client.call('ModelInfer', {
        model_name: 'fp32',
        id,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [512, 512] }],
        raw_input_contents: [floats],
      });
      assert.ok(outputBytes(fp32, 0).equals(floats));
      const doubles = Buffer.from(new Float64Array(256 * 128).map((_, i) => Math.cos(i) / 7).buffer);
      const fp64 = await client.call('ModelInfer', {
        model_name: 'fp64',
        id,
        inputs: [{ name: 'x', datatype: 'FP64', shape: [256, 128] }],
        raw_input_contents: [doubles],
      });
      assert.ok(outputBytes(fp64, 0).equals(doubles));
    });
  }

  it('4096 BYTES elements as raw and as bytes_contents', async () => {
    const strings = Array.from({ length: 4096 }, (_, i) => `row ${i}: ${'é'.repeat(i % 50)}`);
    const raw = encode('BYTES', strings);
    const viaRaw = await client.call('ModelInfer', {
      model_name: 'bytes',
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [4096, 1] }],
      raw_input_contents: [raw],
    });
    assert.ok(outputBytes(viaRaw, 0).equals(raw));
    const typed = await client.call('ModelInfer', {
      model_name: 'bytes',
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [4096, 1], contents: { bytes_contents: strings.map((s) => Buffer.from(s)) } }],
    });
    assert.ok(outputBytes(typed, 0).equals(raw));
  });
});
