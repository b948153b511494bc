/**
 * Readiness as the health endpoints report it, computed on each call so that REST, gRPC and
 * the gRPC health service always agree.
 */
import { ModelNotReadyError } from '../core/errors.js';
import type { ModelRegistry } from './model-registry.js';
import type { ModelVersion } from './model-version.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface ServerState {
  /** False while the initial models load and once shutdown has begun. */
  started: boolean;
  /** Triton's --strict-readiness: ready only while every loaded model is ready. */
  strict: boolean;
}

export function serverReadiness(registry: ModelRegistry, state: ServerState): Readiness {
  if (!state.started) return { ready: false, reason: 'Server is not ready: models are still loading' };
  if (state.strict && !registry.allReady()) {
    const notReady = registry
      .index()
      .filter((e) => e.state !== 'READY' && e.state !== 'UNLOADED')
      .map((e) => e.name);
    return { ready: false, reason: `Server is not ready: model(s) not ready: ${[...new Set(notReady)].join(', ')}` };
  }
  return { ready: true };
}

/** The error a request for a version that is not ready gets. */
export function notReadyError(v: ModelVersion): ModelNotReadyError {
  return new ModelNotReadyError(v.name, v.reason || v.state.toLowerCase());
}

export function versionReadiness(v: ModelVersion): Readiness {
  if (v.state === 'READY') return { ready: true };
  return { ready: false, reason: notReadyError(v).message };
}
