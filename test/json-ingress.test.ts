/**
 * How request bodies enter the server, through HTTP with the bytes Triton's and KServe's clients
 * send: 64-bit integers in JSON exact both ways, NaN/Infinity tokens, application/json without
 * a charset on every JSON route, an oversized body written whole before the answer is read,
 * binary tensors whatever the JSON header length, and the errors for common body mistakes.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type TestServer, binaryBody, postBody, repoPath, startTestServer } from './helpers/server.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer(repoPath('test/fixtures/dtypes'));
});

after(async () => {
  await srv?.close();
});

const infer = (model: string) => `${srv.url}/v2/models/${model}/infer`;

/** The body text as a Triton client writes it (rapidjson writes int64 as plain digits). */
function int64Body(datatype: string, values: string[]): string {
  return `{"inputs":[{"name":"x","datatype":"${datatype}","shape":[1,${values.length}],"data":[${values.join(',')}]}]}`;
}

/** The `data` array of the first output, as text: JSON.parse would round what is tested. */
function dataText(text: string): string {
  const match = /"data":\[([^\]]*)\]/.exec(text);
  assert.ok(match, `no data in ${text}`);
  return match[1]!;
}

describe('64-bit integers in JSON', () => {
  it('INT64 from -2^63 to 2^63-1, as JSON numbers, come back digit for digit', async () => {
    const values = ['-9223372036854775808', '9223372036854775807', '-9007199254740993', '9007199254740993'];
    const reply = await postBody(infer('int64'), int64Body('INT64', values), { 'content-type': 'application/json' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(dataText(reply.text), values.join(','));
  });

  it('UINT64 up to 2^64-1 comes back digit for digit', async () => {
    const values = ['0', '18446744073709551615', '9223372036854775808', '9007199254740993'];
    const reply = await postBody(infer('uint64'), int64Body('UINT64', values));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(dataText(reply.text), values.join(','));
  });

  it('the binary section carries the same exact values', async () => {
    const raw = Buffer.alloc(16);
    raw.writeBigInt64LE(-(2n ** 63n), 0);
    raw.writeBigInt64LE(2n ** 63n - 1n, 8);
    const reply = await postBody(infer('int64'), int64Body('INT64', ['-9223372036854775808', '9223372036854775807']), {});
    assert.equal(reply.status, 200);
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: 'x', datatype: 'INT64', shape: [1, 2], parameters: { binary_data_size: 16 } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      },
      raw,
    );
    const bin = await postBody(infer('int64'), body, { 'inference-header-content-length': String(headerLength) });
    assert.equal(bin.status, 200, bin.text);
    assert.deepEqual(bin.binary, raw);
  });

  it('one past the range is refused, naming the element and the range', async () => {
    const over = await postBody(infer('int64'), int64Body('INT64', ['9223372036854775808']));
    assert.equal(over.status, 400);
    assert.match(
      over.json.error,
      /element 0 of 'data' is 9223372036854775808; expected an integer in \[-9223372036854775808, 9223372036854775807\]/,
    );
    const under = await postBody(infer('uint64'), int64Body('UINT64', ['18446744073709551616']));
    assert.equal(under.status, 400);
    assert.match(under.json.error, /18446744073709551616/);
  });

  it('V1 instances keep 64-bit integers exact in and out', async () => {
    const reply = await postBody(`${srv.url}/v1/models/int64:predict`, '{"instances":[[-9223372036854775808,9223372036854775807],[5,6]]}');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('content-type'), 'application/json');
    assert.equal(reply.text, '{"predictions":[[-9223372036854775808,9223372036854775807],[5,6]]}');
  });
});

describe('NaN and Infinity tokens', () => {
  it('FP32 and FP64 requests may carry NaN, Infinity and -Infinity, as Triton writes them', async () => {
    for (const model of ['fp32', 'fp64']) {
      const body =
        `{"inputs":[{"name":"x","datatype":"${model.toUpperCase()}","shape":[1,4],"data":[NaN,Infinity,-Infinity,1.5]}],` +
        `"outputs":[{"name":"y","parameters":{"binary_data":true}}]}`;
      const reply = await postBody(infer(model), body);
      assert.equal(reply.status, 200, reply.text);
      const values =
        model === 'fp32'
          ? [0, 1, 2, 3].map((i) => reply.binary.readFloatLE(i * 4))
          : [0, 1, 2, 3].map((i) => reply.binary.readDoubleLE(i * 8));
      assert.deepEqual(values, [NaN, Infinity, -Infinity, 1.5]);
    }
  });

  it('JSON answers write non-finite values as null (valid JSON for every client)', async () => {
    const reply = await postBody(infer('fp64'), '{"inputs":[{"name":"x","datatype":"FP64","shape":[1,3],"data":[NaN,-Infinity,2]}]}');
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json.outputs[0].data, [null, null, 2]);
  });

  it('a token that only looks like one is still refused as invalid JSON', async () => {
    const reply = await postBody(infer('fp32'), '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":[Nan]}]}');
    assert.equal(reply.status, 400);
    assert.match(reply.json.error, /not valid JSON/);
  });
});

