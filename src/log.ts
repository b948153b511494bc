/**
 * Structured JSON logs (pino, the logger fastify itself uses), one line per event on stdout.
 * The level comes from --log_level, or KServe's KSERVE_LOGLEVEL. Credentials never reach a log
 * line: known secret fields are redacted wherever they appear.
 */
import { type Logger as PinoLogger, destination, pino } from 'pino';

export type Logger = PinoLogger;

const SECRET_FIELDS = ['authorization', 'password', 'token', 'secret', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'apiKey', 'api_key'];

/** Secret-looking names: flags, environment variables, config keys. */
export const SECRET_NAME = /(key|token|secret|password|passwd|credential|authorization)/i;

export function createLogger(level: string): Logger {
  // Synchronous writes: a line logged just before a crash or a kill is not lost in a buffer.
  return pino({
    level: level.toLowerCase(),
    base: { service: 'tsserve' },
    redact: {
      paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'req.headers.authorization', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
  }, destination({ dest: 1, sync: true }));
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * fastify's childLoggerFactory: the per-request child (bound to the request id) is made only
 * when a line is actually written. pino's child() serialises and redacts its bindings at once,
 * about 3-7 us a request, for a logger that at the default level is used only on a 5xx.
 */
export function lazyChildLogger(this: unknown, parent: Logger, bindings: Record<string, unknown>, options: object): Logger {
  let real: Logger | undefined;
  const get = () => (real ??= parent.child(bindings, options));
  const lazy: Record<string, unknown> = {
    child: (b: Record<string, unknown>, o?: object) => get().child(b, o),
    isLevelEnabled: (level: string) => (real ?? parent).isLevelEnabled(level),
    silent: () => {},
  };
  for (const level of LEVELS) {
    lazy[level] = (...args: unknown[]) => {
      if ((real ?? parent).isLevelEnabled(level)) (get()[level] as (...a: unknown[]) => void)(...args);
    };
  }
  Object.defineProperty(lazy, 'level', {
    get: () => (real ?? parent).level,
    set: (level: string) => {
      get().level = level;
    },
    enumerable: true,
  });
  return lazy as unknown as Logger;
}
