// The reader's skim of a completed request's line (audit/skim.ts skimLine): the fields it reads are
// exactly what JSON.parse reads from the same line, and every line it cannot vouch for — another
// stage or encoder, impersonation, a dry run, a ValidatingAdmissionPolicy failure, an escape in a
// field it reads, a line cut short or run together — is left to JSON.parse. The e2e suite checks
// the same on a real kube-apiserver's log; the fuzz suite on seeded mutants.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../audit/event.js';
import { MAX_SKIM_CHARS, skimLine, type SkimmedLine } from '../../audit/skim.js';
import { auditEvent, goLine, skimmedFieldsOf } from './helpers.js';

/** What skimLine must answer for a line, read through JSON.parse. */
const parsedFields = (line: string): SkimmedLine => skimmedFieldsOf(JSON.parse(line) as Record<string, unknown>);

const fixture = readFileSync(new URL('../fixtures/audit/session.log', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

const privilegedPod = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' }, annotations: { note: 'a' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27', securityContext: { privileged: true } }] },
};

/** A successful write with its request body, as the API server logs it at level Request. */
function write(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...auditEvent({ level: 'Request', verb: 'create', requestURI: '/api/v1/namespaces/default/pods' }),
    objectRef: { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: privilegedPod,
    ...overrides,
  };
}

