// --follow and --checkpoint: tailing like `tail -F` through rotation (rename + new file, and
// copytruncate), and restarts that neither skip nor re-alert.
import { appendFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { at, auditEvent, auditID, lines, runCli, tempDir } from './helpers.js';
import { requestKey } from '../../audit/analyser.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** A secrets-enumerated event by `user` (one alert per user: easy to count). */
function listSecrets(user: string, o: Record<string, unknown> = {}) {
  return auditEvent({
    verb: 'list',
    requestURI: '/api/v1/secrets',
    objectRef: { resource: 'secrets', apiVersion: 'v1' },
    user: { username: user, groups: ['system:authenticated'] },
    ...o,
  });
}

/** Starts `audit scan --follow` in-process; `stdout()` reads what it printed so far. */
function follow(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  const done = runCli(['--follow', '--poll-interval', '20', '--format', 'ndjson', ...args], {
    stdout: { write: (s: string) => void out.push(s) },
    stderr: { write: (s: string) => void err.push(s) },
    signal: ac.signal,
  });
  return {
    users: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).user.username as string),
    types: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).type as string),
    stderr: () => err.join(''),
    stop: async () => {
      ac.abort();
      return done;
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('--follow', () => {
  it('reads new lines as they are appended, including a line written in two parts', async () => {
    const log = tmp.path('audit.log');
    writeFileSync(log, lines([listSecrets('u1')]));
    const f = follow([log]);
    await until(() => f.users().length === 1, 'u1');
    const partial = JSON.stringify(listSecrets('u2'));
    appendFileSync(log, partial.slice(0, 50));
    await new Promise((r) => setTimeout(r, 80));
    expect(f.users()).toEqual(['u1']);
    appendFileSync(log, partial.slice(50) + '\n');
    await until(() => f.users().length === 2, 'u2');
    const r = await f.stop();
    expect(r.code).toBe(0);
    expect(f.users()).toEqual(['u1', 'u2']);
  });

  it('an exec alerts when the session opens (ResponseStarted), once', async () => {
    const log = tmp.path('audit.log');
    const id = auditID();
    const ref = { resource: 'pods', namespace: 'prod', name: 'web-0', apiVersion: 'v1', subresource: 'exec' };
    const ev = (stage: string) =>
      auditEvent({
        auditID: id,
        stage: stage as 'ResponseStarted',
        verb: 'create',
        requestURI: '/api/v1/namespaces/prod/pods/web-0/exec?command=sh',
        objectRef: ref,
        responseStatus: { metadata: {}, code: 101 },
      });
    writeFileSync(log, lines([ev('RequestReceived'), ev('ResponseStarted')]));
    const f = follow([log]);
    await until(() => f.users().length === 1, 'the exec alert');
    appendFileSync(log, lines([ev('ResponseComplete')]));
    await new Promise((r) => setTimeout(r, 100));
    await f.stop();
    expect(f.users().length).toBe(1);
  });

  it('survives rotation by rename + new file: the old file is drained, the new one read from its start', async () => {
    const log = tmp.path('audit.log');
    writeFileSync(log, lines([listSecrets('before')]));
    const f = follow([log]);
    await until(() => f.users().length === 1, 'before');
    // The writer appends a last line and rotates (lumberjack: rename, then create a new file).
    appendFileSync(log, lines([listSecrets('last-in-old')]));
    renameSync(log, tmp.path('audit-2024-06-01T10-00-00.000.log'));
    writeFileSync(log, lines([listSecrets('first-in-new')]));
    await until(() => f.users().length === 3, 'the rotated lines');
    appendFileSync(log, lines([listSecrets('later')]));
    await until(() => f.users().length === 4, 'later');
    await f.stop();
    expect(f.users()).toEqual(['before', 'last-in-old', 'first-in-new', 'later']);
    expect(f.stderr()).toContain('rotated');
  });

  it('survives copytruncate: a shrunk file is read again from its start', async () => {
    const log = tmp.path('audit.log');
    writeFileSync(log, lines([listSecrets('a'), listSecrets('b')]));
    const f = follow([log]);
    await until(() => f.users().length === 2, 'a, b');
    truncateSync(log, 0);
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(log, lines([listSecrets('c')]));
    await until(() => f.users().length === 3, 'c');
    await f.stop();
    expect(f.users()).toEqual(['a', 'b', 'c']);
    expect(f.stderr()).toContain('truncated');
  });

  it('waits for a file that does not exist yet', async () => {
    const log = tmp.path('later.log');
    const f = follow([log]);
    await new Promise((r) => setTimeout(r, 60));
    writeFileSync(log, lines([listSecrets('x')]));
    await until(() => f.users().length === 1, 'x');
    await f.stop();
  });
});

describe('--checkpoint', () => {
  it('a restart resumes where it stopped: no skip, no re-alert', async () => {
    const log = tmp.path('audit.log');
    const cp = tmp.path('state/checkpoint.json');
    writeFileSync(log, lines([listSecrets('one'), listSecrets('two')]));
    const f1 = follow(['--checkpoint', cp, log]);
    await until(() => f1.users().length === 2, 'one, two');
    await f1.stop();
    const saved = JSON.parse(readFileSync(cp, 'utf8'));
    const entry = Object.values(saved.files)[0] as { offset: number; ino: string; headHash: string };
    expect(entry.offset).toBe(readFileSync(log).length);
    expect(entry.headHash).toMatch(/^[0-9a-f]{64}$/);

    // Written while Bulwark was stopped.
    appendFileSync(log, lines([listSecrets('three')]));
    const f2 = follow(['--checkpoint', cp, log]);
    await until(() => f2.users().length === 1, 'three');
    appendFileSync(log, lines([listSecrets('four')]));
    await until(() => f2.users().length === 2, 'four');
    await f2.stop();
    expect(f2.users()).toEqual(['three', 'four']);
    expect(f2.stderr()).toContain('resuming at byte');
  });

  it('an exec that opened before the checkpoint does not alert again when it completes after the restart', async () => {
    const log = tmp.path('audit.log');
    const cp = tmp.path('cp.json');
    const id = auditID();
    const ref = { resource: 'pods', namespace: 'prod', name: 'web-0', apiVersion: 'v1', subresource: 'exec' };
    const ev = (stage: string) =>
      auditEvent({ auditID: id, stage: stage as 'ResponseStarted', verb: 'create', objectRef: ref, responseStatus: { metadata: {}, code: 101 } });
    writeFileSync(log, lines([ev('ResponseStarted')]));
    const f1 = follow(['--checkpoint', cp, log]);
    await until(() => f1.users().length === 1, 'exec');
    await f1.stop();
    // Pending sessions are kept by request key (auditID, verb, URI, user, receipt time), not by auditID alone.
    expect(JSON.parse(readFileSync(cp, 'utf8')).pendingSessions).toEqual([requestKey(ev('ResponseStarted'))]);
    appendFileSync(log, lines([ev('ResponseComplete')]));
    const f2 = follow(['--checkpoint', cp, log]);
    await new Promise((r) => setTimeout(r, 100));
    await f2.stop();
    expect(f2.users()).toEqual([]);
  });

  it('rotated while stopped: the rest of the old file (found by inode) is read, then the new file', async () => {
    const log = tmp.path('audit.log');
    const cp = tmp.path('cp.json');
    writeFileSync(log, lines([listSecrets('seen')]));
    const f1 = follow(['--checkpoint', cp, log]);
    await until(() => f1.users().length === 1, 'seen');
    await f1.stop();
    appendFileSync(log, lines([listSecrets('after-checkpoint')]));
    renameSync(log, tmp.path('audit-2024-06-01T11-00-00.000.log'));
    writeFileSync(log, lines([listSecrets('new-file')]));
    const f2 = follow(['--checkpoint', cp, log]);
    await until(() => f2.users().length === 2, 'both');
    await f2.stop();
    expect(f2.users()).toEqual(['after-checkpoint', 'new-file']);
  });

  it('a file truncated and rewritten while stopped (same inode, other first bytes) is read from the start', async () => {
    const log = tmp.path('audit.log');
    const cp = tmp.path('cp.json');
    writeFileSync(log, lines([listSecrets('old-1'), listSecrets('old-2')]));
    const f1 = follow(['--checkpoint', cp, log]);
    await until(() => f1.users().length === 2, 'old');
    await f1.stop();
    writeFileSync(log, lines([listSecrets('new-1'), listSecrets('new-2'), listSecrets('new-3', { requestReceivedTimestamp: at(5) })]));
    const f2 = follow(['--checkpoint', cp, log]);
    await until(() => f2.users().length === 4, 'new');
    await f2.stop();
    // The checkpoint no longer matches the file: said loudly (an alert of its own), nothing skipped.
    expect(f2.types()).toEqual(['audit-checkpoint-rejected', 'secrets-enumerated', 'secrets-enumerated', 'secrets-enumerated']);
    expect(f2.users().slice(1)).toEqual(['new-1', 'new-2', 'new-3']);
  });

  it('without --follow, --checkpoint scans what is new and exits (cron style)', async () => {
    const log = tmp.path('audit.log');
    const cp = tmp.path('cp.json');
    writeFileSync(log, lines([listSecrets('a')]));
    const r1 = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
    expect(r1.code).toBe(0);
    expect(r1.stdout.trim().split('\n').length).toBe(1);
    const r2 = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
    expect(r2.stdout).toBe('');
    appendFileSync(log, lines([listSecrets('b')]));
    const r3 = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
    expect(JSON.parse(r3.stdout).user.username).toBe('b');
  });

  it('a corrupt checkpoint is an error (exit 2), not a silent restart', async () => {
    const log = tmp.path('audit.log');
    const cp = tmp.path('cp.json');
    writeFileSync(log, lines([listSecrets('a')]));
    writeFileSync(cp, '{not json');
    const r = await runCli(['--checkpoint', cp, log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the checkpoint is not valid JSON');
  });
});
