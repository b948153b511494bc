/**
 * A corpus of malformed infer bodies (binary extension, JSON, raw, compressed, oversized) against
 * the fp32 and bytes Identity models. Each must get a 4xx (or 501) with a `{"error": string}` body
 * naming what is wrong, and the server must go on serving, also while malformed and valid requests
 * arrive at the same time.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { type InferReply, type TestServer, postBody, repoPath, startTestServer } from './helpers/server.js';

const TB = 1099511627776;
const LIMIT = 1024;

let srv: TestServer;
/** A second server whose body limit is 1 KiB. */
let small: TestServer;

before(async () => {
  srv = await startTestServer(repoPath('test/fixtures/dtypes'));
  small = await startTestServer(repoPath('test/fixtures/dtypes'), { http_max_input_size: LIMIT });
});

after(async () => {
  await srv?.close();
  await small?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers

type Reply = InferReply;
const post = postBody;

const inferUrl = (server: TestServer, model: string) => `${server.url}/v2/models/${model}/infer`;

function f32(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** A binary-extension body: the JSON header, then `tail`. */
function bin(header: unknown, tail: Buffer = Buffer.alloc(0)): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, tail]), headerLength: json.byteLength };
}

function fp32Binary(size: unknown, shape: number[] = [1, 4]) {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape, parameters: { binary_data_size: size } }] };
}

function bytesBinary(size: unknown, shape: number[] = [1, 1]) {
  return { inputs: [{ name: 'x', datatype: 'BYTES', shape, parameters: { binary_data_size: size } }] };
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Asserts a JSON error reply: the status, a body of exactly {"error": string}, and the message. */
function assertError(reply: Reply, status: number, ...patterns: RegExp[]): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(reply.json !== undefined, `error body is not JSON: ${reply.text}`);
  assert.deepEqual(Object.keys(reply.json), ['error']);
  assert.equal(typeof reply.json.error, 'string');
  assert.ok(reply.json.error.length > 0);
  for (const p of patterns) assert.match(reply.json.error, p);
}

const VALID_VALUES = [1.5, -2, 3.25, 0];

async function assertValidRequestWorks(server: TestServer, values: number[] = VALID_VALUES): Promise<void> {
  const reply = await post(inferUrl(server, 'fp32'), json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: values }] }), {
    'content-type': 'application/json',
  });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(reply.json.outputs, [{ name: 'y', datatype: 'FP32', shape: [2, 2], data: values.map(Math.fround) }]);
}

async function assertLive(server: TestServer): Promise<void> {
  const res = await fetch(`${server.url}/v2/health/live`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { live: true });
}

/** Sends a request head and a few body bytes over a plain socket, and returns the parsed reply. */
function rawExchange(
  port: number,
  head: string,
  bodyBytes: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => {
      finish(new Error(`no complete reply within 5 s; got ${JSON.stringify(data.toString('latin1'))}`));
    }, 5000);
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: data.subarray(end + 4).toString('utf8') });
    };
    const tryParse = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (m && data.byteLength - (end + 4) >= Number(m[1])) finish();
    };
    socket.on('connect', () => {
      socket.write(head);
      socket.write(bodyBytes);
    });
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      tryParse();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (e) => finish(e));
  });
}

function deepArray(levels: number, inner = '1'): string {
  return '['.repeat(levels) + inner + ']'.repeat(levels);
}

// ---------------------------------------------------------------------------------------------
// The corpus

interface Case {
  name: string;
  model: 'fp32' | 'bytes';
  body: Buffer | string;
  headers?: Record<string, string>;
  status: number;
  patterns: RegExp[];
}

function binCase(
  name: string,
  model: 'fp32' | 'bytes',
  header: unknown,
  tail: Buffer,
  patterns: RegExp[],
  ihcl?: (n: number, total: number) => string,
): Case {
  const { body, headerLength } = bin(header, tail);
  return {
    name,
    model,
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': ihcl ? ihcl(headerLength, body.byteLength) : String(headerLength),
    },
    status: 400,
    patterns,
  };
}

