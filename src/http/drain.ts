/**
 * Shutdown with keep-alive clients: once the server starts closing, every response still to be
 * sent carries `Connection: close`, so the connection of a request in flight at SIGTERM closes
 * right after its answer instead of waiting for its client (or Envoy) to hang up. Fastify
 * itself closes the idle connections and answers requests arriving on open ones with 503.
 * What is left once no request is being handled (a client that sent half a request and gave
 * up, a connection that turned idle after close() looked) is closed too, so the process exits
 * as soon as nothing is in flight rather than at the end of the grace period.
 */
import type { FastifyInstance } from 'fastify';

/** Sweeps with no request in flight before the remaining connections are closed. */
const QUIET_SWEEPS = 2;
const SWEEP_MS = 200;

export function registerDrain(app: FastifyInstance): void {
  let draining = false;
  let active = 0;
  app.server.on('request', (_req, res) => {
    active++;
    res.once('close', () => active--);
  });
  let sweep: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    draining = true;
    let quiet = 0;
    sweep = setInterval(() => {
      quiet = active === 0 ? quiet + 1 : 0;
      if (quiet >= QUIET_SWEEPS) app.server.closeAllConnections();
      else app.server.closeIdleConnections();
    }, SWEEP_MS);
  });
  app.addHook('onClose', async () => clearInterval(sweep));
  app.addHook('onSend', async (request, reply) => {
    // HTTP/2 has no Connection header: its sessions get GOAWAY from the server's close.
    if (draining && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
  });
}
