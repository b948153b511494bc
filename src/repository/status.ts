/**
 * What the health and metadata endpoints report, computed on each call so that REST and gRPC
 * (and the gRPC health service) always agree.
 */
import { ModelNotReadyError } from '../core/errors.js';
import type { TensorSpec } from '../core/tensor.js';
import type { ModelRepository } from './model-repository.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface ServerState {
  /** False while the initial models load and once shutdown has begun. */
  started: boolean;
  /** Triton's --strict-readiness: ready only while every loaded model is ready. */
  strict: boolean;
}

export function serverReadiness(repository: ModelRepository, state: ServerState): Readiness {
  if (!state.started) return { ready: false, reason: 'Server is not ready: models are still loading' };
  if (state.strict && !repository.allReady()) {
    const notReady = repository.index().filter((e) => e.state !== 'READY' && e.state !== 'UNLOADED').map((e) => e.name);
    return { ready: false, reason: `Server is not ready: model(s) not ready: ${[...new Set(notReady)].join(', ')}` };
  }
  return { ready: true };
}

/** Throws NOT_FOUND for an unknown model or version. */
export function modelReadiness(repository: ModelRepository, model: string, version?: string): Readiness {
  const v = repository.resolve(model, version);
  if (v.state === 'READY') return { ready: true };
  return { ready: false, reason: new ModelNotReadyError(model, v.reason || v.state.toLowerCase()).message };
}

export interface ModelDescription {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Model metadata; throws NOT_FOUND for an unknown model, UNAVAILABLE for one not ready. */
export function describeModel(repository: ModelRepository, model: string, version?: string): ModelDescription {
  const v = repository.resolve(model, version);
  if (v.state !== 'READY' || !v.metadata) throw new ModelNotReadyError(model, v.reason || v.state.toLowerCase());
  const { inputs, outputs } = v.specs();
  return { name: model, versions: [v.version], platform: v.metadata.platform, inputs, outputs };
}
