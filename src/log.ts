/**
 * Structured JSON logs (pino, the logger fastify itself uses), one line per event on stdout.
 * The level comes from --log_level, or KServe's KSERVE_LOGLEVEL. Credentials never reach a log
 * line: known secret fields are redacted wherever they appear.
 */
import { type Level, type Logger as PinoLogger, destination, pino } from 'pino';

export type Logger = PinoLogger;

const SECRET_FIELDS = ['authorization', 'password', 'token', 'secret', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'apiKey', 'api_key'];

/** Secret-looking names: flags, environment variables, config keys. */
export const SECRET_NAME = /(key|token|secret|password|passwd|credential|authorization)/i;

/**
 * Log level names as pino knows them, plus Python's as KServe's KSERVE_LOGLEVEL spells them
 * (WARNING, CRITICAL, NOTSET), in any case. `silent` turns logging off.
 */
const LEVELS: Readonly<Record<string, Level | 'silent'>> = {
  trace: 'trace', notset: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn',
  error: 'error', fatal: 'fatal', critical: 'fatal', silent: 'silent',
};

export const LOG_LEVEL_NAMES: readonly string[] = Object.keys(LEVELS);

/** The pino level `name` stands for; undefined when it names none. */
export function logLevel(name: string): Level | 'silent' | undefined {
  return LEVELS[name.trim().toLowerCase()];
}

/** A logger at `level` (any name logLevel takes); an unknown name logs at info. */
export function createLogger(level: string): Logger {
  // Synchronous writes: a line logged just before a crash or a kill is not lost in a buffer.
  return pino({
    level: logLevel(level) ?? 'info',
    base: { service: 'tsserve' },
    redact: {
      paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'req.headers.authorization', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
  }, destination({ dest: 1, sync: true }));
}
