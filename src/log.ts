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
