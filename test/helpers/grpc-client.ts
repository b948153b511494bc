/**
 * gRPC clients for tests, built from the server's own proto files (proto/) with
 * @grpc/grpc-js, as any generated client would be: inference.GRPCInferenceService and
 * grpc.health.v1.Health.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadDefinitions } from '../../src/grpc/proto.js';

type Callback = (error: grpc.ServiceError | null, response: any) => void;
type UnaryMethod = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback) => grpc.ClientUnaryCall;

const definitions = loadDefinitions();
const loaded = grpc.loadPackageDefinition(definitions) as any;

/** A client's options like tritonclient's: no message size limits. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

export class GrpcTestClient {
  readonly inference: grpc.Client & Record<string, any>;
  readonly health: grpc.Client & Record<string, any>;

  constructor(address: string, credentials = grpc.credentials.createInsecure()) {
    this.inference = new loaded.inference.GRPCInferenceService(address, credentials, CHANNEL_OPTIONS);
    this.health = new loaded.grpc.health.v1.Health(address, credentials, CHANNEL_OPTIONS);
  }

  /** Calls a unary rpc of the inference service; rejects with the grpc ServiceError. */
  call(method: string, request: object = {}, metadata = new grpc.Metadata()): Promise<any> {
    return unary(this.inference, method, request, metadata);
  }

  check(service: string): Promise<{ status: string }> {
    return unary(this.health, 'Check', { service }, new grpc.Metadata());
  }

  close(): void {
    this.inference.close();
    this.health.close();
  }
}

function unary(client: Record<string, any>, method: string, request: object, metadata: grpc.Metadata): Promise<any> {
  const fn = client[method] as UnaryMethod | undefined;
  assert.ok(fn, `the proto has no rpc ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, request, metadata, { deadline: Date.now() + 30_000 }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Asserts that `promise` fails with gRPC status `code` and a message matching every pattern. */
export async function assertStatus(promise: Promise<unknown>, code: grpc.status, ...patterns: RegExp[]): Promise<grpc.ServiceError> {
  const error = await promise.then(
    (value) => assert.fail(`expected status ${grpc.status[code]}, got a response: ${JSON.stringify(value)}`),
    (e: grpc.ServiceError) => e,
  );
  assert.equal(error.code, code, `expected ${grpc.status[code]}, got ${grpc.status[error.code]}: ${error.details}`);
  for (const p of patterns) assert.match(error.details, p);
  return error;
}

/** The bytes of a raw output as a fresh, aligned buffer. */
export function outputBytes(response: any, index: number): Buffer {
  return Buffer.from(response.raw_output_contents[index] as Buffer);
}
