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

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Printable ASCII without quotes or spaces: shown bare; anything else is JSON-quoted (escapes included). */
const BARE = /^[\x21\x23-\x7e]{1,200}$/;

/**
 * One pino JSON line as a person reads it on a terminal: `12:04:05.123 INFO  message  key=value …`.
 * Control characters from logged values (user names, paths, request fields) are escaped, so a log
 * line can never drive the terminal. A line that is not JSON is passed on as it is.
 */
export function prettyLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (record === null || typeof record !== 'object') return line;
  const { level, time, msg, pid: _pid, hostname: _hostname, name: _name, ...rest } = record;
  const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = (typeof level === 'number' ? LEVEL_NAMES[level] : undefined) ?? String(level ?? '');
  const message = JSON.stringify(typeof msg === 'string' ? msg : '').slice(1, -1);
  const fields = Object.entries(rest)
    .map(([k, v]) => `${JSON.stringify(k).slice(1, -1)}=${typeof v === 'string' && BARE.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${when} ${lvl.padEnd(5)} ${message}${fields ? `  ${fields}` : ''}\n`;
}

/** A destination that writes pino's lines to `out` in the terminal form (`--log-format pretty`). */
export function prettyDestination(out: NodeJS.WritableStream = process.stderr): DestinationStream {
  return { write: (line: string) => void out.write(prettyLogLine(line)) };
}
