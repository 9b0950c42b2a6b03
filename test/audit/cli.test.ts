// `bulwark audit scan` in-process: formats, inputs (files, gzip, stdin), malformed lines, exit codes.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, auditEvent, lines, runCli, tempDir } from './helpers.js';

const session = `${FIXTURES}session.log`;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const EXPECTED_TYPES = [
  'exec-into-pod',
  'kube-events-deleted',
  'pentest-tool',
  'anonymous-request-allowed',
  'admission-webhook-modified',
  'coredns-modified',
  'secrets-enumerated',
  'configmap-credentials',
  'nodeport-service',
  'privileged-container',
  'host-namespaces',
  // mallory's patch of Bulwark's own webhook configuration (failurePolicy Ignore) is also tampering.
  'bulwark-tampering',
];

function parseNdjson(stdout: string): Record<string, any>[] {
  const rows = stdout.split('\n');
  expect(rows.pop()).toBe('');
  return rows.map((r) => JSON.parse(r));
}

describe('bulwark audit scan', () => {
  it('--format ndjson: exactly one alert JSON per line on stdout, the summary on stderr', async () => {
    const r = await runCli(['--format', 'ndjson', session]);
    expect(r.code).toBe(0);
    const alerts = parseNdjson(r.stdout);
    expect(alerts.map((a) => a.type).sort()).toEqual([...EXPECTED_TYPES].sort());
    for (const a of alerts) {
      expect(Object.keys(a)).toEqual(
        expect.arrayContaining([
          'id',
          'type',
          'title',
          'severity',
          'source',
          'firstSeen',
          'lastSeen',
          'count',
          'namespace',
          'resource',
          'user',
          'sourceIPs',
          'userAgent',
          'auditIDs',
          'message',
          'evidence',
          'tactics',
          'remediation',
          'status',
        ]),
      );
      expect(a.source).toBe('audit');
      expect(a.status).toBe('active');
      expect(a.auditIDs.length).toBe(a.count);
    }
    const exec = alerts.find((a) => a.type === 'exec-into-pod')!;
    expect(exec.count).toBe(2);
    expect(exec.message).toBe(`alice@example.com exec'd into pod kube-system/etcd-0 ("sh") in container "etcd"`);
    const impersonated = alerts.find((a) => a.type === 'host-namespaces')!;
    expect(impersonated.user).toMatchObject({ username: 'carol@example.com', impersonator: { username: 'kubernetes-admin' } });
    // The ConfigMap's password and key never reach the output.
    expect(r.stdout).not.toContain('Sup3rS3cret');
    expect(r.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(r.stderr).toContain('12 alerts (14 occurrences) from 41 events in 1 input');
  });

  it('table: one row per alert, then a summary by type and severity', async () => {
    const r = await runCli([session]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SEVERITY\s+TYPE\s+COUNT\s+FIRST SEEN\s+USER\s+MESSAGE\n/);
    expect(r.stdout).toMatch(/high\s+exec-into-pod\s+2\s+2024-06-01T10:00:01Z\s+alice@example.com\s+alice@example.com exec'd into pod kube-system\/etcd-0/);
    expect(r.stdout).toMatch(/TYPE\s+HIGH\s+MEDIUM\s+LOW\s+INFO\s+TOTAL/);
    expect(r.stdout).toMatch(/\ntotal\s+6\s+5\s+1\s+0\s+12\n/);
  });

  it('a clean log: "No alerts.", exit 0', async () => {
    const file = tmp.path('clean.log');
    writeFileSync(file, lines([auditEvent(), auditEvent({ stage: 'RequestReceived' })]));
    const r = await runCli([file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No alerts.');
  });

  it('gzip is detected by magic bytes, whatever the name', async () => {
    const gz = tmp.path('audit-2024-06-01T10-00-00.000.log');
    writeFileSync(gz, gzipSync(readFileSync(session)));
    const r = await runCli(['--format', 'ndjson', gz]);
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout).length).toBe(12);
  });

  it('stdin (-), plain and gzip', async () => {
    const text = readFileSync(session);
    const chunked = async function* (buf: Buffer) {
      for (let i = 0; i < buf.length; i += 1000) yield buf.subarray(i, i + 1000);
    };
    const plain = await runCli(['--format', 'ndjson', '-'], { stdin: chunked(text) });
    expect(plain.code).toBe(0);
    expect(parseNdjson(plain.stdout).length).toBe(12);
    const gz = await runCli(['--format', 'ndjson', '-'], { stdin: chunked(gzipSync(text)) });
    expect(gz.code).toBe(0);
    expect(parseNdjson(gz.stdout).length).toBe(12);
  });

  it('several files are one scan (de-duplication spans them)', async () => {
    const a = tmp.path('a.log');
    const b = tmp.path('b.log');
    const ev = { verb: 'list', requestURI: '/api/v1/secrets', objectRef: { resource: 'secrets', apiVersion: 'v1' } };
    writeFileSync(a, lines([auditEvent(ev)]));
    writeFileSync(b, lines([auditEvent(ev)]));
    const r = await runCli(['--format', 'ndjson', a, b]);
    const alerts = parseNdjson(r.stdout);
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.count).toBe(2);
  });

  it('malformed lines are counted and reported with file and line; the scan goes on', async () => {
    const file = tmp.path('broken.log');
    const good = auditEvent({ verb: 'list', requestURI: '/api/v1/secrets', objectRef: { resource: 'secrets', apiVersion: 'v1' } });
    writeFileSync(
      file,
      [JSON.stringify(auditEvent()), '{"kind":"Event", truncated', '', '[1,2]', '{"kind":"Event","stage":"ResponseComplete"}', JSON.stringify(good)].join('\n'),
    );
    const r = await runCli(['--format', 'ndjson', file]);
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout).map((a) => a.type)).toEqual(['secrets-enumerated']);
    expect(r.stderr).toContain(`${file}:2: invalid JSON`);
    // A one-line JSON array is a batch: each item is judged.
    expect(r.stderr).toContain(`${file}:4: items[0]: not an audit event: expected a JSON object`);
    expect(r.stderr).toContain(`${file}:5: not an audit event: missing auditID`);
    expect(r.stderr).toContain('4 malformed lines skipped');
    const table = await runCli([file]);
    expect(table.stdout).toContain('Malformed lines:');
    expect(table.stdout).toContain(`${file}:2: invalid JSON`);
  });

  it('exit 2 naming the input when not one event could be read from it, --fail-on included', async () => {
    const bad = tmp.path('all-bad.log');
    writeFileSync(bad, 'not json\n{"kind":"Event"}\n');
    for (const args of [[bad], ['--fail-on', 'high', bad], ['--format', 'ndjson', bad]]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${bad}: no audit event could be read (2 malformed lines)`);
    }
    const good = tmp.path('one-good.log');
    writeFileSync(good, lines([auditEvent()]));
    const both = await runCli([good, bad]);
    expect(both.code).toBe(2);
    const piped = await runCli(['-'], {
      stdin: (async function* () {
        yield Buffer.from('garbage\n');
      })(),
    });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('<stdin>: no audit event could be read (1 malformed line)');
    // An empty file is not an error: a quiet log has no events.
    const empty = tmp.path('empty.log');
    writeFileSync(empty, '');
    expect((await runCli([empty])).code).toBe(0);
  });

  it('reads an EventList document (pretty-printed or one line) and a JSON array, like JSON lines', async () => {
    const events = readFileSync(session, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    const list = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events };
    const shapes = {
      'list-pretty.json': JSON.stringify(list, null, 2),
      'list-line.json': JSON.stringify(list) + '\n',
      'array.json': JSON.stringify(events, null, 1),
    };
    for (const [name, text] of Object.entries(shapes)) {
      const file = tmp.path(name);
      writeFileSync(file, text);
      const r = await runCli(['--format', 'ndjson', file]);
      expect(r.code, name).toBe(0);
      expect(
        parseNdjson(r.stdout)
          .map((a) => a.type)
          .sort(),
        name,
      ).toEqual([...EXPECTED_TYPES].sort());
      expect(r.stderr, name).toContain('12 alerts (14 occurrences) from 41 events in 1 input');
      const piped = await runCli(['--format', 'ndjson', '-'], {
        stdin: (async function* () {
          yield Buffer.from(gzipSync(text));
        })(),
      });
      expect(parseNdjson(piped.stdout).length, name).toBe(12);
    }
    // Items that are not events are reported by index; a document that is not JSON is read as lines.
    const mixed = tmp.path('mixed.json');
    writeFileSync(mixed, JSON.stringify({ kind: 'EventList', items: [events[0], { stage: 'x' }] }, null, 2));
    const m = await runCli([mixed]);
    expect(m.code).toBe(0);
    expect(m.stderr).toContain(`${mixed}:1: items[1]: not an audit event: missing auditID`);
    const broken = tmp.path('broken.json');
    writeFileSync(broken, '{\n  "kind": "EventList",\n  "items": [\n');
    const b = await runCli([broken]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${broken}:1: invalid JSON`);
  });

  it('a line over the maximum is reported, not buffered; the next line is read', async () => {
    const file = tmp.path('huge.log');
    const cfg = tmp.path('small-lines.yaml');
    writeFileSync(cfg, 'audit:\n  maxLineBytes: 4096\n');
    const big = JSON.stringify(auditEvent({ requestObject: { data: 'x'.repeat(20_000) } }));
    const good = auditEvent({ verb: 'list', objectRef: { resource: 'secrets', apiVersion: 'v1' } });
    writeFileSync(file, `${big}\n${JSON.stringify(good)}\n${'y'.repeat(9000)}`);
    const r = await runCli(['--format', 'ndjson', '--config', cfg, file]);
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout).length).toBe(1);
    expect(r.stderr).toContain(`${file}:1: line longer than 4096 bytes`);
    expect(r.stderr).toContain(`${file}:3: line longer than 4096 bytes`);
  });

  describe('exit codes', () => {
    it('2 on an unreadable input (the other inputs are still scanned)', async () => {
      const r = await runCli(['--format', 'ndjson', tmp.path('missing.log'), session]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('missing.log: cannot open: no such file');
      expect(parseNdjson(r.stdout).length).toBe(12);
    });

    it('2 on corrupt gzip', async () => {
      const file = tmp.path('corrupt.gz');
      const gz = gzipSync(readFileSync(session));
      writeFileSync(file, Buffer.concat([gz.subarray(0, 200), Buffer.alloc(200, 7)]));
      const r = await runCli([file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/corrupt\.gz: cannot read \(gzip\)/);
    });

    it('0 on gzip with trailing garbage after the last member: every complete line analysed, the garbage one malformed input', async () => {
      const text = readFileSync(session);
      const half = text.indexOf('\n', Math.floor(text.length / 2)) + 1;
      const file = tmp.path('trailing.gz');
      // Two members (as `cat a.gz b.gz` writes them), then bytes that are not a gzip member.
      writeFileSync(
        file,
        Buffer.concat([gzipSync(text.subarray(0, half)), gzipSync(text.subarray(half)), Buffer.from('garbage after the last member\u0000\n')]),
      );
      const r = await runCli(['--format', 'ndjson', file]);
      expect(r.stderr).not.toContain('cannot read');
      expect(r.code).toBe(0);
      expect(parseNdjson(r.stdout).length).toBe(12);
      expect(r.stderr).toMatch(/trailing\.gz:\d+: 31 bytes of trailing data after the last gzip member, ignored/);
      expect(r.stderr).toContain('1 malformed line skipped');
      // Zero padding after the last member is not garbage; the same from stdin.
      writeFileSync(file, Buffer.concat([gzipSync(text), Buffer.alloc(512)]));
      const padded = await runCli(['--format', 'ndjson', file]);
      expect([padded.code, parseNdjson(padded.stdout).length]).toEqual([0, 12]);
      expect(padded.stderr).not.toMatch(/malformed|trailing/);
      const fromStdin = await runCli(['--format', 'ndjson', '-'], {
        stdin: (async function* () {
          yield Buffer.concat([gzipSync(text), Buffer.from('junk')]);
        })(),
      });
      expect(fromStdin.code).toBe(0);
      expect(parseNdjson(fromStdin.stdout).length).toBe(12);
      expect(fromStdin.stderr).toContain('4 bytes of trailing data after the last gzip member');
    });

    it('2 on usage errors and bad config', async () => {
      expect((await runCli([])).code).toBe(2);
      expect((await runCli(['--format', 'yaml', session])).code).toBe(2);
      expect((await runCli(['--fail-on', 'critical', session])).code).toBe(2);
      const cfg = tmp.path('bad.yaml');
      writeFileSync(cfg, 'audit:\n  dedupWindow: soon\n');
      const r = await runCli(['--config', cfg, session]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('audit.dedupWindow');
      expect((await runCli(['--checkpoint', tmp.path('cp.json'), '-'])).code).toBe(2);
    });

    it('--fail-on: 1 when an alert at or above the severity was raised, else 0', async () => {
      expect((await runCli(['--fail-on', 'high', session])).code).toBe(1);
      const lowOnly = tmp.path('nodeport.log');
      writeFileSync(
        lowOnly,
        lines([
          auditEvent({
            level: 'RequestResponse',
            verb: 'create',
            objectRef: { resource: 'services', namespace: 'prod', name: 'web', apiVersion: 'v1' },
            responseStatus: { metadata: {}, code: 201 },
            requestObject: { kind: 'Service', apiVersion: 'v1', metadata: { name: 'web' }, spec: { type: 'NodePort' } },
          }),
        ]),
      );
      expect((await runCli(['--fail-on', 'medium', lowOnly])).code).toBe(0);
      expect((await runCli(['--fail-on', 'low', lowOnly])).code).toBe(1);
      expect((await runCli([lowOnly])).code).toBe(0);
    });
  });

  it('--poll-interval that is not a positive integer is a usage error naming the option', async () => {
    const r = await runCli(['--poll-interval', 'abc', session]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--poll-interval.*'abc' is invalid/);
  });

  it('a reader that goes away (| head) ends the real command quietly: no EPIPE stack trace', async () => {
    const file = tmp.path('many-execs.log');
    writeFileSync(
      file,
      lines(
        Array.from({ length: 3000 }, (_, i) =>
          auditEvent({
            verb: 'create',
            stage: 'ResponseStarted',
            requestURI: `/api/v1/namespaces/default/pods/web-${i}/exec?command=sh`,
            objectRef: { resource: 'pods', subresource: 'exec', namespace: 'default', name: `web-${i}`, apiVersion: 'v1' },
            responseStatus: { metadata: {}, code: 101 } as never,
          }),
        ),
      ),
    );
    const bin = new URL('../../bin/bulwark.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, 'audit', 'scan', '--format', 'ndjson', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.once('data', () => {
        child.stdout.destroy();
        resolve();
      }),
    );
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code).toBe(141);
  }, 20_000);

  it('the example log and the fixture are not git-ignored (a fresh clone has them)', () => {
    const root = new URL('../..', import.meta.url).pathname;
    for (const file of ['examples/audit/sample.log', 'test/fixtures/audit/session.log']) {
      const r = spawnSync('git', ['check-ignore', '-q', file], { cwd: root });
      if (r.error || r.status === 128) continue; // no git, or not a checkout
      expect({ file, ignored: r.status === 0 }).toEqual({ file, ignored: false });
    }
  });

  it('the example log of the README gives the same alerts as the test fixture', async () => {
    const example = new URL('../../examples/audit/sample.log', import.meta.url).pathname;
    expect(readFileSync(example, 'utf8')).toBe(readFileSync(session, 'utf8'));
  });
});
