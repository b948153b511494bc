/**
 * The shared-memory RPCs of inference.GRPCInferenceService, answered from the same region
 * manager and with the same messages as the REST routes (src/http/shm-routes.ts).
 */
import { NotFoundError, NotImplementedError } from '../core/errors.js';
import { CUDA_SHM_UNSUPPORTED, type SystemSharedMemory } from '../shm/system-shared-memory.js';

interface NameRequest {
  name: string;
}

interface RegisterRequest extends NameRequest {
  key: string;
  offset: string;
  byte_size: string;
}

/** Handlers keyed by RPC name; `unary` wraps each into the service's error handling. */
export function sharedMemoryHandlers(shm: SystemSharedMemory): Record<string, (request: never) => unknown> {
  return {
    SystemSharedMemoryStatus: (r: NameRequest) => ({
      regions: Object.fromEntries(shm.status(r.name || undefined).map((s) => [s.name, s])),
    }),
    SystemSharedMemoryRegister: (r: RegisterRequest) => (shm.register(r.name, r.key, r.offset, r.byte_size), {}),
    SystemSharedMemoryUnregister: (r: NameRequest) => (shm.unregister(r.name || undefined), {}),
    CudaSharedMemoryStatus: (r: NameRequest) => {
      if (r.name) throw new NotFoundError(`Unable to find cuda shared memory region: '${r.name}'`);
      return { regions: {} };
    },
    CudaSharedMemoryRegister: () => {
      throw new NotImplementedError(CUDA_SHM_UNSUPPORTED);
    },
    CudaSharedMemoryUnregister: () => ({}),
  };
}
