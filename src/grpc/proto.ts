/**
 * The gRPC service definitions, loaded at run time from proto/ with @grpc/proto-loader. The
 * server, the reflection service and the tests' client all use this one definition.
 */
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../proto-path.js';

export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/**
 * Proto field names as they are (Triton's snake_case), 64-bit integers as decimal strings so
 * that INT64/UINT64 contents and uint64 statistics stay exact, enums by name, every field
 * present, and the name of the member each oneof holds (InferParameter.parameter_choice).
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export function loadDefinitions(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(['grpc_service.proto', 'health.proto'], LOADER_OPTIONS);
}
