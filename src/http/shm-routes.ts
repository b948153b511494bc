/**
 * Triton's shared-memory extensions over REST: system (POSIX) regions are served; CUDA regions
 * answer that they are not supported, so a client learns why instead of meeting a 404.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidInputError, NotFoundError, NotImplementedError } from '../core/errors.js';
import { CUDA_SHM_UNSUPPORTED, type SystemSharedMemory } from '../shm/system-shared-memory.js';
import { isObject, parseJsonBody } from './v2-request.js';

type Region = { Params: { region: string } };

function registerBody(body: Uint8Array | undefined, region: string): Record<string, unknown> {
  const json = body?.byteLength ? parseJsonBody(body) : undefined;
  if (!isObject(json))
    throw new InvalidInputError(`registering shared memory region '${region}' needs a JSON body {"key", "offset", "byte_size"}`);
  return json;
}

export function registerSharedMemoryRoutes(app: FastifyInstance, shm: SystemSharedMemory): void {
  const base = '/v2/systemsharedmemory';
  app.get(`${base}/status`, async () => shm.status());
  app.get<Region>(`${base}/region/:region/status`, async (request) => shm.status(request.params.region));
  app.post<Region>(`${base}/region/:region/register`, async (request) => {
    const { region } = request.params;
    const body = registerBody(request.body as Uint8Array | undefined, region);
    shm.register(region, body.key, body.offset, body.byte_size);
    return {};
  });
  app.post(`${base}/unregister`, async () => (shm.unregister(), {}));
  app.post<Region>(`${base}/region/:region/unregister`, async (request) => (shm.unregister(request.params.region), {}));

  const cuda = '/v2/cudasharedmemory';
  app.get(`${cuda}/status`, async () => []);
  app.get<Region>(`${cuda}/region/:region/status`, async (request) => {
    throw new NotFoundError(`Unable to find cuda shared memory region: '${request.params.region}'`);
  });
  app.post<Region>(`${cuda}/region/:region/register`, async () => {
    throw new NotImplementedError(CUDA_SHM_UNSUPPORTED);
  });
  app.post(`${cuda}/unregister`, async () => ({}));
  app.post<Region>(`${cuda}/region/:region/unregister`, async () => ({}));
}
