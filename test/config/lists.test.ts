// `lists:` (every data list, replace or append) and `exceptions:` (per rule: users, groups,
// namespaces, name globs, images), in the admission path (evaluateSubject) and the audit path.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../audit/analyser.js';
import { auditSettingsOf } from '../../audit/config.js';
import { AUDIT_ALERT_TYPES } from '../../audit/rules/index.js';
import { parseConfig } from '../../config/load.js';
import { AUDIT_ALERT_TYPE_NAMES } from '../../core/alert-types.js';
import { compileConfig } from '../../policies/config.js';
import { evaluateSubject } from '../../policies/evaluate.js';
import { DEFAULT_LISTS } from '../../policies/lists.js';
import { toSubject } from '../../policies/subject.js';
import { ALICE, auditEvent } from '../audit/helpers.js';

const cfg = (text: string) => parseConfig(text, 'c.yaml');

describe('lists: replace or append', () => {
  it('a list replaces the default', () => {
    expect(cfg('lists: {minerNames: [a, b]}').lists.minerNames).toEqual(['a', 'b']);
  });

  it('{append: [...]} extends the default, without duplicates', () => {
    const lists = cfg('lists: {minerNames: {append: [my-miner, xmrig]}}').lists;
    expect(lists.minerNames).toEqual([...DEFAULT_LISTS.minerNames, 'my-miner']);
  });

  it('an empty YAML key empties the list', () => {
    expect(cfg('lists: {dashboardNames: }').lists.dashboardNames).toEqual([]);
  });

  it('audit lists live under lists: too, and extend the older audit.<name> key', () => {
    const appended = auditSettingsOf(cfg('lists: {attackToolUserAgents: {append: [evil-kit]}}'));
    expect(appended.attackToolUserAgents).toContain('kube-hunter');
    expect(appended.attackToolUserAgents).toContain('evil-kit');
    const both = auditSettingsOf(cfg('audit: {credentialKeyNames: [pin]}\nlists: {credentialKeyNames: {append: [otp]}}'));
    expect(both.credentialKeyNames).toEqual(['pin', 'otp']);
    expect(auditSettingsOf(cfg('audit: {webhookAdmins: [ci]}')).webhookAdmins).toEqual(['ci']);
    expect(auditSettingsOf(cfg('lists: {controlPlaneIdentities: [x]}')).controlPlaneIdentities).toEqual(['x']);
  });

  it.each([
    ['an unknown list', 'lists: {minerNamez: [x]}', 'c.yaml:1: lists.minerNamez: unknown key'],
    [
      'a bad spec',
      'lists: {minerNames: {add: [x]}}',
      'lists.minerNames: must be a list of strings (replaces the default minerNames) or {append: [...]} (extends it)',
    ],
    ['a number', 'lists: {minerNames: 3}', 'lists.minerNames: must be a list of strings'],
    [
      'an unknown exception rule',
      'exceptions: {exec-into-pods: {users: [a]}}',
      'exceptions.exec-into-pods: unknown rule ID "exec-into-pods" (did you mean "exec-into-pod"?)',
    ],
    ['an unknown exception field', 'exceptions: {exec-into-pod: {user: [a]}}', 'exceptions.exec-into-pod'],
  ])('rejects %s with the key path', (_n, text, message) => {
    expect(() => cfg(text)).toThrow(message);
  });
});