describe('skimLine', () => {
  it('reads what JSON.parse reads on every line of the fixture it takes, and takes each completed request written the API server’s way', () => {
    let taken = 0;
    let withBody = 0;
    for (const line of fixture) {
      const ev = JSON.parse(line) as AuditEvent & Record<string, any>;
      const skimmed = skimLine(line);
      const annotations = (ev.annotations ?? {}) as Record<string, string>;
      const status = (ev.responseStatus ?? {}) as Record<string, unknown>;
      const expected =
        ev.stage === 'ResponseComplete' &&
        ev.impersonatedUser === undefined &&
        !String(ev.requestURI).includes('dryRun') &&
        !('validation.policy.admission.k8s.io/validation_failure' in annotations) &&
        status.details === undefined &&
        !/[\\]/.test(
          JSON.stringify([
            ev.verb,
            ev.user?.username,
            ev.userAgent,
            ev.objectRef?.resource,
            ev.objectRef?.subresource,
            ev.objectRef?.apiGroup,
            ev.objectRef?.namespace,
            ev.objectRef?.name,
            ev.auditID,
            ev.requestReceivedTimestamp,
          ]),
        );
      expect(skimmed !== undefined, line.slice(0, 200)).toBe(expected);
      if (skimmed === undefined) continue;
      expect(skimmed, line.slice(0, 200)).toEqual(parsedFields(line));
      taken++;
      if (ev.requestObject !== undefined || ev.responseObject !== undefined) withBody++;
    }
    expect(taken).toBeGreaterThan(10);
    expect(withBody).toBeGreaterThan(0);
  });

  it('takes the API server’s lines at every level, with and without user agent, object, uid, groups, extra, status message, bodies and annotations', () => {
    const full = auditEvent({
      user: {
        username: 'system:node:worker-1',
        uid: 'u-1',
        groups: ['system:nodes', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab<&>'] },
      },
    });
    const variants: object[] = [
      full,
      { ...full, level: 'Request' },
      { ...full, level: 'RequestResponse', responseObject: { kind: 'Pod', metadata: { name: 'web-0' } } },
      { ...full, userAgent: undefined },
      { ...full, objectRef: undefined, requestURI: '/readyz' },
      // Go writes `&` (between query parameters), `<` and `>` as \u0026, \u003c, \u003e.
      { ...full, requestURI: '/api/v1/pods?allowWatchBookmarks=true&resourceVersion=7&labelSelector=a<b,c>d&watch=true' },
      { ...full, user: { username: 'system:anonymous' } },
      { ...full, annotations: undefined },
      { ...full, annotations: {} },
      { ...full, sourceIPs: [] },
      { ...full, responseStatus: { metadata: {}, status: 'Failure', message: 'pods "x" is \u2028 <forbidden>', reason: 'Forbidden', code: 403 } },
      {
        ...full,
        objectRef: {
          resource: 'pods',
          namespace: 'default',
          name: 'web-0',
          uid: 'u',
          apiGroup: '',
          apiVersion: 'v1',
          resourceVersion: '7',
          subresource: 'exec',
        },
      },
      write(),
      write({ responseObject: { ...privilegedPod, status: { phase: 'Pending' } } }),
      write({ requestObject: undefined, responseObject: privilegedPod }),
    ];
    for (const v of variants) {
      const line = goLine(v);
      expect(skimLine(line), line).toEqual(parsedFields(line));
    }
  });

  it('leaves to JSON.parse every line it cannot vouch for', () => {
    const ok = goLine(auditEvent());
    expect(skimLine(ok)).toEqual(parsedFields(ok));
    const refused: Record<string, string> = {
      'another stage': goLine(auditEvent({ stage: 'ResponseStarted' })),
      'a panic': goLine(auditEvent({ stage: 'Panic', responseStatus: { metadata: {}, code: 500 } as AuditEvent['responseStatus'] })),
      RequestReceived: goLine({ ...auditEvent({ stage: 'RequestReceived' }), responseStatus: undefined }),
      impersonation: goLine(auditEvent({ impersonatedUser: { username: 'system:admin' } })),
      'a dry run': goLine(auditEvent({ requestURI: '/api/v1/namespaces/default/pods?dryRun=All' })),
      'a dry run after another parameter': goLine(auditEvent({ requestURI: '/api/v1/namespaces/default/pods?fieldManager=x&dryRun=All' })),
      'an escape in the URI that could spell dryRun': ok.replace(
        '"requestURI":"/api/v1/namespaces/default/pods/web-0"',
        '"requestURI":"/api/v1/pods?dry\\u0052un=All"',
      ),
      'an escaped quote in the URI': ok.replace('"requestURI":"/api/v1/namespaces/default/pods/web-0"', '"requestURI":"/api/v1/pods?a=\\"&dryRun=All"'),
      'a ValidatingAdmissionPolicy failure': goLine(
        auditEvent({ annotations: { 'validation.policy.admission.k8s.io/validation_failure': '[{"message":"no"}]' } }),
      ),
      'the VAP annotation beside a body': goLine(write({ annotations: { 'validation.policy.admission.k8s.io/validation_failure': '[]' } })),
      'an escaped annotation key (it could spell the VAP one)': ok.replace('"authorization.k8s.io/decision"', '"authorization.k8s.io\\/decision"'),
      'an escape in the verb': goLine(auditEvent({ verb: 'g"et' })),
      'a \\u escape in the user name': ok.replace('"username":"alice@example.com"', '"username":"\\u0061lice@example.com"'),
      'an escape in the user agent': goLine(auditEvent({ userAgent: 'kubectl\\1.30' })),
      'an escape in the resource': goLine(auditEvent({ objectRef: { resource: 'pods\n' } })),
      'an escape in the subresource': goLine(auditEvent({ objectRef: { resource: 'pods', subresource: 'ex<ec' } })),
      'an escape in the namespace': goLine(auditEvent({ objectRef: { resource: 'pods', namespace: 'a&b' } })),
      'an escape in the name': goLine(auditEvent({ objectRef: { resource: 'pods', name: '<x>' } })),
      'an escape in the API group': goLine(auditEvent({ objectRef: { resource: 'pods', apiGroup: 'x\\y' } })),
      'an escape in the time received': goLine(auditEvent({ requestReceivedTimestamp: '2024-06-01T10:00:00\\u002e0Z' })),
      'an escaped auditID': goLine(auditEvent({ auditID: 'a"b' })),
      'an empty auditID': goLine(auditEvent({ auditID: '' })),
      'an auditID over 256 characters': goLine(auditEvent({ auditID: 'x'.repeat(257) })),
      'a user without user name': goLine(auditEvent({ user: { groups: ['system:authenticated'] } })),
      'an object reference without resource': goLine(auditEvent({ objectRef: { namespace: 'default', name: 'x' } })),
      'a status with details': goLine(
        auditEvent({ responseStatus: { metadata: {}, status: 'Failure', details: { name: 'x' }, code: 409 } as AuditEvent['responseStatus'] }),
      ),
      'a status without code': goLine(auditEvent({ responseStatus: { metadata: {} } as AuditEvent['responseStatus'] })),
      'a code with a leading zero': ok.replace('"code":200', '"code":0200'),
      'a four-digit code': ok.replace('"code":200', '"code":2000'),
      'a fractional code': ok.replace('"code":200', '"code":200.5'),
      'audit.k8s.io/v1beta1': ok.replace('audit.k8s.io/v1"', 'audit.k8s.io/v1beta1"'),
      'another field order': JSON.stringify({ apiVersion: 'audit.k8s.io/v1', ...auditEvent() }),
      'a user field out of order': ok.replace('"username":"alice@example.com","groups"', '"groups":["x"],"username":"alice@example.com","uid":"u","groups"'),
      'a repeated user name': ok.replace('"username":"alice@example.com"', '"username":"alice@example.com","username":"system:admin"'),
      'a repeated top-level field after the annotations': ok.slice(0, -1) + ',"verb":"delete"}',
      'a field the API server does not write': ok.slice(0, -1) + ',"extra":1}',
      'whitespace between tokens': ok.replace('"verb":"get"', '"verb": "get"'),
      'a carriage return at the end': ok + '\r',
      'a line cut short': ok.slice(0, -1),
      'a line cut in the annotations': ok.slice(0, ok.length - 20),
      'two lines run together': ok + ok,
      'a raw control character in a string': ok.replace('"authorization.k8s.io/reason":"', '"authorization.k8s.io/reason":"\u0001'),
      'a bad escape in a string': ok.replace('"authorization.k8s.io/reason":"', '"authorization.k8s.io/reason":"\\x41'),
      'a body that is not an object': goLine(write({ requestObject: [1, 2] })),
      'a body not followed by the timestamps': goLine(write()).replace(',"requestReceivedTimestamp":', ',"requestReceivedTimestamp_":'),
      'a line past MAX_SKIM_CHARS': goLine(auditEvent({ userAgent: 'k'.repeat(MAX_SKIM_CHARS) })),
      empty: '',
      'not JSON': 'hello',
    };
    for (const [what, line] of Object.entries(refused)) expect(skimLine(line), what).toBeUndefined();
  });

  it('reads the line right whatever an attacker puts in a body: keys and values named like the event’s own fields, braces, quotes, escapes, a whole fake event', () => {
    const fake = JSON.parse(goLine(auditEvent({ verb: 'delete', user: { username: 'system:admin' }, objectRef: { resource: 'secrets' } }))) as object;
    const hostile: Record<string, unknown> = {
      verb: 'delete',
      '","verb":"delete","x":"': '"},"verb":"delete","user":{"username":"system:admin"},"y":{"',
      requestReceivedTimestamp: '2099-01-01T00:00:00.000000Z',
      stageTimestamp: 'x',
      annotations: { 'validation.policy.admission.k8s.io': 'x' },
      '}}}': ']]]',
      '\\': '\\"\\u0000',
      '<script>&': '\u2028\u2029',
      nested: { requestReceivedTimestamp: 'a', stageTimestamp: 'b', annotations: {} },
      event: fake,
    };
    const lines = [
      goLine(write({ requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' }, data: hostile } })),
      goLine(write({ requestObject: hostile, responseObject: { data: hostile } })),
      goLine(write({ requestObject: { data: hostile }, annotations: undefined })),
      goLine(write({ responseObject: fake, requestObject: undefined })),
    ];
    for (const line of lines) expect(skimLine(line), line.slice(0, 300)).toEqual(parsedFields(line));
    // The VAP failure's key in a body: the line is parsed (the annotation might be anywhere).
    const vap = goLine(write({ requestObject: { data: { 'validation.policy.admission.k8s.io/validation_failure': '[]' } } }));
    expect(skimLine(vap)).toBeUndefined();
  });

  it('takes a body as the API server wrote it: a line broken inside its body alone is counted, not reported (it could not have alerted either)', () => {
    const line = goLine(write());
    const broken = line.replace('"privileged":true}}]', '"privileged":true}]');
    expect(() => JSON.parse(broken)).toThrow();
    expect(skimLine(broken)).toEqual(parsedFields(line));
  });

  it('stays exact on lines up to MAX_SKIM_CHARS of long arrays, many annotations and long escaped strings', () => {
    const groups = Array.from({ length: 4000 }, (_, i) => `group-${i}`);
    const manyGroups = goLine(auditEvent({ user: { username: 'alice', groups } }));
    const annotations = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`example.com/k${i}`, `v"${i}"`]));
    const manyAnnotations = goLine(auditEvent({ annotations }));
    const escapes = goLine(auditEvent({ annotations: { reason: '"\\'.repeat(12_000) } }));
    for (const line of [manyGroups, manyAnnotations, escapes]) {
      expect(line.length).toBeLessThanOrEqual(MAX_SKIM_CHARS);
      expect(skimLine(line)).toEqual(parsedFields(line));
    }
  });
});
