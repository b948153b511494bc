/**
 * Transitional: the CUDA probe moved to runtimes/onnx/execution-provider.ts and the decision's
 * type to src/core/runtime.ts; src/repository imports it from here until the registry refactor.
 */
export type { ProviderDecision } from '../core/runtime.js';
