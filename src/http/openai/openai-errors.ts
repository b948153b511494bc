/**
 * Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the type
 * names KServe's OpenAI routes use and the HTTP status as the code.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { InvalidInputError, ServingError } from '../../core/errors.js';
import { httpStatus } from '../errors.js';

/** A bad field in an OpenAI request body; `param` names it. */
export class OpenAIParamError extends InvalidInputError {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

const TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  413: 'BadRequestError',
  500: 'InternalServerError',
  501: 'NotImplementedError',
  503: 'ServiceUnavailableError',
};

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export function openAIError(error: unknown): { status: number; body: OpenAIErrorBody } {
  let status = 500;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof ServingError) status = httpStatus(error);
  else {
    const fastifyStatus = (error as FastifyError).statusCode;
    if (fastifyStatus !== undefined && fastifyStatus >= 400 && fastifyStatus < 500) status = fastifyStatus;
    else message = `Internal server error: ${message}`;
  }
  const param = error instanceof OpenAIParamError ? error.param : null;
  return { status, body: { error: { message, type: TYPES[status] ?? 'BadRequestError', param, code: status } } };
}

/** Installs the OpenAI error shape for the routes registered in `scope` only. */
export function registerOpenAIErrors(scope: FastifyInstance): void {
  scope.setErrorHandler((error, request, reply) => {
    const { status, body } = openAIError(error);
    if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send(body);
  });
}
