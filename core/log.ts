// The one logger (pino) of every module: webhook, audit, alerts and cli.
import { destination as pinoDestination, pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * The process logger. Structured JSON to stderr by default (stdout stays free for the
 * machine-readable output of commands); BULWARK_LOG_LEVEL sets the level.
 * Authorization headers and tokens are redacted wherever they appear.
 */
export function createLogger(options: LoggerOptions = {}, destination: NodeJS.WritableStream | DestinationStream = process.stderr): Logger {
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

/**
 * An asynchronous stderr for long-running servers (`bulwark serve`): a log line is queued and
 * written off the request path (sonic-boom, `sync: false`) instead of blocking the event loop on
 * a synchronous write. No line is lost on a normal exit: pino flushes the queue synchronously on
 * process `exit` (and on `beforeExit`), and `flushDestination` drains it before a planned exit.
 */
export function asyncStderr(): DestinationStream {
  return pinoDestination({ dest: 2, sync: false });
}

/**
 * Waits until every line queued on an `asyncStderr()` destination has been written (bounded by
 * `timeoutMs`). sonic-boom's own flush() answers at once with `minLength` 0 even while a write is
 * in flight, so this waits for its 'drain' (emitted when the last queued write completes).
 */
export function flushDestination(destination: DestinationStream, timeoutMs = 2000): Promise<void> {
  const stream = destination as DestinationStream & { _writing?: boolean; _len?: number; once?(event: 'drain', cb: () => void): void };
  if (!stream._writing && !stream._len) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    stream.once?.('drain', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
