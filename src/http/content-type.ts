/**
 * JSON answers carry `Content-Type: application/json` with no charset, as Triton's and
 * KServe's servers send it: KServe's REST client reads `error` only from exactly that type, so
 * with fastify's default (`application/json; charset=utf-8`) its users saw "404 Not Found"
 * without the reason. JSON is UTF-8 by definition (RFC 8259), so nothing is lost.
 */
import type { FastifyInstance } from 'fastify';

const FASTIFY_JSON = 'application/json; charset=utf-8';

export function registerJsonContentType(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.getHeader('content-type') === FASTIFY_JSON) reply.header('content-type', 'application/json');
    done(null, payload);
  });
}