function jsonCase(name: string, model: 'fp32' | 'bytes', body: string | Buffer, patterns: RegExp[]): Case {
  return { name, model, body, headers: { 'content-type': 'application/json' }, status: 400, patterns };
}

const fp32Input = (extra: Record<string, unknown>) => json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], ...extra }] });

const CORPUS: Case[] = [
  // --- the binary section
  binCase('truncated binary section', 'fp32', fp32Binary(16), f32([1, 2]), [/'x'/, /binary_data_size/, /16 bytes/, /only 8 bytes/]),
  binCase('binary_data_size larger than the remaining body', 'fp32', fp32Binary(1000), f32([1, 2, 3, 4]), [
    /'x'/,
    /1000 bytes/,
    /only 16 bytes/,
  ]),
  binCase('binary_data_size of a terabyte with a tiny body', 'fp32', fp32Binary(TB), f32([1]), [/'x'/, /1099511627776/, /only 4 bytes/]),
  binCase('binary_data_size beyond 2^53', 'fp32', fp32Binary(2 ** 60), f32([1]), [/'x'/, /binary_data_size/, /non-negative integer/]),
  binCase('negative binary_data_size', 'fp32', fp32Binary(-16), f32([1, 2, 3, 4]), [
    /'x'/,
    /binary_data_size/,
    /non-negative integer/,
    /-16/,
  ]),
  binCase('non-integer binary_data_size', 'fp32', fp32Binary(15.5), f32([1, 2, 3, 4]), [
    /'x'/,
    /binary_data_size/,
    /non-negative integer/,
    /15\.5/,
  ]),
  binCase('binary_data_size given as a string', 'fp32', fp32Binary('16'), f32([1, 2, 3, 4]), [/'x'/, /binary_data_size/, /"16"/]),
  binCase('binary_data_size given as a boolean', 'fp32', fp32Binary(true), f32([1, 2, 3, 4]), [/'x'/, /binary_data_size/, /true/]),
  binCase('binary_data_size given as an object', 'fp32', fp32Binary({ n: 16 }), f32([1, 2, 3, 4]), [
    /binary_data_size/,
    /string, number or boolean/,
  ]),
  binCase('extra trailing bytes not accounted for', 'fp32', fp32Binary(16), f32([1, 2, 3, 4, 5]), [
    /4 bytes of binary data/,
    /binary_data_size/,
  ]),
  binCase('binary_data_size disagrees with the shape', 'fp32', fp32Binary(12), f32([1, 2, 3]), [/'x'/, /expected 16 bytes/, /got 12/]),
  binCase(
    'binary data but every input has JSON data',
    'fp32',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] },
    f32([1]),
    [/4 bytes of binary data/],
  ),
  // --- Inference-Header-Content-Length
  binCase(
    'Inference-Header-Content-Length larger than the body',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/, /'100000'/],
    () => '100000',
  ),
  binCase(
    'Inference-Header-Content-Length one past the body',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/],
    (_n, total) => String(total + 1),
  ),
  binCase(
    'negative Inference-Header-Content-Length',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/, /'-5'/],
    () => '-5',
  ),
  binCase(
    'non-numeric Inference-Header-Content-Length',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/, /'abc'/],
    () => 'abc',
  ),
  binCase(
    'Inference-Header-Content-Length with trailing junk',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/, /'12abc'/],
    () => '12abc',
  ),
  binCase(
    'Inference-Header-Content-Length in exponent form',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/, /'1e2'/],
    () => '1e2',
  ),
  binCase(
    'fractional Inference-Header-Content-Length',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length/, /'10\.5'/],
    () => '10.5',
  ),
  binCase(
    'header length cutting the JSON in the middle',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length is \d+ but the JSON header of this body is \d+ bytes long/],
    (n) => String(Math.floor(n / 2)),
  ),
  binCase(
    'header length one short of the JSON',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length is \d+ but the JSON header of this body is \d+ bytes long/],
    (n) => String(n - 1),
  ),
  binCase(
    'header length one past the JSON',
    'fp32',
    fp32Binary(16),
    f32([1, 2, 3, 4]),
    [/Inference-Header-Content-Length is \d+ but the JSON header of this body is \d+ bytes long/],
    (n) => String(n + 1),
  ),
  // --- the raw single-input body
  {
    name: 'raw body that is not a whole number of FP32 elements',
    model: 'fp32',
    body: Buffer.alloc(7),
    headers: { 'inference-header-content-length': '0' },
    status: 400,
    patterns: [/'x'/, /7 bytes/, /FP32/],
  },
  {
    name: 'raw BYTES body with a length prefix past the end',
    model: 'bytes',
    body: Buffer.concat([u32(50), Buffer.from('abc')]),
    headers: { 'inference-header-content-length': '0' },
    status: 400,
    patterns: [/'x'/, /BYTES element 0/, /50 bytes/, /only 3 remain/],
  },
  // --- JSON syntax and structure
  jsonCase('invalid JSON', 'fp32', '{"inputs": [', [/not valid JSON/]),
  jsonCase('JSON with unquoted keys', 'fp32', '{inputs: []}', [/not valid JSON/]),
  jsonCase('JSON followed by garbage', 'fp32', `${fp32Input({ data: [1, 2, 3, 4] })}xyz`, [
    /74-byte JSON header followed by 3 bytes/,
    /Inference-Header-Content-Length header is missing/,
  ]),
  jsonCase('a body that is not UTF-8', 'fp32', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), [/not valid JSON/]),
  jsonCase('an empty body', 'fp32', '', [/not valid JSON/]),
  jsonCase('JSON that is an array', 'fp32', '[{"name":"x"}]', [/JSON object/]),
  jsonCase('JSON that is a string', 'fp32', '"inputs"', [/JSON object/]),
  jsonCase('JSON that is null', 'fp32', 'null', [/JSON object/]),
  jsonCase('JSON that is a number', 'fp32', '42', [/JSON object/]),
  jsonCase('inputs missing', 'fp32', '{"outputs":[]}', [/"inputs"/, /list/]),
  jsonCase('inputs an object', 'fp32', json({ inputs: { name: 'x', datatype: 'FP32', shape: [1], data: [1] } }), [/"inputs"/, /list/]),
  jsonCase('inputs a string', 'fp32', json({ inputs: 'x' }), [/"inputs"/, /list/]),
  jsonCase('an input that is not an object', 'fp32', json({ inputs: [5] }), [/inputs\[0\]/, /object/]),
  jsonCase('input missing name', 'fp32', json({ inputs: [{ datatype: 'FP32', shape: [1, 1], data: [1] }] }), [/inputs\[0\]\.name/]),
  jsonCase('input with an empty name', 'fp32', json({ inputs: [{ name: '', datatype: 'FP32', shape: [1, 1], data: [1] }] }), [
    /inputs\[0\]\.name/,
  ]),
  jsonCase('input missing datatype', 'fp32', json({ inputs: [{ name: 'x', shape: [1, 1], data: [1] }] }), [/'x'/, /datatype/]),
  jsonCase('input missing shape', 'fp32', json({ inputs: [{ name: 'x', datatype: 'FP32', data: [1] }] }), [/'x'/, /'shape'/]),
  jsonCase('unknown datatype', 'fp32', fp32Input({ datatype: 'FLOAT32', data: [1, 2, 3, 4] }), [/'x'/, /datatype/, /FLOAT32/]),
  jsonCase('lower-case datatype', 'fp32', fp32Input({ datatype: 'fp32', data: [1, 2, 3, 4] }), [/'x'/, /datatype/, /"fp32"/]),
  jsonCase('BF16 datatype', 'fp32', fp32Input({ datatype: 'BF16', data: [1, 2, 3, 4] }), [/'x'/, /datatype/, /BF16/]),
  jsonCase('negative shape dims', 'fp32', fp32Input({ shape: [-1, 4], data: [1, 2, 3, 4] }), [/'x'/, /'shape'/, /non-negative/, /-1/]),
  jsonCase('non-integer shape dims', 'fp32', fp32Input({ shape: [1.5, 2], data: [1, 2, 3] }), [/'x'/, /'shape'/, /1\.5/]),
  jsonCase('string shape dims', 'fp32', fp32Input({ shape: ['1', '4'], data: [1, 2, 3, 4] }), [/'x'/, /'shape'/]),
  jsonCase('shape not a list', 'fp32', fp32Input({ shape: 4, data: [1, 2, 3, 4] }), [/'x'/, /'shape'/]),
  jsonCase('both data and binary_data_size', 'fp32', fp32Input({ data: [1, 2, 3, 4], parameters: { binary_data_size: 16 } }), [
    /'x'/,
    /exactly one/,
    /'data'/,
    /binary_data_size/,
  ]),
  jsonCase('neither data nor binary_data_size', 'fp32', fp32Input({}), [/'x'/, /exactly one/, /'data'/, /binary_data_size/]),
  jsonCase(
    'parameters not an object',
    'fp32',
    json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }], parameters: [1] }),
    [/'parameters'/],
  ),
  jsonCase('id not a string', 'fp32', json({ id: 7, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] }), [/'id'/]),
  jsonCase(
    'outputs not a list',
    'fp32',
    json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }], outputs: { name: 'y' } }),
    [/'outputs'/],
  ),
  jsonCase(
    'an unknown output',
    'fp32',
    json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }], outputs: [{ name: 'z' }] }),
    [/'z'/],
  ),
  jsonCase('an unknown input', 'fp32', json({ inputs: [{ name: 'q', datatype: 'FP32', shape: [1, 1], data: [1] }] }), [/'q'/]),
  jsonCase(
    'the same input twice',
    'fp32',
    json({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] },
        { name: 'x', datatype: 'FP32', shape: [1, 1], data: [2] },
      ],
    }),
    [/'x'/, /more than once/],
  ),
  jsonCase('a shape of [1e12, 1e12] with tiny JSON data', 'fp32', fp32Input({ shape: [1e12, 1e12], data: [1, 2, 3, 4] }), [
    /'x'/,
    /\[1000000000000,1000000000000\]/,
    /holds 4/,
  ]),
  binCase('a shape of [1e12, 1e12] with tiny binary data', 'fp32', fp32Binary(16, [1e12, 1e12]), f32([1, 2, 3, 4]), [/'x'/, /got 16/]),
  binCase(
    'a BYTES shape of [1e12, 1e12] with tiny binary data',
    'bytes',
    bytesBinary(5, [1e12, 1e12]),
    Buffer.concat([u32(1), Buffer.from('a')]),
    [/'x'/, /got 1/],
  ),
  jsonCase('a shape of [2^53-1, 2^53-1] with tiny JSON data', 'fp32', fp32Input({ shape: [2 ** 53 - 1, 2 ** 53 - 1], data: [1] }), [
    /'x'/,
    /holds 1/,
  ]),
  jsonCase(
    'deeply nested JSON data (10000 levels)',
    'fp32',
    `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":${deepArray(10000)}}]}`,
    [/'x'/, /nested/],
  ),
  // --- BYTES binary elements
  binCase(
    'BYTES element with a length prefix pointing past the end',
    'bytes',
    bytesBinary(7),
    Buffer.concat([u32(100), Buffer.from('abc')]),
    [/'x'/, /BYTES element 0/, /declares 100 bytes/, /only 3 remain/],
  ),
  binCase('BYTES element with a length prefix of 2^32-1', 'bytes', bytesBinary(5), Buffer.concat([u32(0xffffffff), Buffer.from('a')]), [
    /'x'/,
    /BYTES element 0/,
    /4294967295/,
  ]),
  binCase(
    'BYTES truncated length prefix',
    'bytes',
    bytesBinary(7, [1, 2]),
    Buffer.concat([u32(1), Buffer.from('a'), Buffer.from([2, 0])]),
    [/'x'/, /BYTES element 1/, /truncated/, /length prefix/],
  ),
  binCase('BYTES length prefix of only 2 bytes', 'bytes', bytesBinary(2), Buffer.from([1, 0]), [/'x'/, /BYTES element 0/, /truncated/]),
  binCase(
    'BYTES with more elements than the shape',
    'bytes',
    bytesBinary(10),
    Buffer.concat([u32(1), Buffer.from('a'), u32(1), Buffer.from('b')]),
    [/'x'/, /more than the 1 elements/],
  ),
  binCase('BYTES with fewer elements than the shape', 'bytes', bytesBinary(5, [1, 3]), Buffer.concat([u32(1), Buffer.from('a')]), [
    /'x'/,
    /expected 3 BYTES elements/,
    /got 1/,
  ]),
  binCase('BYTES element with a NUL byte', 'bytes', bytesBinary(7), Buffer.concat([u32(3), Buffer.from([0x61, 0x00, 0x62])]), [
    /'x'/,
    /NUL/,
  ]),
  jsonCase(
    'BYTES JSON data that is not strings',
    'bytes',
    json({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], data: ['a', { b: 1 }] }] }),
    [/'x'/, /element 1/],
  ),
  // --- encodings
  {
    name: 'invalid gzip data',
    model: 'fp32',
    body: Buffer.from('this is not gzip'),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    patterns: [/not valid gzip/],
  },
  {
    name: 'truncated gzip data',
    model: 'fp32',
    body: zlib.gzipSync(fp32Input({ data: [1, 2, 3, 4] })).subarray(0, 20),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    patterns: [/not valid gzip/],
  },
  {
    name: 'invalid deflate data',
    model: 'fp32',
    body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]),
    headers: { 'content-encoding': 'deflate' },
    status: 400,
    patterns: [/not valid deflate/],
  },
  {
    name: 'valid gzip of invalid JSON',
    model: 'fp32',
    body: zlib.gzipSync('{"inputs": nope}'),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    patterns: [/not valid JSON/],
  },
  {
    name: 'unsupported Content-Encoding br',
    model: 'fp32',
    body: fp32Input({ data: [1, 2, 3, 4] }),
    headers: { 'content-encoding': 'br' },
    status: 501,
    patterns: [/Content-Encoding/, /'br'/],
  },
  {
    name: 'unsupported Content-Encoding compress',
    model: 'fp32',
    body: fp32Input({ data: [1, 2, 3, 4] }),
    headers: { 'content-encoding': 'compress' },
    status: 501,
    patterns: [/Content-Encoding/, /'compress'/],
  },
];

