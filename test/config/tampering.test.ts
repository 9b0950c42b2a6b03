// The `tampering:` config key (policies/tampering.ts): defaults, validation with key paths, matching.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/load.js';
import { compileTampering, namespaceWeakening, tamperingSettingsOf } from '../../policies/tampering.js';

describe('tampering: configuration', () => {
  it('defaults: Bulwark’s namespace is where it runs; cert-manager and the namespace’s service accounts may change its objects; system:masters may weaken modes', () => {
    const t = compileTampering(tamperingSettingsOf(parseConfig('').tampering), 'security');
    expect(t.namespace).toBe('security');
    expect(t.isBulwarkName('bulwark')).toBe(true);
    expect(t.isBulwarkName('my-bulwark-mutate')).toBe(true);
    expect(t.isBulwarkName('kyverno')).toBe(false);
    expect(t.mayChangeBulwark('system:serviceaccount:security:bulwark', [])).toBe(true);
    expect(t.mayChangeBulwark('system:serviceaccount:prod:bulwark', [])).toBe(false);
    expect(t.mayChangeBulwark('system:serviceaccount:cert-manager:cert-manager-cainjector', [])).toBe(true);
    expect(t.isModeAdmin('root', ['system:masters'])).toBe(true);
    expect(t.isModeAdmin('alice', ['developers'])).toBe(false);
    expect(compileTampering(tamperingSettingsOf(parseConfig('').tampering)).namespace).toBe('bulwark-system');
  });

  it('every key is read; lists replace their defaults; actions accept bulwark-tampering', () => {
    const config = parseConfig(
      'actions: {bulwark-tampering: warn}\ntampering:\n  namespace: security\n  names: [guard, guard-*]\n  allowedUsers: [ci-*]\n  allowedGroups: [sec]\n  modeAdmins: {users: [platform], groups: []}\n',
    );
    expect(config.actions['bulwark-tampering']).toBe('warn');
    const t = compileTampering(tamperingSettingsOf(config.tampering), 'ignored');
    expect(t.namespace).toBe('security');
    expect([t.isBulwarkName('guard-tls'), t.isBulwarkName('bulwark')]).toEqual([true, false]);
    expect([t.mayChangeBulwark('ci-bot', []), t.mayChangeBulwark('x', ['sec']), t.mayChangeBulwark('system:serviceaccount:security:x', [])]).toEqual([
      true,
      true,
      false,
    ]);
    expect([t.isModeAdmin('platform', []), t.isModeAdmin('root', ['system:masters'])]).toEqual([true, false]);
  });

  it('bad values are errors naming the key and line', () => {
    expect(() => parseConfig('tampering:\n  namespace: Not_A_Namespace\n  names: guard\n  modeAdmins: {admins: [x]}\n  extra: 1\n', 'bulwark.yaml')).toThrow(
      ConfigError,
    );
    try {
      parseConfig('tampering:\n  namespace: Not_A_Namespace\n  names: guard\n  modeAdmins: {admins: [x]}\n  extra: 1\n', 'bulwark.yaml');
    } catch (err) {
      const text = (err as Error).message;
      expect(text).toContain('bulwark.yaml:2: tampering.namespace: must be a namespace name, got "Not_A_Namespace"');
      expect(text).toContain('tampering.names: must be a list of strings');
      expect(text).toContain('tampering.modeAdmins.admins: unknown key (known keys: users, groups)');
      expect(text).toContain('tampering.extra: unknown key');
    }
    expect(() => parseConfig('tampering: [1]\n')).toThrow(/tampering: must be a mapping/);
  });

  it('namespaceWeakening: weaker modes and a new opt-out; stronger or unchanged is nothing', () => {
    expect(namespaceWeakening({ 'bulwark.io/mode': 'audit' }, { 'bulwark.io/mode': 'warn' }, 'enforce')?.what).toBe(
      'sets bulwark.io/mode=audit, weaker than warn',
    );
    expect(namespaceWeakening({ 'bulwark.io/mode': 'warn' }, {}, 'audit')).toBeUndefined();
    expect(namespaceWeakening({}, { 'bulwark.io/mode': 'enforce' }, 'warn')?.what).toBe('sets bulwark.io/mode=warn, weaker than enforce');
    expect(namespaceWeakening({ 'bulwark.io/webhook': 'ignore', 'bulwark.io/mode': 'audit' }, undefined, 'enforce')?.what).toBe(
      "sets bulwark.io/mode=audit, weaker than enforce (the default) and sets bulwark.io/webhook=ignore, which takes the namespace out of Bulwark's webhooks",
    );
    expect(namespaceWeakening('garbage', ['x'], 'enforce')).toBeUndefined();
  });
});
