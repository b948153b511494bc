/**
 * GET /health: vLLM's probe path, which KServe's LLMInferenceService template points its
 * startup, liveness and readiness probes at. 200 with an empty body once the models are loaded
 * and ready (as vLLM answers), 503 with the reason otherwise, like /v2/health/ready.
 */
import type { FastifyInstance } from 'fastify';
import type { DataPlane } from '../dataplane/data-plane.js';

export function registerHealthRoute(app: FastifyInstance, dataPlane: DataPlane): void {
  app.get('/health', async (_request, reply) => {
    const readiness = dataPlane.ready();
    if (!readiness.ready) return reply.status(503).send({ error: readiness.reason });
    return reply.status(200).send();
  });
}
