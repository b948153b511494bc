/**
 * Shutdown with keep-alive clients: once the server starts closing, every response still to be
 * sent carries `Connection: close`, so the connection of a request in flight at SIGTERM closes
 * right after its answer instead of waiting for its client (or Envoy) to hang up. Fastify
 * itself closes the idle connections and answers requests arriving on open ones with 503.
 */
import type { FastifyInstance } from 'fastify';

export function registerDrain(app: FastifyInstance): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (request, reply) => {
    // HTTP/2 has no Connection header: its sessions get GOAWAY from the server's close.
    if (draining && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
  });
}