describe('Content-Type of JSON answers', () => {
  const exact = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${srv.url}${path}`, { method, body });
    await res.arrayBuffer();
    return [res.status, res.headers.get('content-type')];
  };

  it('is application/json with no charset on v2, V1, errors, 404s and OpenAI routes', async () => {
    assert.deepEqual(await exact('GET', '/v2/health/live'), [200, 'application/json']);
    assert.deepEqual(await exact('GET', '/v2'), [200, 'application/json']);
    assert.deepEqual(await exact('GET', '/v2/models/fp32'), [200, 'application/json']);
    assert.deepEqual(await exact('GET', '/v2/models/nope'), [404, 'application/json']);
    assert.deepEqual(await exact('GET', '/no/such/route'), [404, 'application/json']);
    assert.deepEqual(await exact('POST', '/v2/models/fp32/infer', '{"inputs":'), [400, 'application/json']);
    assert.deepEqual(await exact('POST', '/v2/models/fp32/infer', '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":[1]}]}'), [
      200,
      'application/json',
    ]);
    assert.deepEqual(await exact('GET', '/v1/models/fp32'), [200, 'application/json']);
    assert.deepEqual(await exact('POST', '/v1/models/fp32:predict', '{"instances":[[1]]}'), [200, 'application/json']);
    assert.deepEqual(await exact('GET', '/openai/v1/models'), [200, 'application/json']);
    assert.deepEqual(await exact('POST', '/openai/v1/completions', '{"model":"nope","prompt":"x"}'), [404, 'application/json']);
  });
});

describe('body mistakes get errors that name them', () => {
  const x = { name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } };
  const tensor = Buffer.alloc(16);

  it('binary data without Inference-Header-Content-Length says the header is missing', async () => {
    const { body, headerLength } = binaryBody({ inputs: [x] }, tensor);
    const reply = await postBody(infer('fp32'), body, { 'content-type': 'application/octet-stream' });
    assert.equal(reply.status, 400);
    assert.match(reply.json.error, new RegExp(`${headerLength}-byte JSON header followed by 16 bytes`));
    assert.match(reply.json.error, /Inference-Header-Content-Length header is missing/);
  });

  it('binary_data_size with no binary section and no header says the header is missing', async () => {
    const reply = await postBody(infer('fp32'), JSON.stringify({ inputs: [x] }));
    assert.equal(reply.status, 400);
    assert.match(reply.json.error, /input 'x' gives 'binary_data_size' but the request has no Inference-Header-Content-Length header/);
  });

  it('a header length off by a few bytes says where the JSON really ends', async () => {
    const { body, headerLength } = binaryBody({ inputs: [x] }, tensor);
    for (const off of [-3, 5]) {
      const reply = await postBody(infer('fp32'), body, { 'inference-header-content-length': String(headerLength + off) });
      assert.equal(reply.status, 400);
      assert.match(
        reply.json.error,
        new RegExp(
          `Inference-Header-Content-Length is ${headerLength + off} but the JSON header of this body is ${headerLength} bytes long`,
        ),
      );
    }
  });

  it('4 M empty BYTES elements (16 MB) sent to an FP32 input are refused by datatype, before decoding', async () => {
    const count = 4 * 1024 * 1024;
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, count], parameters: { binary_data_size: 4 * count } }] },
      Buffer.alloc(4 * count),
    );
    const reply = await postBody(infer('fp32'), body, { 'inference-header-content-length': String(headerLength) });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error, "inference input 'x' data-type is 'BYTES', but model 'fp32' expects 'FP32'");
  });

  it('a v2 body sent to the V1 route says so', async () => {
    const reply = await postBody(`${srv.url}/v1/models/fp32:predict`, '{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}');
    assert.equal(reply.status, 400);
    assert.match(reply.json.error, /Open Inference Protocol \(v2\) request .* sent to the V1 route; POST it to \/v2\/models\/fp32\/infer/);
  });
});

describe('binary tensors whatever the JSON header length', () => {
  it('the same FP64 request padded to every header length mod 64 gives the same bytes', async () => {
    const raw = Buffer.alloc(8 * 37);
    for (let i = 0; i < 37; i++) raw.writeDoubleLE(Math.sin(i) * 1e3 + 1 / (i + 3), i * 8);
    const answers = new Set<string>();
    for (let pad = 0; pad < 64; pad += 7) {
      const header = {
        id: 'x'.repeat(pad),
        inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 37], parameters: { binary_data_size: raw.byteLength } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      };
      const { body, headerLength } = binaryBody(header, raw);
      const reply = await postBody(infer('fp64'), body, { 'inference-header-content-length': String(headerLength) });
      assert.equal(reply.status, 200, reply.text);
      answers.add(reply.binary.toString('hex'));
    }
    assert.deepEqual([...answers], [raw.toString('hex')]);
  });
});

describe('an oversized body written whole before the answer is read', () => {
  it('80 MiB over the 64 MiB default limit gets the 413 and its message, not a broken pipe', async () => {
    const size = 80 * 1024 * 1024;
    const { port } = new URL(srv.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const head = `POST /v2/models/fp32/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${size}\r\n\r\n`;
    // As tritonclient does: the whole body goes out before anything is read back.
    const written = new Promise<void>((resolve, reject) => {
      socket.write(head);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let left = size / chunk.byteLength;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.write('', (error) => (error ? reject(error) : resolve()));
      };
      pump();
      socket.once('error', reject);
    });
    await written;
    await closed;
    const text = Buffer.concat(received).toString('utf8');
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /content-type: application\/json\r\n/i);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(
      body.error,
      `Request body size of ${size} bytes exceeds the maximum allowed value of 67108864 bytes. Use --http-max-input-size to increase the limit.`,
    );
  });
});
