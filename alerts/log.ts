// The one logger (pino) and the alert log line every source writes.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Alert, AlertSink } from './model.js';

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

/** Writes each alert as one structured `alert` line. */
export class LogAlertSink implements AlertSink {
  constructor(private readonly logger: Logger) {}

  async record(alert: Alert): Promise<void> {
    // Admission alerts carry the request uid on the line itself, like every admission log line.
    const uid = alert.source === 'admission' ? alert.evidence.uid : undefined;
    this.logger.warn(uid === undefined ? { alert } : { uid, alert }, `alert ${alert.type}: ${alert.message}`);
  }
}