async function sendCase(server: TestServer, c: Case): Promise<Reply> {
  return post(inferUrl(server, c.model), c.body, c.headers ?? {});
}

// ---------------------------------------------------------------------------------------------

describe('malformed bodies get a 4xx with {"error": ...}', () => {
  for (const c of CORPUS) {
    it(c.name, async () => {
      assertError(await sendCase(srv, c), c.status, ...c.patterns);
    });
  }

  it('deeply nested data (100000 levels, 200 kB) is refused without a crash', async () => {
    const body = `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":${deepArray(100000)}}]}`;
    assertError(await post(inferUrl(srv, 'fp32'), body), 400, /'x'/, /nested/);
  });

  it('deep nesting in a field the server ignores does not crash it', async () => {
    const body = `{"extra":${deepArray(20000, '{}')},"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":[2.5]}]}`;
    const reply = await post(inferUrl(srv, 'fp32'), body);
    if (reply.status === 200) {
      assert.deepEqual(reply.json.outputs[0].data, [2.5]);
    } else {
      assertError(reply, 400);
    }
    await assertLive(srv);
  });

  it('a shape of [0, 1e12] (zero elements, a dim onnxruntime cannot hold) is a 400, not a 500', async () => {
    const reply = await post(inferUrl(srv, 'fp32'), fp32Input({ shape: [0, 1e12], data: [] }));
    assertError(reply, 400, /'x'/);
  });

  it('the server still serves after the whole corpus', async () => {
    await assertValidRequestWorks(srv);
    await assertLive(srv);
  });
});

