// The reader's shortcut for RequestReceived lines (audit/input.ts isRequestReceivedLine): a line
// the API server wrote for that stage is counted without being parsed; every other line — another
// stage, another encoder's field order, a cut-short line, a hostile auditID — is parsed as before.
// The e2e suite checks the same equivalence on a real kube-apiserver's log.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isRequestReceivedLine } from '../../audit/skim.js';
import type { AuditEvent } from '../../audit/event.js';
import { auditEvent, lines, runCli, tempDir } from './helpers.js';

const stages = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
const execRef = { resource: 'pods', namespace: 'kube-system', name: 'etcd-0', apiVersion: 'v1', subresource: 'exec' };
const execURI = '/api/v1/namespaces/kube-system/pods/etcd-0/exec?command=sh&stdin=true';

/** An event in the API server's field order (the helper's), at a stage and level. */
function line(stage: AuditEvent['stage'], overrides: Record<string, unknown> = {}): string {
  const ev = auditEvent({ stage, ...overrides });
  if (stage === 'RequestReceived') delete (ev as Partial<AuditEvent>).responseStatus;
  return JSON.stringify(ev);
}

describe('isRequestReceivedLine', () => {
  it('says yes exactly for the RequestReceived stage, at every level, and agrees with JSON.parse on the fixtures', () => {
    for (const level of ['Metadata', 'Request', 'RequestResponse'])
      for (const stage of stages) expect(isRequestReceivedLine(line(stage, { level })), `${level} ${stage}`).toBe(stage === 'RequestReceived');
    const fixture = readFileSync(new URL('../fixtures/audit/session.log', import.meta.url), 'utf8')
      .split('\n')
      .filter(Boolean);
    let received = 0;
    for (const l of fixture) {
      const stage = (JSON.parse(l) as AuditEvent).stage;
      expect(isRequestReceivedLine(l), l.slice(0, 160)).toBe(stage === 'RequestReceived');
      if (stage === 'RequestReceived') received++;
    }
    expect(received).toBeGreaterThan(0);
  });

  it('says no, so the line is parsed, for anything not written the API server’s way', () => {
    const rr = line('RequestReceived');
    expect(isRequestReceivedLine(rr)).toBe(true);
    // Cut short (a crash mid-write), two writes run together, or a key order another encoder chose.
    expect(isRequestReceivedLine(rr.slice(0, 200))).toBe(false);
    expect(isRequestReceivedLine(rr.slice(0, 200) + line('ResponseComplete'))).toBe(false);
    expect(isRequestReceivedLine(rr.slice(0, -1) + rr)).toBe(false);
    const { stage, ...rest } = JSON.parse(rr) as AuditEvent;
    expect(isRequestReceivedLine(JSON.stringify({ stage, ...rest }))).toBe(false);
    expect(isRequestReceivedLine(rr.replace('"audit.k8s.io/v1"', '"audit.k8s.io/v1beta1"'))).toBe(false);
    expect(isRequestReceivedLine(rr.replace('"level":"Metadata"', '"level":"Meta"'))).toBe(false);
    expect(isRequestReceivedLine(rr.replace('"level":"Metadata"', '"level":"MetadataX"'))).toBe(false);
    // An empty or very long auditID is left to the parser (which reports or hashes it).
    expect(isRequestReceivedLine(line('RequestReceived', { auditID: '' }))).toBe(false);
    expect(isRequestReceivedLine(line('RequestReceived', { auditID: 'x'.repeat(257) }))).toBe(false);
    expect(isRequestReceivedLine(line('RequestReceived', { auditID: 'x'.repeat(256) }))).toBe(true);
    // A backslash in the client-chosen auditID: parsed.
    expect(isRequestReceivedLine(line('RequestReceived', { auditID: 'a\\b' }))).toBe(false);
    expect(isRequestReceivedLine('')).toBe(false);
    expect(isRequestReceivedLine('{"kind":"EventList","items":[]}')).toBe(false);
  });

  it('a hostile auditID or annotation cannot make another stage look like RequestReceived', () => {
    const forged = 'x","stage":"RequestReceived","requestURI":"/x';
    for (const stage of ['ResponseStarted', 'ResponseComplete'] as const) {
      expect(isRequestReceivedLine(line(stage, { auditID: forged }))).toBe(false);
      expect(isRequestReceivedLine(line(stage, { annotations: { stage: 'RequestReceived' } }))).toBe(false);
      expect(isRequestReceivedLine(line(stage, { requestURI: '/","stage":"RequestReceived","' }))).toBe(false);
    }
  });
});

