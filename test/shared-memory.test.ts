/**
 * Triton's system shared-memory extension as tritonclient's shm utilities use it: the client
 * creates POSIX shared-memory objects (on Linux, files under /dev/shm), registers them by name,
 * and infers with inputs and outputs that name a region instead of carrying bytes. Over REST
 * and gRPC, against the bundled classifier, with the reference outputs sklearn computed.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { type TestServer, getJson, postJson, repoPath, startTestServer } from './helpers/server.js';

interface ClassifierCases {
  inputs: number[][];
  label: number[];
  probabilities: number[][];
}
const cases: ClassifierCases = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8'));
const rows = cases.inputs.slice(0, 3);
const INPUT_BYTES = rows.length * 4 * 4;
const PROBABILITY_BYTES = rows.length * 3 * 4;

/** A shared-memory object as shm_open + ftruncate make it: key "/name" is /dev/shm/name. */
function shmObject(tag: string, size: number): { key: string; path: string } {
  const name = `tsserve-test-${process.pid}-${tag}`;
  writeFileSync(`/dev/shm/${name}`, Buffer.alloc(size));
  return { key: `/${name}`, path: `/dev/shm/${name}` };
}

function writeInput(path: string, offset: number): void {
  const bytes = Buffer.from(new Float32Array(rows.flat()).buffer);
  const file = readFileSync(path);
  bytes.copy(file, offset);
  writeFileSync(path, file);
}

function assertProbabilities(bytes: Buffer): void {
  const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + PROBABILITY_BYTES));
  const expected = cases.probabilities.slice(0, rows.length).flat();
  assert.equal(got.length, expected.length);
  got.forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) < 1e-5, `probability ${i}: ${p} vs ${expected[i]}`));
}

