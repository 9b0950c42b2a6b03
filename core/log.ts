// The one logger (pino) of every module: webhook, audit, alerts and cli.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * The process logger. Structured JSON to stderr by default (stdout stays free for the
 * machine-readable output of commands); BULWARK_LOG_LEVEL sets the level.
 * Authorization headers and tokens are redacted wherever they appear.
 */
export function createLogger(options: LoggerOptions = {}, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      name: 'bulwark',
      level: process.env.BULWARK_LOG_LEVEL ?? 'info',
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token', '*.token', 'password', '*.password'], censor: '[redacted]' },
      ...options,
    },
    destination as DestinationStream,
  );
}
