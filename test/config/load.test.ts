import { describe, expect, it } from 'vitest';
import { compileConfig, exemptionReason, isImageExempt } from '../../policies/config.js';
import { defaultConfig, parseConfig } from '../../config/load.js';
import { globToRegExp } from '../../core/glob.js';
import { ConfigError } from '../../core/errors.js';

describe('parseConfig', () => {
  it('returns the defaults for an empty document', () => {
    expect(parseConfig('')).toEqual(defaultConfig());
  });

  it('reads the documented keys', () => {
    const c = parseConfig(`
profiles: [defender, pss-restricted@v1.29]
defaultAction: warn
actions:
  kube-system-workload: audit
  privileged-container: off
exemptions:
  namespaces: [bulwark-system]
  images: ["registry.k8s.io/*"]
mutations: [seccomp-runtime-default]
onError: deny
`);
    expect(c.profiles).toEqual(['defender', 'pss-restricted@v1.29']);
    expect(c.defaultAction).toBe('warn');
    expect(c.actions).toEqual({ 'kube-system-workload': 'audit', 'privileged-container': 'off' });
    expect(c.exemptions.namespaces).toEqual(['bulwark-system']);
    expect(c.mutations).toEqual(['seccomp-runtime-default']);
    expect(c.onError).toBe('deny');
  });

  it.each([
    ['defaultAction: block', /config:1: defaultAction: must be one of enforce, warn, audit/],
    ['profiles: [defendr]', /config:1: profiles.0: unknown profile "defendr"/],
    ['profiles: [pss-restricted@1.29]', /version must look like v1.29/],
    [
      'actions:\n  privileged-containr: warn',
      /config:2: actions.privileged-containr: unknown policy ID "privileged-containr" \(did you mean "privileged-container"\?\)/,
    ],
    ['exemptions:\n  namespace: [a]', /config:2: exemptions.namespace: unknown key/],
    ['exemptoins: {}', /config:1: exemptoins: unknown key/],
    ['mutations: [make-safe]', /unknown mutation "make-safe"/],
    ['profiles: [defender', /config:1: invalid YAML/],
    ['- a\n- b', /must be a mapping/],
  ])('rejects %j with a message that says what and where', (text, message) => {
    expect(() => parseConfig(text)).toThrow(ConfigError);
    expect(() => parseConfig(text)).toThrow(message);
  });

  it('reports every error at once', () => {
    expect(() => parseConfig('defaultAction: x\nonError: maybe\n')).toThrow(/defaultAction[\s\S]*\n.*onError/);
  });
});

describe('compileConfig and exemptions', () => {
  it('drops policies turned off and keeps per-policy actions', () => {
    const compiled = compileConfig(parseConfig('defaultAction: warn\nactions: {privileged-container: off, host-namespaces: enforce}'));
    expect(compiled.checks.some((c) => c.id === 'privileged-container')).toBe(false);
    if (compiled.checks.some((c) => c.id === 'host-namespaces')) expect(compiled.actionOf.get('host-namespaces')).toBe('enforce');
  });

  it('matches namespaces, usernames and groups exactly', () => {
    const compiled = compileConfig(parseConfig('exemptions: {namespaces: [ops], usernames: [alice], groups: [admins]}'));
    expect(exemptionReason(compiled, 'ops')).toMatch(/namespace "ops"/);
    expect(exemptionReason(compiled, 'ops-2')).toBeUndefined();
    expect(exemptionReason(compiled, 'x', { username: 'alice', groups: [] })).toMatch(/user "alice"/);
    expect(exemptionReason(compiled, 'x', { username: 'bob', groups: ['admins'] })).toMatch(/group "admins"/);
    expect(exemptionReason(compiled, 'x', { username: 'bob', groups: ['devs'] })).toBeUndefined();
  });

  it('matches image globs with * across slashes and ? for one character', () => {
    expect(globToRegExp('registry.k8s.io/*').test('registry.k8s.io/ingress-nginx/controller:v1')).toBe(true);
    expect(globToRegExp('registry.k8s.io/*').test('registryxk8s.io/pause')).toBe(false);
    expect(globToRegExp('nginx:1.2?').test('nginx:1.25')).toBe(true);
    const compiled = compileConfig(parseConfig('exemptions: {images: ["registry.k8s.io/*", "quay.io/ops/agent:*"]}'));
    expect(isImageExempt(compiled, 'quay.io/ops/agent:1.0')).toBe(true);
    expect(isImageExempt(compiled, 'quay.io/ops/other:1.0')).toBe(false);
    expect(isImageExempt(compiled, '')).toBe(false);
  });
});

describe('toSubject', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('ignores an object whose kind is the built-in name %j', async (kind) => {
    const { toSubject } = await import('../../policies/subject.js');
    expect(toSubject({ apiVersion: 'v1', kind, metadata: { name: 'x' } })).toBeUndefined();
  });
});
