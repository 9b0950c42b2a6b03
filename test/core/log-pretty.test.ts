// The terminal form of log lines (`bulwark serve --log-format pretty`, the default on a TTY).
import { describe, expect, it } from 'vitest';
import { createLogger, prettyDestination, prettyLogLine } from '../../core/log.js';

describe('prettyLogLine', () => {
  it('time, level, message, then the fields; pid, hostname and name dropped', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      pid: 1,
      hostname: 'h',
      name: 'bulwark',
      msg: 'slow sink',
      sink: 'store',
      ms: 120,
      tags: ['a'],
    });
    expect(prettyLogLine(line)).toBe('03:04:05.678 WARN  slow sink  sink=store ms=120 tags=["a"]\n');
  });

  it('escapes control characters of messages and values: a log line never drives the terminal', () => {
    const out = prettyLogLine(JSON.stringify({ level: 30, time: 0, msg: 'user \u001b[2Jx\nforged', user: 'eve\u001b]0;pwned\u0007', path: 'a b' }));
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    expect(out).toContain('user \\u001b[2Jx\\nforged');
    expect(out).toContain('user="eve\\u001b]0;pwned\\u0007"');
    expect(out).toContain('path="a b"');
  });

  it('passes on what is not a JSON object', () => {
    expect(prettyLogLine('plain text\n')).toBe('plain text\n');
    expect(prettyLogLine('42')).toBe('42');
  });

  it('is what a pino logger writes through prettyDestination, redaction kept', () => {
    const lines: string[] = [];
    const logger = createLogger({}, prettyDestination({ write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream));
    logger.info({ token: 'secret-token', who: 'alice' }, 'signed in');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ INFO {2}signed in {2}token=\[redacted\] who=alice\n$/);
    expect(lines[0]).not.toContain('secret-token');
  });
});
