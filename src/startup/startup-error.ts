/**
 * A reason the server cannot start that the user fixes (a flag, a path, a port): logged as one
 * JSON line that says what to change, then a non-zero exit, never a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