describe('size limits', () => {
  it('a 2 KiB body to a server limited to 1 KiB: 413 naming the limit', async () => {
    const body = fp32Input({ data: [1, 2, 3, 4] }).padEnd(2048, ' ');
    assert.equal(body.length, 2048);
    const reply = await post(inferUrl(small, 'fp32'), body, { 'content-type': 'application/json' });
    assertError(reply, 413, /2048/, /exceeds the maximum allowed value/, /1024/, /Use --http-max-input-size to increase the limit/);
  });

  it('a 2 KiB chunked body (no Content-Length) to the limited server: 413', async () => {
    const reply = await new Promise<{ status: number; body: any; contentType: string }>((resolve, reject) => {
      const req = http.request(inferUrl(small, 'fp32'), { method: 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), contentType: String(res.headers['content-type']) }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(700, 0x20));
      setTimeout(() => {
        req.write(Buffer.alloc(700, 0x20));
        req.end(Buffer.alloc(648, 0x20));
      }, 30);
    });
    assert.equal(reply.status, 413);
    assert.match(reply.contentType, /^application\/json/);
    assert.deepEqual(Object.keys(reply.body), ['error']);
    assert.match(reply.body.error, /limit/);
    assert.match(reply.body.error, /1024/);
  });

  it('a body just under the limit is accepted', async () => {
    const body = fp32Input({ data: [1, 2, 3, 4] }).padEnd(LIMIT, ' ');
    const reply = await post(inferUrl(small, 'fp32'), body);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json.outputs[0].data, [1, 2, 3, 4]);
  });

  it('a Content-Length of a terabyte over a raw socket: 413 without allocating', async () => {
    for (const server of [srv, small]) {
      const before = process.memoryUsage().arrayBuffers;
      const reply = await rawExchange(
        server.server.httpPort,
        `POST /v2/models/fp32/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${TB}\r\n\r\n`,
        Buffer.from('{"inputs":'),
      );
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.equal(reply.status, 413, JSON.stringify(reply));
      assert.match(reply.headers['content-type'] ?? '', /^application\/json/);
      const body = JSON.parse(reply.body);
      assert.deepEqual(Object.keys(body), ['error']);
      assert.match(body.error, /1099511627776/);
      assert.match(body.error, /limit/);
      assert.ok(grown < 32 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    }
    await assertValidRequestWorks(srv);
    await assertValidRequestWorks(small);
  });

  it('declared but unsent Content-Lengths under the limit do not reserve memory up front', async () => {
    const declared = 60 * 1024 * 1024;
    const base = process.memoryUsage().arrayBuffers;
    const sockets = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect(srv.server.httpPort, '127.0.0.1', () => {
              socket.write(`POST /v2/models/fp32/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${declared}\r\n\r\n{"inputs":`);
              resolve(socket);
            });
            socket.on('error', reject);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const grown = process.memoryUsage().arrayBuffers - base;
    for (const s of sockets) s.destroy();
    assert.ok(grown < 16 * 1024 * 1024, `array buffers grew by ${(grown / 2 ** 20).toFixed(0)} MiB for 40 bytes received`);
    await assertValidRequestWorks(srv);
  });

  it('a gzip bomb (100 MB of zeros in ~100 kB) against the default 64 MiB limit: 413', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(100 * 1024 * 1024));
    assert.ok(bomb.byteLength < 200 * 1024);
    const reply = await post(inferUrl(srv, 'fp32'), bomb, { 'content-encoding': 'gzip' });
    assertError(reply, 413, /once inflated/, /limit/, /67108864/);
  });

  it('a small gzip bomb (256 KiB of zeros in a few hundred bytes) against the 1 KiB limit: 413', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(256 * 1024));
    assert.ok(bomb.byteLength < LIMIT, `bomb is ${bomb.byteLength} bytes`);
    const reply = await post(inferUrl(small, 'fp32'), bomb, { 'content-encoding': 'gzip' });
    assertError(reply, 413, /once inflated/, /limit/, /1024/);
  });

  it('a raw-deflate bomb (Content-Encoding: deflate): 413', async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(256 * 1024));
    const reply = await post(inferUrl(small, 'fp32'), bomb, { 'content-encoding': 'deflate' });
    assertError(reply, 413, /once inflated/, /limit/, /1024/);
  });

  it('a zlib-wrapped deflate bomb (Content-Encoding: deflate, the RFC 9110 form): 413', async () => {
    const bomb = zlib.deflateSync(Buffer.alloc(256 * 1024));
    const reply = await post(inferUrl(small, 'fp32'), bomb, { 'content-encoding': 'deflate' });
    assertError(reply, 413, /once inflated/, /limit/, /1024/);
  });

  it('a compressed body that inflates to just under the limit is accepted', async () => {
    const body = zlib.gzipSync(fp32Input({ data: [4, 3, 2, 1] }).padEnd(LIMIT - 1, ' '));
    const reply = await post(inferUrl(small, 'fp32'), body, { 'content-encoding': 'gzip' });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json.outputs[0].data, [4, 3, 2, 1]);
  });

  it('both servers still serve after the limits were hit', async () => {
    await assertValidRequestWorks(srv);
    await assertValidRequestWorks(small);
    await assertLive(srv);
    await assertLive(small);
  });
});

