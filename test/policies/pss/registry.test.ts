// How a level and version resolve into checks: versions, latest, overrides, caching, metadata.
import { describe, expect, it } from 'vitest';
import { pssPolicyId } from '../../../policies/pss/check.js';
import { PSS_CHECKS, PSS_CHECK_METAS, PSS_LATEST_VERSION, pssChecks, resolvePssVersion, type PssBoundCheck } from '../../../policies/pss/index.js';
import { allPolicyMetas, checksForProfiles, parseProfile, profileChecks } from '../../../policies/registry.js';
import { compileConfig } from '../../../policies/config.js';
import { defaultConfig } from '../../../config/load.js';
import { evaluateSubject } from '../../../policies/evaluate.js';
import { evaluate, pod, restrictedPod, subjectOf } from './support.js';

const ids = (level: 'baseline' | 'restricted', version?: string): string[] => pssChecks(level, version).map((c) => c.id);
const bound = (level: 'baseline' | 'restricted', version: string | undefined, id: string): PssBoundCheck | undefined =>
  pssChecks(level, version).find((c) => c.id === id) as PssBoundCheck | undefined;

const BASELINE_LATEST = [
  'pss-privileged',
  'pss-host-namespaces',
  'pss-host-path-volumes',
  'pss-host-ports',
  'pss-capabilities-baseline',
  'pss-app-armor-profile',
  'pss-se-linux-options',
  'pss-proc-mount',
  'pss-seccomp-profile-baseline',
  'pss-sysctls',
  'pss-windows-host-process',
  'pss-host-probes-and-host-lifecycle',
];

describe('check identity', () => {
  it('every Bulwark ID is pss- + the kebab-cased PSA ID', () => {
    for (const check of PSS_CHECKS) expect(check.id).toBe(pssPolicyId(check.psaId));
    expect(pssPolicyId('seccompProfile_restricted')).toBe('pss-seccomp-profile-restricted');
    expect(pssPolicyId('runAsNonRoot')).toBe('pss-run-as-non-root');
    expect(pssPolicyId('hostProbesAndHostLifecycle')).toBe('pss-host-probes-and-host-lifecycle');
  });

  it('lists exactly the PSA checks of upstream, with their levels', () => {
    const byLevel = (level: string) =>
      PSS_CHECKS.filter((c) => c.level === level)
        .map((c) => c.psaId)
        .sort();
    expect(byLevel('baseline')).toEqual([
      'appArmorProfile',
      'capabilities_baseline',
      'hostNamespaces',
      'hostPathVolumes',
      'hostPorts',
      'hostProbesAndHostLifecycle',
      'privileged',
      'procMount',
      'seLinuxOptions',
      'seccompProfile_baseline',
      'sysctls',
      'windowsHostProcess',
    ]);
    expect(byLevel('restricted')).toEqual([
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'procMount_restricted',
      'restrictedVolumes',
      'runAsNonRoot',
      'runAsUser',
      'seccompProfile_restricted',
    ]);
  });

  it('versions are strictly increasing v1.N, and overrides name baseline checks', () => {
    const baseline = new Set(PSS_CHECKS.filter((c) => c.level === 'baseline').map((c) => c.psaId));
    for (const check of PSS_CHECKS) {
      const minors = check.versions.map((v) => Number(/^v1\.(\d+)$/.exec(v.minimumVersion)![1]));
      expect([...minors].sort((a, b) => a - b)).toEqual(minors);
      expect(new Set(minors).size).toBe(minors.length);
      for (const id of check.overrides ?? []) {
        expect(check.level).toBe('restricted');
        expect(baseline.has(id)).toBe(true);
      }
    }
  });

  it('metadata is exported for every check, with sane severities and remediation', () => {
    expect(PSS_CHECK_METAS.map((m) => m.id)).toEqual(PSS_CHECKS.map((c) => c.id));
    for (const meta of PSS_CHECK_METAS) {
      expect(meta.title).not.toBe('');
      expect(meta.remediation).not.toBe('');
      expect(meta.tactics.length).toBeGreaterThan(0);
    }
    const severity = (id: string) => PSS_CHECK_METAS.find((m) => m.id === id)!.severity;
    for (const id of ['pss-privileged', 'pss-host-namespaces', 'pss-host-path-volumes', 'pss-capabilities-baseline']) {
      expect(severity(id)).toBe('high');
    }
    expect(allPolicyMetas().has('pss-run-as-non-root')).toBe(true);
  });
});

