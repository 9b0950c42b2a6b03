// threat-intel-source: intel.files (TOR bulk exit list, addresses, CIDRs, IPv4+IPv6, comments),
// every sourceIPs entry, reload on change, relative paths against the config file's folder,
// and `bulwark intel check`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { IntelLists } from '../../../audit/intel.js';
import { loadConfigFile } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'threat-intel-source';
const dir = mkdtempSync(join(tmpdir(), 'bulwark-intel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'intel'));
// The TOR bulk exit list format: one address a line (and our comments).
writeFileSync(join(dir, 'intel', 'tor-exits.txt'), '# torbulkexitlist\n185.220.101.33\n185.220.101.34\n2a0b:f4c2::22\n');
writeFileSync(
  join(dir, 'intel', 'blocked.cidr'),
  '203.0.113.0/24   # incident 42\n2001:db8:bad::/48\n; drop list comment\nExitAddress 198.51.100.9 2024-06-01 10:00:00\nnot-an-ip\n',
);
const configPath = join(dir, 'bulwark.yaml');
writeFileSync(configPath, 'cluster: {name: prod-eu-1}\nintel: {files: [./intel/tor-exits.txt, intel/blocked.cidr]}\n');

const problems: string[] = [];
const analyser = () => new AuditAnalyser({ config: loadConfigFile(configPath), onIntelProblem: (m) => problems.push(m) });
const analyse = (ev: AuditEvent) =>
  analyser()
    .analyse(ev)
    .filter((a) => a.type === ID);

describe(ID, () => {
  it.each([
    ['a TOR exit as the only address', { sourceIPs: ['185.220.101.33'] }, 'listed in ./intel/tor-exits.txt (185.220.101.33/32)'],
    ['an address inside a CIDR', { sourceIPs: ['203.0.113.77'] }, 'listed in intel/blocked.cidr (203.0.113.0/24)'],
    ['the listed address behind a proxy (X-Forwarded-For first, proxy last)', { sourceIPs: ['203.0.113.5', '10.0.0.1'] }, '203.0.113.5'],
    ['the listed address last (the connection), a forged XFF first', { sourceIPs: ['127.0.0.1', '185.220.101.34'] }, '185.220.101.34'],
    ['IPv6', { sourceIPs: ['2a0b:f4c2::22'] }, '(2a0b:f4c2::22/128)'],
    ['an IPv6 block', { sourceIPs: ['2001:db8:bad:1::5'] }, '(2001:db8:bad::/48)'],
    ['an IPv4-mapped IPv6 address', { sourceIPs: ['::ffff:203.0.113.9'] }, '203.0.113.0/24'],
    ['an ExitAddress line', { sourceIPs: ['198.51.100.9'] }, '198.51.100.9'],
    [
      'a lone ResponseStarted 401 with user {}',
      { sourceIPs: ['185.220.101.33'], stage: 'ResponseStarted', user: {}, responseStatus: { metadata: {}, code: 401 } },
      'an unauthenticated client',
    ],
    ['a denied request', { sourceIPs: ['185.220.101.33'], responseStatus: { metadata: {}, code: 403 } }, '185.220.101.33'],
    ['impersonation: both names shown', { sourceIPs: ['185.220.101.33'], impersonatedUser: { username: 'bob', groups: [] } }, '(impersonating bob)'],
  ] as const)('fires on %s', (_n, extra, text) => {
    const alerts = analyse(auditEvent(extra as Record<string, unknown>));
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.message).toContain(text);
    expect(alerts[0]!.severity).toBe('high');
    expect(alerts[0]!.resource.kind).toBe('SourceIP');
    expect(alerts[0]!.cluster).toBe('prod-eu-1');
    expect(alerts[0]!.tactics.length).toBeGreaterThan(0);
  });

  it.each([
    ['an unlisted address', { sourceIPs: ['8.8.8.8'] }],
    ['no sourceIPs', { sourceIPs: undefined }],
    ['sourceIPs not a list', { sourceIPs: '185.220.101.33' }],
    ['garbage entries', { sourceIPs: [7, null, 'x', '185.220.101.33.1'] }],
    ['RequestReceived', { sourceIPs: ['185.220.101.33'], stage: 'RequestReceived' }],
    ['a listed address past the 16th entry', { sourceIPs: [...Array.from({ length: 16 }, () => '10.0.0.1'), '185.220.101.33'] }],
  ] as const)('does not fire on %s', (_n, extra) => {
    expect(analyse(auditEvent(extra as Record<string, unknown>))).toEqual([]);
  });

  it('reports a bad line with file and line, and keeps the rest', () => {
    analyser();
    expect(problems.some((p) => p.includes('intel/blocked.cidr:5: not an IP address or CIDR: "not-an-ip", skipped'))).toBe(true);
  });

  it('a missing file at start is a clear error', () => {
    const bad = join(dir, 'missing.yaml');
    writeFileSync(bad, 'intel: {files: [nowhere.txt]}\n');
    expect(() => new AuditAnalyser({ config: loadConfigFile(bad) })).toThrow(/intel\.files: cannot read nowhere\.txt \(.*nowhere\.txt\): ENOENT/);
  });
});

describe('re-reading the files when they change', () => {
  it('a new address is seen after the file changes, without a new analyser; a vanished file keeps the old lists', () => {
    const file = join(dir, 'live.txt');
    writeFileSync(file, '192.0.2.1\n');
    let now = 0;
    const seen: string[] = [];
    const lists = new IntelLists({ files: [file], reloadIntervalMs: 1000, now: () => now, onProblem: (m) => seen.push(m) });
    const a = new AuditAnalyser({ config: loadConfigFile(configPath), intel: lists });
    const fire = (ip: string) => a.analyse(auditEvent({ sourceIPs: [ip] })).some((x) => x.type === ID);
    expect(fire('192.0.2.1')).toBe(true);
    expect(fire('192.0.2.2')).toBe(false);
    // A ConfigMap update: a new file renamed into place.
    writeFileSync(file + '.new', '192.0.2.2\n');
    renameSync(file + '.new', file);
    expect(fire('192.0.2.2')).toBe(false); // within the interval: not checked yet
    now += 1000;
    expect(fire('192.0.2.2')).toBe(true);
    expect(fire('192.0.2.1')).toBe(false);
    rmSync(file);
    now += 1000;
    expect(fire('192.0.2.2')).toBe(true);
    expect(seen.some((m) => m.includes('cannot read') && m.includes('keeping the previous lists'))).toBe(true);
    expect(lists.generation).toBe(2);
  });
});

describe('bulwark intel check', () => {
  const bin = join(new URL('../../..', import.meta.url).pathname, 'bin', 'bulwark.js');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, 'intel', 'check', ...args], { encoding: 'utf8', timeout: 15_000, cwd: tmpdir() });

  it('says which list matched (relative paths against the config folder, not the working directory); exit 1 when one is listed', () => {
    const r = run(['-c', configPath, '185.220.101.33', '8.8.8.8', '2001:db8:bad::1']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      '185.220.101.33\tlisted in ./intel/tor-exits.txt (185.220.101.33/32)\n8.8.8.8\tnot listed\n2001:db8:bad::1\tlisted in intel/blocked.cidr (2001:db8:bad::/48)\n',
    );
  });

  it('exit 0 when none is listed; JSON output', () => {
    const r = run(['-c', configPath, '-o', 'json', '8.8.8.8']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ ip: '8.8.8.8', listed: false }]);
  });

  it.each([
    [['-c', configPath, 'nope'], 'not an IP address: "nope"'],
    [['8.8.8.8'], 'no intel.files'],
  ])('exit 2 with a clear message: %j', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
