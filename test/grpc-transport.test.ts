/**
 * What surrounds the inference service on the gRPC port: message size limits
 * (--grpc_max_receive_message_length, --grpc_max_send_message_length), the standard health
 * service as Kubernetes probes call it, server reflection as grpcurl uses it, and
 * --enable_grpc.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { describe, it } from 'node:test';
import { FP32_IDENTITY, tempRepo } from './helpers/model-dir.js';
import { GrpcTestClient, assertStatus, outputBytes } from './helpers/grpc-client.js';
import { getJson, startTestServer } from './helpers/server.js';

function fp32Request(count: number) {
  const x = Buffer.from(new Float32Array(count).map((_, i) => i).buffer);
  return { request: { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, count] }], raw_input_contents: [x] }, x };
}

describe('message size limits', () => {
  it('a request over --grpc_max_receive_message_length or a response over --grpc_max_send_message_length: RESOURCE_EXHAUSTED', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    const srv = await startTestServer(repo.dir, { grpc_max_receive_message_length: 64 * 1024, grpc_max_send_message_length: 2048 });
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const big = fp32Request(20_000); // 80 kB of tensor
      await assertStatus(
        client.call('ModelInfer', big.request),
        grpc.status.RESOURCE_EXHAUSTED,
        /Received message larger than max \(\d+ vs\.? 65536\)/,
      );
      const answerTooBig = fp32Request(600); // 2.4 kB in, 2.4 kB back
      await assertStatus(
        client.call('ModelInfer', answerTooBig.request),
        grpc.status.RESOURCE_EXHAUSTED,
        /Sent message larger than max \(\d+ vs\.? 2048\)/,
      );
      const small = fp32Request(100);
      assert.ok(outputBytes(await client.call('ModelInfer', small.request), 0).equals(small.x), 'the server keeps serving');
    } finally {
      client.close();
      await srv.close();
      await repo.remove();
    }
  });

  it('the defaults take a 38 MB image batch (64 x 3 x 224 x 224 FP32)', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    const srv = await startTestServer(repo.dir);
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const x = Buffer.alloc(64 * 3 * 224 * 224 * 4, 7);
      const response = await client.call('ModelInfer', {
        model_name: 'm',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [64, 3 * 224 * 224] }],
        raw_input_contents: [x],
      });
      assert.ok(outputBytes(response, 0).equals(x));
    } finally {
      client.close();
      await srv.close();
      await repo.remove();
    }
  });
});

describe('grpc.health.v1.Health', () => {
  it('Check is SERVING for the server and the inference service; an unknown service is NOT_FOUND', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    const srv = await startTestServer(repo.dir);
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      assert.deepEqual(await client.check(''), { status: 'SERVING' });
      assert.deepEqual(await client.check('inference.GRPCInferenceService'), { status: 'SERVING' });
      await assertStatus(client.check('nope'), grpc.status.NOT_FOUND, /unknown service 'nope'/);
    } finally {
      client.close();
      await srv.close();
      await repo.remove();
    }
  });

  it('follows strict readiness as GET /v2/health/ready does: a model that failed to load means NOT_SERVING', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    await repo.write('broken/1/model.onnx', 'not an onnx file');
    for (const strict of [true, false]) {
      const srv = await startTestServer(repo.dir, { strict_readiness: strict });
      const client = new GrpcTestClient(srv.grpcAddress);
      try {
        const rest = await getJson(`${srv.url}/v2/health/ready`);
        assert.equal(rest.status, strict ? 503 : 200);
        assert.deepEqual(await client.check(''), { status: strict ? 'NOT_SERVING' : 'SERVING' });
        assert.deepEqual(await client.call('ServerReady'), { ready: !strict });
        assert.deepEqual(await client.call('ServerLive'), { live: true });
      } finally {
        client.close();
        await srv.close();
      }
    }
    await repo.remove();
  });

  it('Watch sends SERVING, then NOT_SERVING and the end of the stream when the server stops', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    const srv = await startTestServer(repo.dir);
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const watch = client.health.Watch({ service: '' });
      const statuses: string[] = [];
      const ended = new Promise<number>((resolve) => {
        watch.on('data', (m: { status: string }) => statuses.push(m.status));
        watch.on('status', (s: { code: number }) => resolve(s.code));
        watch.on('error', () => {});
      });
      await new Promise<void>((resolve) => watch.once('data', () => resolve()));
      assert.deepEqual(statuses, ['SERVING']);
      await srv.close();
      assert.equal(await ended, grpc.status.OK);
      assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    } finally {
      client.close();
      await srv.close();
      await repo.remove();
    }
  });
});

describe('server reflection', () => {
  const require = createRequire(import.meta.url);
  const reflectionProto = join(
    dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const Reflection = (grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true, oneofs: true })) as any).grpc
    .reflection.v1.ServerReflection;

  function ask(address: string, request: object): Promise<any> {
    const client = new Reflection(address, grpc.credentials.createInsecure());
    return new Promise((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (m: unknown) => {
        resolve(m);
        call.end();
        client.close();
      });
      call.on('error', reject);
      call.write(request);
    });
  }

  it('lists the services and describes GRPCInferenceService with its eighteen rpcs (shared memory included)', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    const srv = await startTestServer(repo.dir);
    try {
      const list = await ask(srv.grpcAddress, { list_services: '' });
      const names = list.list_services_response.service.map((s: { name: string }) => s.name);
      for (const s of ['inference.GRPCInferenceService', 'grpc.health.v1.Health']) assert.ok(names.includes(s), `${s} in ${names}`);

      const file = await ask(srv.grpcAddress, { file_containing_symbol: 'inference.GRPCInferenceService' });
      const protos = file.file_descriptor_response.file_descriptor_proto.map(
        (b: Buffer) => descriptor.FileDescriptorProto.decode(b) as any,
      );
      const service = protos.flatMap((p: any) => p.service).find((s: any) => s.name === 'GRPCInferenceService');
      assert.deepEqual(
        service.method.map((m: any) => m.name),
        [
          'ServerLive',
          'ServerReady',
          'ModelReady',
          'ServerMetadata',
          'ModelMetadata',
          'ModelInfer',
          'ModelStreamInfer',
          'ModelConfig',
          'ModelStatistics',
          'RepositoryIndex',
          'RepositoryModelLoad',
          'RepositoryModelUnload',
          'SystemSharedMemoryStatus',
          'SystemSharedMemoryRegister',
          'SystemSharedMemoryUnregister',
          'CudaSharedMemoryStatus',
          'CudaSharedMemoryRegister',
          'CudaSharedMemoryUnregister',
        ],
      );
      const stream = service.method.find((m: any) => m.name === 'ModelStreamInfer');
      assert.equal(stream.clientStreaming, true);
      assert.equal(stream.serverStreaming, true);
      assert.ok(
        protos.some((p: any) => p.messageType.some((m: any) => m.name === 'ModelConfig')),
        'model_config.proto comes with it',
      );
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});

describe('--enable_grpc false', () => {
  it('serves REST only', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    const srv = await startTestServer(repo.dir, { enable_grpc: false });
    try {
      assert.equal(srv.server.grpcPort, undefined);
      assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
    } finally {
      await srv.close();
      await repo.remove();
    }
  });
});
