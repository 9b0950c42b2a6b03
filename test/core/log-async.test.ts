// The asynchronous stderr of `bulwark serve`: lines are written off the request path, and none is
// lost when the process exits right after logging (process.exit, or the end of a shutdown).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const logModule = pathToFileURL(join(__dirname, '../../dist/core/log.js')).href;

/** Runs a script in a child Node process; resolves to its stderr and exit code. */
function runScript(script: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const lines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; n: number });

describe('asyncStderr', () => {
  it('loses no line when process.exit follows a burst of logging at once', async () => {
    const { code, stderr } = await runScript(`
      import { asyncStderr, createLogger } from ${JSON.stringify(logModule)};
      const logger = createLogger({ level: 'info' }, asyncStderr());
      for (let n = 0; n < 20000; n++) logger.info({ n, pad: 'x'.repeat(100) }, 'line');
      process.exit(3);
    `);
    expect(code).toBe(3);
    const got = lines(stderr);
    expect(got).toHaveLength(20000);
    expect(got.map((l) => l.n)).toEqual(Array.from({ length: 20000 }, (_, n) => n));
  });

  it('flushDestination resolves once every queued line is written, and a natural exit loses nothing', async () => {
    const { code, stderr } = await runScript(`
      import { asyncStderr, createLogger, flushDestination } from ${JSON.stringify(logModule)};
      const stderr = asyncStderr();
      const logger = createLogger({ level: 'info' }, stderr);
      for (let n = 0; n < 5000; n++) logger.info({ n, pad: 'y'.repeat(200) }, 'before flush');
      await flushDestination(stderr);
      process.stderr.write('FLUSHED\\n');
      logger.info({ n: 5000 }, 'after flush');
    `);
    expect(code).toBe(0);
    const flushedAt = stderr.indexOf('FLUSHED\n');
    expect(flushedAt).toBeGreaterThan(0);
    // Every line logged before the flush is written before the marker.
    expect(lines(stderr.slice(0, flushedAt))).toHaveLength(5000);
    expect(lines(stderr).map((l) => l.n)).toEqual(Array.from({ length: 5001 }, (_, n) => n));
  });

  it('redacts tokens as the synchronous logger does', async () => {
    const { stderr } = await runScript(`
      import { asyncStderr, createLogger } from ${JSON.stringify(logModule)};
      createLogger({ level: 'info' }, asyncStderr()).info({ token: 'secret-token-value' }, 'with token');
    `);
    expect(stderr).toContain('[redacted]');
    expect(stderr).not.toContain('secret-token-value');
  });
});
