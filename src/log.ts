/**
 * Structured JSON logs (pino, the logger fastify itself uses), one line per event on stdout.
 * The level comes from --log_level, or KServe's KSERVE_LOGLEVEL.
 */
import { type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level: string): Logger {
  return pino({ level: level.toLowerCase(), base: { service: 'tsserve' } });
}