describe('audit scan with RequestReceived lines', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('counts them as events, alerts from the other stages as before, and reports a cut-short one as malformed', async () => {
    const forged = 'x","stage":"RequestReceived","requestURI":"/x';
    const session = (stage: AuditEvent['stage'], auditID: string) =>
      line(stage, {
        auditID,
        verb: 'create',
        requestURI: execURI,
        objectRef: execRef,
        ...(stage === 'ResponseStarted' ? { responseStatus: { metadata: {}, code: 101 } } : {}),
      });
    const file = tmp.path('audit.log');
    writeFileSync(
      file,
      [
        session('RequestReceived', 'a1'),
        session('ResponseStarted', 'a1'),
        session('ResponseComplete', 'a1'),
        session('RequestReceived', forged),
        session('ResponseStarted', forged),
        line('RequestReceived').slice(0, 200),
      ].join('\n') + '\n',
    );
    const parse = vi.spyOn(JSON, 'parse');
    // JSON.parse calls on the plain RequestReceived line of `a1` (its first line is parsed once
    // where the reader tells JSON lines from a whole document; the forged-ID one always is).
    const received = session('RequestReceived', 'a1');
    const parsedReceived = () => parse.mock.calls.filter(([text]) => text === received).length;
    const r = await runCli(['--format', 'ndjson', file]);
    expect(r.code).toBe(0);
    expect(parsedReceived()).toBe(1);
    const alerts = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; count: number; auditIDs: string[] });
    // Two exec sessions (one under the forged ID, seen at its ResponseStarted), one alert of count 2.
    expect(alerts.map((a) => [a.type, a.count])).toEqual([['exec-into-pod', 2]]);
    expect(alerts[0]!.auditIDs).toEqual(['a1', forged]);
    expect(r.stderr).toContain('from 5 events in 1 input; 1 malformed line skipped');
    expect(r.stderr).toContain(`${file}:6: invalid JSON`);
    // The same through the checkpointed reader (what --follow and --checkpoint use).
    const c = await runCli(['--format', 'ndjson', '--checkpoint', tmp.path('cp.json'), file]);
    expect(c.code).toBe(0);
    expect(
      c.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string; count: number }).count),
    ).toEqual([2]);
    expect(c.stderr).toContain('from 5 events in 1 input; 1 malformed line skipped');
    expect(parsedReceived()).toBe(1);
    parse.mockRestore();
  });

  it('a scan of the same events with and without the RequestReceived lines raises the same alerts', async () => {
    const events = Array.from({ length: 40 }, (_, i) =>
      auditEvent({
        auditID: `id-${i}`,
        stage: i % 2 === 0 ? 'RequestReceived' : 'ResponseComplete',
        verb: 'list',
        requestURI: '/api/v1/secrets',
        objectRef: { resource: 'secrets', apiVersion: 'v1' },
        user: { username: `user-${i % 5}`, groups: [] },
      }),
    );
    const all = tmp.path('all.log');
    const some = tmp.path('some.log');
    writeFileSync(all, lines(events));
    writeFileSync(some, lines(events.filter((e) => e.stage !== 'RequestReceived')));
    const a = await runCli(['--format', 'ndjson', all]);
    const b = await runCli(['--format', 'ndjson', some]);
    const key = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => {
          const x = JSON.parse(l) as { type: string; user: { username: string }; count: number };
          return `${x.type} ${x.user.username} ${x.count}`;
        })
        .sort();
    expect(key(a.stdout)).toEqual(key(b.stdout));
    expect(key(a.stdout)).toHaveLength(5);
    expect(a.stderr).toContain('from 40 events');
    expect(b.stderr).toContain('from 20 events');
  });
});