describe('system shared memory', () => {
  let srv: TestServer;
  let grpc: GrpcTestClient;
  const input = shmObject('in', 64 + INPUT_BYTES);
  const output = shmObject('out', 256);

  before(async () => {
    srv = await startTestServer(repoPath('models'));
    grpc = new GrpcTestClient(`127.0.0.1:${srv.server.grpcPort}`);
    writeInput(input.path, 64);
  });
  after(async () => {
    grpc.close();
    await srv.close();
    rmSync(input.path, { force: true });
    rmSync(output.path, { force: true });
  });

  it('is listed among the server extensions', async () => {
    const { body } = await getJson(`${srv.url}/v2`);
    assert.ok(body.extensions.includes('system_shared_memory'));
    assert.ok(!body.extensions.includes('cuda_shared_memory'));
  });

  it('registers, reports, infers through regions and unregisters over REST', async () => {
    const register = (name: string, body: object) => postJson(`${srv.url}/v2/systemsharedmemory/region/${name}/register`, body);
    assert.equal((await register('input_data', { key: input.key, offset: 64, byte_size: INPUT_BYTES })).status, 200);
    assert.equal((await register('output_data', { key: output.key, offset: 0, byte_size: 256 })).status, 200);

    const listed = await getJson(`${srv.url}/v2/systemsharedmemory/status`);
    assert.deepEqual(listed.body, [
      { name: 'input_data', key: input.key, offset: 64, byte_size: INPUT_BYTES },
      { name: 'output_data', key: output.key, offset: 0, byte_size: 256 },
    ]);
    const one = await getJson(`${srv.url}/v2/systemsharedmemory/region/output_data/status`);
    assert.deepEqual(one.body, [{ name: 'output_data', key: output.key, offset: 0, byte_size: 256 }]);

    const infer = await postJson(`${srv.url}/v2/models/classifier/infer`, {
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [rows.length, 4],
          parameters: { shared_memory_region: 'input_data', shared_memory_byte_size: INPUT_BYTES },
        },
      ],
      outputs: [
        {
          name: 'probabilities',
          parameters: { shared_memory_region: 'output_data', shared_memory_byte_size: 128, shared_memory_offset: 16 },
        },
        { name: 'label' },
      ],
    });
    assert.equal(infer.status, 200, JSON.stringify(infer.body));
    const [probabilities, label] = infer.body.outputs;
    assert.deepEqual(probabilities, {
      name: 'probabilities',
      datatype: 'FP32',
      shape: [rows.length, 3],
      parameters: { shared_memory_region: 'output_data', shared_memory_byte_size: PROBABILITY_BYTES, shared_memory_offset: 16 },
    });
    assert.deepEqual(label.data, cases.label.slice(0, rows.length));
    assertProbabilities(readFileSync(output.path).subarray(16));

    assert.equal((await postJson(`${srv.url}/v2/systemsharedmemory/region/input_data/unregister`, {})).status, 200);
    assert.deepEqual(
      (await getJson(`${srv.url}/v2/systemsharedmemory/status`)).body.map((r: { name: string }) => r.name),
      ['output_data'],
    );
    assert.equal((await postJson(`${srv.url}/v2/systemsharedmemory/unregister`, {})).status, 200);
    assert.deepEqual((await getJson(`${srv.url}/v2/systemsharedmemory/status`)).body, []);
  });

  it('refuses unknown regions, bad keys, duplicates and out-of-bounds offsets with Triton words', async () => {
    const inferFrom = (parameters: object) =>
      postJson(`${srv.url}/v2/models/classifier/infer`, {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], parameters }],
      });

    const unknown = await inferFrom({ shared_memory_region: 'nowhere', shared_memory_byte_size: INPUT_BYTES });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "Unable to find shared memory region: 'nowhere'");

    const badKey = await postJson(`${srv.url}/v2/systemsharedmemory/region/r/register`, {
      key: '/no-such-object-here',
      offset: 0,
      byte_size: 8,
    });
    assert.equal(badKey.status, 400);
    assert.match(badKey.body.error, /Unable to open shared memory region: '\/no-such-object-here'/);
    const traversal = await postJson(`${srv.url}/v2/systemsharedmemory/region/r/register`, {
      key: '/../etc/passwd',
      offset: 0,
      byte_size: 8,
    });
    assert.equal(traversal.status, 400);

    const tooBig = await postJson(`${srv.url}/v2/systemsharedmemory/region/r/register`, { key: input.key, offset: 64, byte_size: 4096 });
    assert.equal(tooBig.status, 400);
    assert.match(tooBig.body.error, /failed to register shared memory region 'r': invalid args/);

    assert.equal(
      (await postJson(`${srv.url}/v2/systemsharedmemory/region/r/register`, { key: input.key, offset: 64, byte_size: INPUT_BYTES })).status,
      200,
    );
    const twice = await postJson(`${srv.url}/v2/systemsharedmemory/region/r/register`, { key: input.key, offset: 0, byte_size: 8 });
    assert.equal(twice.status, 400);
    assert.equal(twice.body.error, "shared memory region 'r' already in manager");

    const past = await inferFrom({ shared_memory_region: 'r', shared_memory_byte_size: INPUT_BYTES, shared_memory_offset: 8 });
    assert.equal(past.status, 400);
    assert.equal(past.body.error, "Invalid offset + byte size for shared memory region: 'r'");
    const wrongSize = await inferFrom({ shared_memory_region: 'r', shared_memory_byte_size: INPUT_BYTES - 16 });
    assert.equal(wrongSize.status, 400);
    assert.match(wrongSize.body.error, /expected 48 bytes for FP32 shape \[3,4\], got 32/);
    const both = await postJson(`${srv.url}/v2/models/classifier/infer`, {
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [1, 4],
          data: [1, 2, 3, 4],
          parameters: { shared_memory_region: 'r', shared_memory_byte_size: 16 },
        },
      ],
    });
    assert.equal(both.status, 400);
    assert.match(both.body.error, /exactly one of 'data', 'parameters.binary_data_size' or 'parameters.shared_memory_region'/);

    assert.equal(
      (await postJson(`${srv.url}/v2/systemsharedmemory/region/small/register`, { key: output.key, offset: 0, byte_size: 8 })).status,
      200,
    );
    const small = await postJson(`${srv.url}/v2/models/classifier/infer`, {
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [rows.length, 4],
          parameters: { shared_memory_region: 'r', shared_memory_byte_size: INPUT_BYTES },
        },
      ],
      outputs: [{ name: 'probabilities', parameters: { shared_memory_region: 'small', shared_memory_byte_size: 8 } }],
    });
    assert.equal(small.status, 400);
    assert.match(
      small.body.error,
      /shared memory size specified with the request for output 'probabilities' \(8 bytes\) should be at least 36 bytes/,
    );

    const missing = await getJson(`${srv.url}/v2/systemsharedmemory/region/ghost/status`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, "Unable to find system shared memory region: 'ghost'");
    await postJson(`${srv.url}/v2/systemsharedmemory/unregister`, {});
  });

  it('answers CUDA shared memory with a clear "not supported"', async () => {
    const cuda = await postJson(`${srv.url}/v2/cudasharedmemory/region/gpu/register`, {
      raw_handle: { b64: 'AAAA' },
      device_id: 0,
      byte_size: 8,
    });
    assert.equal(cuda.status, 501);
    assert.match(cuda.body.error, /CUDA shared memory is not supported/);
    assert.deepEqual((await getJson(`${srv.url}/v2/cudasharedmemory/status`)).body, []);
    await assertStatus(
      grpc.call('CudaSharedMemoryRegister', { name: 'gpu', raw_handle: Buffer.alloc(64), device_id: 0, byte_size: 8 }),
      status.UNIMPLEMENTED,
      /not supported/,
    );
  });

  it('registers and infers through regions over gRPC, with no raw entry for the shared input', async () => {
    await grpc.call('SystemSharedMemoryRegister', { name: 'in', key: input.key, offset: 64, byte_size: INPUT_BYTES });
    await grpc.call('SystemSharedMemoryRegister', { name: 'out', key: output.key, offset: 0, byte_size: 256 });
    const listed = await grpc.call('SystemSharedMemoryStatus', {});
    assert.deepEqual(Object.keys(listed.regions).sort(), ['in', 'out']);
    assert.equal(listed.regions.in.key, input.key);
    assert.equal(listed.regions.in.byte_size, String(INPUT_BYTES));

    writeFileSync(output.path, Buffer.alloc(256));
    const response = await grpc.call('ModelInfer', {
      model_name: 'classifier',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [rows.length, 4],
          parameters: { shared_memory_region: { string_param: 'in' }, shared_memory_byte_size: { int64_param: INPUT_BYTES } },
        },
      ],
      outputs: [
        {
          name: 'probabilities',
          parameters: { shared_memory_region: { string_param: 'out' }, shared_memory_byte_size: { int64_param: 256 } },
        },
        { name: 'label' },
      ],
    });
    assert.deepEqual(
      response.outputs.map((o: { name: string }) => o.name),
      ['probabilities', 'label'],
    );
    assert.equal(response.outputs[0].parameters.shared_memory_region.string_param, 'out');
    assert.equal(Number(response.outputs[0].parameters.shared_memory_byte_size.int64_param), PROBABILITY_BYTES);
    assert.equal(response.raw_output_contents[0].length, 0);
    assert.deepEqual(
      Array.from(new BigInt64Array(new Uint8Array(outputBytes(response, 1)).buffer), Number),
      cases.label.slice(0, rows.length),
    );
    assertProbabilities(readFileSync(output.path));

    await grpc.call('SystemSharedMemoryUnregister', { name: 'in' });
    await assertStatus(
      grpc.call('SystemSharedMemoryStatus', { name: 'in' }),
      status.NOT_FOUND,
      /Unable to find system shared memory region: 'in'/,
    );
    await assertStatus(
      grpc.call('ModelInfer', {
        model_name: 'classifier',
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [rows.length, 4],
            parameters: { shared_memory_region: { string_param: 'in' }, shared_memory_byte_size: { int64_param: INPUT_BYTES } },
          },
        ],
      }),
      status.NOT_FOUND,
      /Unable to find shared memory region: 'in'/,
    );
    await grpc.call('SystemSharedMemoryUnregister', {});
    assert.deepEqual((await grpc.call('SystemSharedMemoryStatus', {})).regions, {});
  });
});
