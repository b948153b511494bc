/** How errors leave over HTTP: always `{"error": "..."}`, with the status of the error's code. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, ServingError } from '../core/errors.js';

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  PAYLOAD_TOO_LARGE: 413,
  ALREADY_EXISTS: 400,
};

export function httpStatus(error: ServingError): number {
  return STATUS[error.code];
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ServingError | Error, request, reply) => {
    if (error instanceof ServingError) {
      const status = httpStatus(error);
      if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
      return reply.status(status).send({ error: error.message });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return reply.status(status).send({ error: error.message });
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send({ error: `Internal server error: ${error.message}` });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'Not Found' }));
}
