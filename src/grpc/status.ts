/** Errors as gRPC statuses: the code of the error's class, and the same message REST sends. */
import { type StatusObject, status } from '@grpc/grpc-js';
import { type ErrorCode, ServingError } from '../core/errors.js';
import type { Logger } from '../log.js';

const CODES: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  CANCELLED: status.CANCELLED,
};

/** The gRPC status name of an error, as metrics label it. */
export function statusName(error: unknown): string {
  return status[error instanceof ServingError ? CODES[error.code] : status.INTERNAL];
}

export type ErrorStatus = Pick<StatusObject, 'code' | 'details'>;

export function toStatus(error: unknown, logger: Logger): ErrorStatus {
  if (error instanceof ServingError) {
    if (error.code === 'INTERNAL') logger.error({ err: error }, 'gRPC request failed');
    return { code: CODES[error.code], details: error.message };
  }
  logger.error({ err: error }, 'unexpected error in a gRPC request');
  return { code: status.INTERNAL, details: `Internal server error: ${error instanceof Error ? error.message : String(error)}` };
}