describe('version resolution', () => {
  it('latest is v1.37 and no version, `latest` and any higher v1.N mean it', () => {
    expect(PSS_LATEST_VERSION).toBe('v1.37');
    expect(resolvePssVersion()).toBe(37);
    expect(resolvePssVersion('latest')).toBe(37);
    expect(resolvePssVersion('v1.99')).toBe(37);
    expect(ids('restricted', 'v1.40')).toEqual(ids('restricted', 'latest'));
    expect((pssChecks('baseline', 'v1.200')[0] as PssBoundCheck).policyVersion).toBe('v1.37');
  });

  it.each(['1.29', 'v2.0', 'v1.029', 'v1.', 'v1.x', 'V1.29', '', ' v1.29', 'v1.29 '])('rejects malformed version %j', (version) => {
    expect(() => pssChecks('restricted', version)).toThrow(/invalid Pod Security Standards version/);
  });

  it('rejects an unknown level', () => {
    expect(() => pssChecks('privileged' as 'baseline')).toThrow(/level/);
  });

  it('binds each check to the newest entry not newer than the requested version', () => {
    expect(bound('baseline', 'v1.26', 'pss-sysctls')!.minimumVersion).toBe('v1.0');
    expect(bound('baseline', 'v1.27', 'pss-sysctls')!.minimumVersion).toBe('v1.27');
    expect(bound('baseline', 'v1.31', 'pss-sysctls')!.minimumVersion).toBe('v1.29');
    expect(bound('baseline', 'v1.36', 'pss-sysctls')!.minimumVersion).toBe('v1.32');
    expect(bound('baseline', 'latest', 'pss-sysctls')!.minimumVersion).toBe('v1.37');
    expect(bound('baseline', 'v1.18', 'pss-seccomp-profile-baseline')!.minimumVersion).toBe('v1.0');
    expect(bound('baseline', 'v1.19', 'pss-seccomp-profile-baseline')!.minimumVersion).toBe('v1.19');
    expect(bound('restricted', 'v1.24', 'pss-allow-privilege-escalation')!.minimumVersion).toBe('v1.8');
    expect(bound('restricted', 'v1.25', 'pss-allow-privilege-escalation')!.minimumVersion).toBe('v1.25');
  });

  it('a check does not apply before its first version', () => {
    expect(ids('restricted', 'v1.7')).not.toContain('pss-allow-privilege-escalation');
    expect(ids('restricted', 'v1.8')).toContain('pss-allow-privilege-escalation');
    expect(ids('restricted', 'v1.22')).not.toContain('pss-run-as-user');
    expect(ids('restricted', 'v1.23')).toContain('pss-run-as-user');
    expect(ids('restricted', 'v1.21')).not.toContain('pss-capabilities-restricted');
    expect(ids('baseline', 'v1.33')).not.toContain('pss-host-probes-and-host-lifecycle');
    expect(ids('baseline', 'v1.34')).toContain('pss-host-probes-and-host-lifecycle');
  });

  it('baseline has only baseline checks; restricted includes baseline', () => {
    expect(ids('baseline')).toEqual(BASELINE_LATEST);
    expect(ids('baseline', 'v1.0')).toEqual(BASELINE_LATEST.filter((id) => id !== 'pss-host-probes-and-host-lifecycle'));
    expect(ids('restricted')).toEqual(expect.arrayContaining(['pss-privileged', 'pss-sysctls', 'pss-app-armor-profile']));
  });
});

