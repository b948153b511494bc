/** How errors leave over HTTP: always `{"error": "..."}`, with the status of the error's code. */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { type ErrorCode, PayloadTooLargeError, ServingError } from '../core/errors.js';

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  PAYLOAD_TOO_LARGE: 413,
  ALREADY_EXISTS: 400,
  RESOURCE_EXHAUSTED: 503,
  // nginx's "client closed request": nobody reads it, but logs and metrics do.
  CANCELLED: 499,
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Why the request was refused (4xx), for its one log line. */
    refusal: string | null;
  }
}

export function httpStatus(error: ServingError): number {
  return STATUS[error.code];
}

const ABORT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'FST_ERR_CTP_BODY_TOO_LARGE_ABORTED']);

/** The client went away while its body was being read: nothing to answer, nothing broken here. */
function clientAborted(request: FastifyRequest, error: Error): boolean {
  return (
    request.raw.aborted ||
    request.raw.destroyed ||
    ABORT_CODES.has(String((error as NodeJS.ErrnoException).code)) ||
    error.message === 'aborted'
  );
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.decorateRequest('refusal', null);
  app.setErrorHandler((error: FastifyError | ServingError | Error, request, reply) => {
    if (error instanceof ServingError) {
      const status = httpStatus(error);
      // 501 (an unsupported verb, :explain) is the client's choice of route, not a fault here.
      if (status >= 500 && status !== 503 && status !== 501) request.log.error({ err: error }, 'request failed');
      if (status < 500 || status === 501) request.refusal = error.message;
      if (error instanceof PayloadTooLargeError && error.closeConnection) reply.header('connection', 'close');
      return reply.status(status).send({ error: error.message });
    }
    if (clientAborted(request, error)) {
      request.log.info({ reason: error.message }, 'client aborted the request before its body was read');
      return reply.status(499).send({ error: 'client closed the request' });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      request.refusal = error.message;
      return reply.status(status).send({ error: error.message });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send({ error: `Internal server error: ${error.message}` });
  });
  app.setNotFoundHandler((request, reply) => {
    request.refusal = `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`;
    return reply.status(404).send({ error: 'Not Found' });
  });
}
