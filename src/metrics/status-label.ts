/**
 * One scheme for the `status` label of request metrics: the HTTP status code, whatever the
 * protocol. gRPC answers are labelled with the HTTP status of their code as google.rpc.Code
 * defines it (OK 200, INVALID_ARGUMENT 400, NOT_FOUND 404, RESOURCE_EXHAUSTED 429, CANCELLED 499,
 * UNIMPLEMENTED 501, UNAVAILABLE 503, ...), so one PromQL selector (`status=~"5.."`) covers
 * REST, V1 and gRPC alike; the protocol label tells them apart.
 */
const GRPC_TO_HTTP: Record<string, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

/** An HTTP status as is; a gRPC code name (or number as text) as its HTTP status. */
export function statusLabel(status: string | number): string {
  if (typeof status === 'number') return String(status);
  if (/^\d{3}$/.test(status)) return status;
  return String(GRPC_TO_HTTP[status] ?? 500);
}