describe('hard-coded exemptions are default list entries', () => {
  const deleteEvents = (username: string) =>
    auditEvent({
      verb: 'delete',
      user: { username, groups: ['system:authenticated'] },
      objectRef: { resource: 'events', namespace: 'default', name: 'e1', apiVersion: 'v1' },
      requestURI: '/api/v1/namespaces/default/events/e1',
    });
  const fires = (text: string, ev: ReturnType<typeof auditEvent>) =>
    new AuditAnalyser({ config: cfg(text) }).analyse(ev).some((a) => a.type === 'kube-events-deleted');

  it.each([
    ['a system: identity, by default', '{}', 'system:serviceaccount:kube-system:x', false],
    ['a person, by default', '{}', 'alice', true],
    ['a person listed in eventDeleters', 'lists: {eventDeleters: {append: [alice]}}', 'alice', false],
    ['a system: identity once the list is replaced', 'lists: {eventDeleters: [ops-*]}', 'system:serviceaccount:kube-system:x', true],
  ] as const)('kube-events-deleted: %s', (_n, text, user, expected) => {
    expect(fires(text, deleteEvents(user))).toBe(expected);
  });

  it('kube-system-workload reads systemNamespaces and systemWorkloadUsers', () => {
    const pod = toSubject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'infra' },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    })!;
    const run = (text: string, username: string) =>
      evaluateSubject(pod, compileConfig(cfg(text)), { user: { username, groups: [] } }).findings.filter((f) => f.policy === 'kube-system-workload').length;
    expect(run('{}', 'alice')).toBe(0);
    expect(run('lists: {systemNamespaces: {append: [infra]}}', 'alice')).toBe(1);
    expect(run('lists: {systemNamespaces: {append: [infra]}, systemWorkloadUsers: {append: [alice]}}', 'alice')).toBe(0);
  });
});

describe('exceptions: per rule', () => {
  const privileged = (namespace: string, name: string, image: string) =>
    toSubject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { containers: [{ name: 'c', image, securityContext: { privileged: true } }] },
    })!;
  const found = (text: string, ns: string, name: string, image: string, username = 'alice', groups: string[] = []) =>
    evaluateSubject(privileged(ns, name, image), compileConfig(cfg(text)), { user: { username, groups } }).findings.some(
      (f) => f.policy === 'privileged-container',
    );

  it.each([
    ['no exception', '{}', true],
    ['by namespace', 'exceptions: {privileged-container: {namespaces: [monitoring]}}', false],
    ['by name glob', 'exceptions: {privileged-container: {names: [node-exporter-*]}}', false],
    ['by image glob', 'exceptions: {privileged-container: {images: ["quay.io/prometheus/*"]}}', false],
    ['by user', 'exceptions: {privileged-container: {users: [alice]}}', false],
    ['by group', 'exceptions: {privileged-container: {groups: [sre]}}', false],
    ['all fields must match: namespace yes, image no', 'exceptions: {privileged-container: {namespaces: [monitoring], images: [other]}}', true],
    ['a list: the second entry matches', 'exceptions: {privileged-container: [{users: [bob]}, {namespaces: [mon*]}]}', false],
    ["another rule's exception", 'exceptions: {host-namespaces: {namespaces: [monitoring]}}', true],
  ] as const)('%s', (_n, text, expected) => {
    expect(
      found(
        text,
        'monitoring',
        'node-exporter-abc',
        'quay.io/prometheus/node-exporter:v1',
        'alice',
        ['sre'].filter(() => text.includes('groups')),
      ),
    ).toBe(expected);
  });

  it('audit rules: matched on the authenticated user, never the impersonated one', () => {
    const exec = (extra: Record<string, unknown> = {}) =>
      auditEvent({
        verb: 'create',
        requestURI: '/api/v1/namespaces/default/pods/web-0/exec?command=sh',
        objectRef: { resource: 'pods', subresource: 'exec', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
        ...extra,
      });
    const text = `exceptions: {exec-into-pod: {users: [${ALICE.username}, ops-bot]}}`;
    const types = (ev: ReturnType<typeof auditEvent>) => new AuditAnalyser({ config: cfg(text) }).analyse(ev).map((a) => a.type);
    expect(types(exec())).not.toContain('exec-into-pod');
    expect(types(exec({ user: { username: 'mallory', groups: [] } }))).toContain('exec-into-pod');
    // mallory impersonating ops-bot is not excepted.
    expect(types(exec({ user: { username: 'mallory', groups: [] }, impersonatedUser: { username: 'ops-bot', groups: [] } }))).toContain('exec-into-pod');
  });

  it('every audit alert type is a known exception key', () => {
    for (const id of AUDIT_ALERT_TYPES) expect(AUDIT_ALERT_TYPE_NAMES).toContain(id);
  });
});