describe('restricted overrides baseline checks', () => {
  it('restrictedVolumes replaces hostPathVolumes at every version', () => {
    for (const v of ['v1.0', 'v1.25', 'latest']) {
      expect(ids('restricted', v)).toContain('pss-restricted-volumes');
      expect(ids('restricted', v)).not.toContain('pss-host-path-volumes');
    }
  });

  it('seccompProfile_restricted replaces the baseline one from v1.19, not before', () => {
    expect(ids('restricted', 'v1.18')).toContain('pss-seccomp-profile-baseline');
    expect(ids('restricted', 'v1.18')).not.toContain('pss-seccomp-profile-restricted');
    expect(ids('restricted', 'v1.19')).not.toContain('pss-seccomp-profile-baseline');
    expect(ids('restricted', 'v1.19')).toContain('pss-seccomp-profile-restricted');
  });

  it('capabilities_restricted replaces the baseline one from v1.22, not before', () => {
    expect(ids('restricted', 'v1.21')).toContain('pss-capabilities-baseline');
    expect(ids('restricted', 'v1.22')).not.toContain('pss-capabilities-baseline');
  });

  it('procMount_restricted replaces the baseline procMount from v1.35, not before', () => {
    expect(ids('restricted', 'v1.34')).toContain('pss-proc-mount');
    expect(ids('restricted', 'v1.34')).not.toContain('pss-proc-mount-restricted');
    expect(ids('restricted', 'v1.35')).not.toContain('pss-proc-mount');
    expect(ids('restricted', 'v1.35')).toContain('pss-proc-mount-restricted');
  });

  it('an overridden violation is reported once, by the restricted check', () => {
    const hostPath = restrictedPod({ volumes: [{ name: 'data', hostPath: { path: '/var/run' } }] });
    expect(evaluate('restricted', 'latest', hostPath).map((f) => f.policy)).toEqual(['pss-restricted-volumes']);
    expect(evaluate('baseline', 'latest', hostPath).map((f) => f.policy)).toEqual(['pss-host-path-volumes']);
  });
});

describe('binding and caching', () => {
  it('bound checks carry Bulwark and PSA metadata and apply to pods', () => {
    const check = bound('restricted', 'v1.29', 'pss-capabilities-restricted')!;
    expect(check).toMatchObject({
      id: 'pss-capabilities-restricted',
      psaId: 'capabilities_restricted',
      level: 'restricted',
      minimumVersion: 'v1.25',
      policyVersion: 'v1.29',
      severity: 'medium',
      appliesTo: ['pod'],
    });
  });

  it('repeated calls reuse the same bound checks, in a fresh array each time', () => {
    const a = pssChecks('restricted', 'v1.29');
    const b = pssChecks('restricted', 'v1.29');
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
    a.forEach((check, i) => expect(check).toBe(b[i]));
    a.pop();
    expect(pssChecks('restricted', 'v1.29')).toHaveLength(b.length);
    // every version above the newest shares the newest's checks
    expect(pssChecks('baseline', 'v1.50')[0]).toBe(pssChecks('baseline')[0]);
  });

  it('a clean pod allocates no findings array (the shared frozen empty result)', () => {
    const subject = subjectOf(restrictedPod());
    const results = pssChecks('restricted').map((c) => c.evaluate(subject, { lists: {} as never }));
    for (const r of results) {
      expect(r).toEqual([]);
      expect(Object.isFrozen(r)).toBe(true);
    }
  });
});

describe('profiles wiring (registry.ts, config.ts)', () => {
  it('pss-restricted@v1.29 pins the version; pss-baseline means latest', () => {
    expect(profileChecks(parseProfile('pss-restricted@v1.29')).map((c) => c.id)).toEqual(ids('restricted', 'v1.29'));
    expect(profileChecks(parseProfile('pss-baseline')).map((c) => c.id)).toEqual(ids('baseline'));
    // union of both sets, each ID once, baseline first
    const union = checksForProfiles(['pss-baseline', 'pss-restricted']).map((c) => c.id);
    expect(union.slice(0, BASELINE_LATEST.length)).toEqual(BASELINE_LATEST);
    expect(new Set(union)).toEqual(new Set([...ids('baseline'), ...ids('restricted')]));
  });

  it('runs through the shared evaluation path, and image exemptions drop container findings', () => {
    const config = { ...defaultConfig(), profiles: ['pss-baseline'] };
    const subject = subjectOf(
      pod({
        hostNetwork: true,
        containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', securityContext: { privileged: true } }],
      }),
    );
    const all = evaluateSubject(subject, compileConfig(config)).findings.map((f) => f.policy);
    expect(all).toEqual(['pss-privileged', 'pss-host-namespaces']);
    const exempt = evaluateSubject(
      subject,
      compileConfig({
        ...config,
        exemptions: { ...config.exemptions, images: ['registry.k8s.io/*'] },
      }),
    ).findings.map((f) => f.policy);
    expect(exempt).toEqual(['pss-host-namespaces']);
  });
});
