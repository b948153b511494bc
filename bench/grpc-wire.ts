/** gRPC requests as bytes on the wire, for load generators that speak HTTP/2 themselves. */
import type * as grpc from '@grpc/grpc-js';
import { INFERENCE_SERVICE, loadDefinitions } from '../src/grpc/proto.js';

const service = loadDefinitions()[INFERENCE_SERVICE] as grpc.ServiceDefinition;

export const GRPC_HEADERS = { 'content-type': 'application/grpc', te: 'trailers' };

export function methodPath(method: 'ModelInfer' | 'ModelStreamInfer'): string {
  return service[method]!.path;
}

/** A ModelInferRequest for one FP32 input, with its data in raw_input_contents (as tritonclient sends it). */
export function inferMessage(model: string, input: string, shape: number[], data: Float32Array): Buffer {
  return service['ModelInfer']!.requestSerialize({
    model_name: model,
    inputs: [{ name: input, datatype: 'FP32', shape }],
    raw_input_contents: [Buffer.from(data.buffer, data.byteOffset, data.byteLength)],
  });
}

/** gRPC's length-prefixed message: compressed flag 0, uint32 big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.byteLength);
  frame.writeUInt32BE(message.byteLength, 1);
  message.copy(frame, 5);
  return frame;
}
