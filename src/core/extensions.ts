/**
 * The protocol extensions this server implements, as Triton names them. Both frontends report
 * the same list (REST `GET /v2`, gRPC ServerMetadata); perf_analyzer reads "statistics" and
 * "model_configuration" from it to decide what to ask for.
 */
export const EXTENSIONS = [
  'binary_tensor_data',
  'classification',
  'model_configuration',
  'model_repository',
  'parameters',
  'statistics',
  'system_shared_memory',
];

export const SERVER_NAME = 'tsserve';
