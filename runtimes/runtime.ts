/**
 * Transitional: the runtime contract moved to src/core/runtime.ts. Only src/repository still
 * imports it from here until the registry refactor (issue 12, items 1-2) points it at core.
 */
export type * from '../src/core/runtime.js';
