/**
 * Node prints process warnings (deprecations, the AWS SDK's notice that it will drop this Node
 * version, experimental features) as plain text on stderr. Every log line must be JSON, so the
 * default printer is replaced by one JSON line per warning at warn level.
 */
import type { Logger } from './log.js';

export function routeProcessWarnings(logger: Logger): void {
  // Node's own printer is an ordinary 'warning' listener: removing it stops the text lines.
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    logger.warn({ warning: { name: warning.name, code: warning.code, message: warning.message } }, 'process warning');
  });
}
