// Checkpoints are an attack surface (issue #20 item 3): a forged one must not make the scan skip
// events, a planted symlink must not make it overwrite another file, and any rejection is loud.
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointUnsafeError, HEAD_BYTES, readCheckpoint, writeCheckpoint, type Checkpoint } from '../../audit/checkpoint.js';
import { auditRegistry } from '../../audit/metrics.js';
import { auditEvent, lines, runCli, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const listSecrets = (user: string) =>
  auditEvent({
    verb: 'list',
    requestURI: '/api/v1/secrets',
    objectRef: { resource: 'secrets', apiVersion: 'v1' },
    user: { username: user, groups: ['system:authenticated'] },
  });

const alertsOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

async function rejectedCount(): Promise<number> {
  const m = await auditRegistry.getSingleMetric('bulwark_audit_checkpoint_rejected_total')!.get();
  return m.values.reduce((n, v) => n + v.value, 0);
}

/** A log of 30 events (larger than HEAD_BYTES) scanned once, and the checkpoint that scan left. */
async function scannedLog(): Promise<{ log: string; cp: string; saved: Checkpoint & { files: Record<string, any> } }> {
  const log = tmp.path('audit.log');
  const cp = tmp.path('state/cp.json');
  writeFileSync(log, lines(Array.from({ length: 30 }, (_, i) => listSecrets(`user-${i}`))));
  expect(statSync(log).size).toBeGreaterThan(HEAD_BYTES);
  const first = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
  expect(first.code).toBe(0);
  expect(alertsOf(first.stdout)).toHaveLength(30);
  return { log, cp, saved: JSON.parse(readFileSync(cp, 'utf8')) };
}

describe('forged checkpoints never make the scan skip events', () => {
  const FORGERIES: [string, (entry: Record<string, any>) => void, RegExp][] = [
    [
      'an empty head hash',
      (e) => {
        e.headBytes = 0;
        e.headHash = '';
      },
      /head hash covers 0 bytes where min\(1024, offset \d+\) = 1024 are required/,
    ],
    [
      'a head hash over too few bytes',
      (e) => {
        e.headBytes = 10;
      },
      /head hash covers 10 bytes/,
    ],
    [
      'a head hash that is not a sha256',
      (e) => {
        e.headHash = 'abc';
      },
      /must be a sha256 in hex/,
    ],
    [
      'a negative offset',
      (e) => {
        e.offset = -1;
      },
      /offset must be a whole number ≥ 0/,
    ],
    [
      'a wrong head hash',
      (e) => {
        e.headHash = 'f'.repeat(64);
      },
      /head hash does not match the file's first 1024 bytes/,
    ],
  ];

  it.each(FORGERIES)('%s: rejected loudly (log, metric, alert) and the whole log read again', async (_name, forge, reason) => {
    const { log, cp, saved } = await scannedLog();
    const entry = saved.files[resolve(log)];
    forge(entry);
    writeFileSync(cp, JSON.stringify(saved), { mode: 0o600 });
    const before = await rejectedCount();
    const r = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
    expect(r.code).toBe(0);
    const alerts = alertsOf(r.stdout);
    const rejected = alerts.filter((a) => a.type === 'audit-checkpoint-rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.message).toMatch(reason);
    expect(rejected[0]!.source).toBe('audit');
    expect(rejected[0]!.resource.name).toBe(resolve(cp));
    // Nothing skipped: the 30 events of the log alert again.
    expect(alerts.filter((a) => a.type === 'secrets-enumerated')).toHaveLength(30);
    expect(r.stderr).toMatch(/warning: checkpoint rejected: /);
    expect(await rejectedCount()).toBe(before + 1);
    // The checkpoint is rewritten honestly for the next run.
    const next = JSON.parse(readFileSync(cp, 'utf8')).files[resolve(log)];
    expect(next.headBytes).toBe(HEAD_BYTES);
    expect((await runCli(['--format', 'ndjson', '--checkpoint', cp, log])).stdout).toBe('');
  });
});

describe('checkpoint files and folders only this user can write', () => {
  it('refuses a world-writable folder: exit 2, an alert, and nothing written', async () => {
    const { log, cp } = await scannedLog();
    chmodSync(tmp.path('state'), 0o777);
    const before = readFileSync(cp, 'utf8');
    const r = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checkpoint rejected: .*state: the checkpoint folder is writable by its group and other users \(mode 777\)/);
    expect(alertsOf(r.stdout).map((a) => a.type)).toEqual(['audit-checkpoint-rejected']);
    expect(readFileSync(cp, 'utf8')).toBe(before);
  });

  it.each([
    ['group-writable', (f: string) => chmodSync(f, 0o620), /writable by its group \(mode 620\)/],
    ['owned by another user', (f: string) => chownSync(f, 4242, 4242), /belongs to user 4242/],
  ])('refuses a checkpoint file that is %s', async (_name, spoil, message) => {
    const { log, cp } = await scannedLog();
    if (_name.startsWith('owned') && process.getuid?.() !== 0) return; // chown needs root
    spoil(cp);
    const r = await runCli(['--format', 'ndjson', '--checkpoint', cp, log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a checkpoint path that is a symbolic link', async () => {
    const { log, cp } = await scannedLog();
    const real = tmp.path('state/real.json');
    writeFileSync(real, readFileSync(cp), { mode: 0o600 });
    const link = tmp.path('state/link.json');
    symlinkSync(real, link);
    await expect(readCheckpoint(link)).rejects.toThrow(CheckpointUnsafeError);
    const r = await runCli(['--format', 'ndjson', '--checkpoint', link, log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a symbolic link: refused/);
  });
});

describe('writing a checkpoint', () => {
  const cp: Checkpoint = { version: 1, savedAt: '2026-01-01T00:00:00Z', files: {}, pendingSessions: [] };

  it('never follows a symlink planted at the temporary path (the old, predictable name)', async () => {
    const dir = tmp.path('state');
    mkdirSync(dir, { mode: 0o700 });
    const victim = tmp.path('victim');
    writeFileSync(victim, 'precious\n');
    const file = `${dir}/cp.json`;
    symlinkSync(victim, `${file}.tmp-${process.pid}`);
    for (let i = 0; i < 20; i++) symlinkSync(victim, `${dir}/.cp.json.guess${i}.tmp`);
    await writeCheckpoint(file, cp);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(cp);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Only the planted links and the checkpoint are there: no temporary file left behind.
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') && !n.includes('guess'))).toEqual([]);
  });

  it('creates its folder 0700 and refuses to write into one others can write', async () => {
    const file = tmp.path('new/deeper/cp.json');
    await writeCheckpoint(file, cp);
    expect(statSync(tmp.path('new/deeper')).mode & 0o777).toBe(0o700);
    const open = tmp.path('open');
    mkdirSync(open);
    chmodSync(open, 0o757);
    await expect(writeCheckpoint(`${open}/cp.json`, cp)).rejects.toThrow(/writable by other users \(mode 757\)/);
    expect(existsSync(`${open}/cp.json`)).toBe(false);
  });
});