describe('malformed and valid requests at the same time', () => {
  it('50 malformed and 50 valid requests concurrently: every valid one gets its own answer', async () => {
    const malformed = Array.from({ length: 50 }, (_, i) => CORPUS[(i * 7) % CORPUS.length]!);
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      const bad = malformed[i]!;
      jobs.push(
        sendCase(srv, bad).then((reply) => {
          assertError(reply, bad.status, ...bad.patterns);
        }),
      );
      const values = [i, i + 0.5, -i - 1, i * 1024]; // no -0: JSON cannot carry it
      const binary = i % 2 === 1;
      if (binary) {
        const { body, headerLength } = bin(
          {
            id: `v${i}`,
            inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }],
            parameters: { binary_data_output: true },
          },
          f32(values),
        );
        jobs.push(
          post(inferUrl(srv, 'fp32'), body, { 'inference-header-content-length': String(headerLength) }).then((reply) => {
            assert.equal(reply.status, 200, reply.text);
            assert.equal(reply.json.id, `v${i}`);
            assert.ok(reply.binary.equals(f32(values)), `request ${i} got ${reply.binary.toString('hex')}`);
          }),
        );
      } else {
        jobs.push(
          post(inferUrl(srv, 'fp32'), json({ id: `v${i}`, inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: values }] })).then(
            (reply) => {
              assert.equal(reply.status, 200, reply.text);
              assert.equal(reply.json.id, `v${i}`);
              assert.deepEqual(reply.json.outputs[0].data, values);
            },
          ),
        );
      }
    }
    const results = await Promise.allSettled(jobs);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(failures.length, 0, failures.map((f) => String(f.reason)).join('\n'));
    await assertValidRequestWorks(srv);
    await assertLive(srv);
  });
});
