/**
 * grpc-js writes its own diagnostics (a peer that broke the protocol, a failed bind) as text to
 * stderr through console.error. They go to our JSON log instead, at warn level (grpc-js reports
 * connection trouble it has already handled as "errors"), with its verbosity following ours.
 */
import * as grpc from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from '../log.js';

export function routeGrpcLogs(logger: Logger): void {
  const log = logger.child({ component: 'grpc-js' });
  grpc.setLogger({
    error: (...args: unknown[]) => log.warn(format(...args)),
    info: (...args: unknown[]) => log.info(format(...args)),
    debug: (...args: unknown[]) => log.debug(format(...args)),
  } as unknown as Partial<Console>);
  grpc.setLogVerbosity(log.isLevelEnabled('debug') ? grpc.logVerbosity.DEBUG : grpc.logVerbosity.ERROR);
}
