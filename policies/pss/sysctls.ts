// sysctls (baseline; v1.0, v1.27, v1.29, v1.32 and v1.37 each allow more)
//
// Sysctls can disable security mechanisms or affect all containers on a host, and should be
// disallowed except for an allowed "safe" subset. A sysctl is considered safe if it is
// namespaced in the container or the Pod, and it is isolated from other Pods or processes on
// the same Node.
//
// Restricted Fields:
//   spec.securityContext.sysctls[*].name
// Allowed Values: undefined/empty, or
//   kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start,
//   net.ipv4.tcp_syncookies, net.ipv4.ping_group_range                       (v1.0+)
//   net.ipv4.ip_local_reserved_ports                                         (v1.27+)
//   net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
//   net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes             (v1.29+)
//   net.ipv4.tcp_rmem, net.ipv4.tcp_wmem                                     (v1.32+)
//   net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat          (v1.37+)
import { isRecord, joinPath } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, quote, report, stringField, type PssContext, type PssCheckDefinition } from './check.js';

const ALLOWED_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
];
const ALLOWED_1_27 = [...ALLOWED_1_0, 'net.ipv4.ip_local_reserved_ports'];
const ALLOWED_1_29 = [
  ...ALLOWED_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const ALLOWED_1_32 = [...ALLOWED_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const ALLOWED_1_37 = [...ALLOWED_1_32, 'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat'];

/** The safe sysctls, by the policy version that first allowed the list. */
export const SAFE_SYSCTLS: Readonly<Record<string, readonly string[]>> = {
  'v1.0': ALLOWED_1_0,
  'v1.27': ALLOWED_1_27,
  'v1.29': ALLOWED_1_29,
  'v1.32': ALLOWED_1_32,
  'v1.37': ALLOWED_1_37,
};

function evaluateWith(list: readonly string[]) {
  const allowed: ReadonlySet<string> = new Set(list);
  return (subject: PodSubject, ctx: PssContext): Finding[] => {
    const sc = subject.spec.securityContext;
    if (!isRecord(sc) || !Array.isArray(sc.sysctls)) return NO_FINDINGS;
    const sysctls: unknown[] = sc.sysctls;
    let findings: Finding[] | undefined;
    for (let i = 0; i < sysctls.length; i++) {
      const name = stringField(sysctls[i], 'name');
      if (allowed.has(name)) continue;
      findings = report(findings, ctx, `pod must not set sysctl ${quote(name)}`, joinPath(subject.specPath, `securityContext.sysctls[${i}].name`));
    }
    return findings ?? NO_FINDINGS;
  };
}

export const sysctls: PssCheckDefinition = {
  psaId: 'sysctls',
  id: 'pss-sysctls',
  level: 'baseline',
  title: 'Unsafe sysctls',
  severity: 'medium',
  tactics: ['Privilege Escalation', 'Impact'],
  remediation: 'Set only namespaced, safe sysctls in spec.securityContext.sysctls.',
  versions: [
    { minimumVersion: 'v1.0', evaluate: evaluateWith(ALLOWED_1_0) },
    { minimumVersion: 'v1.27', evaluate: evaluateWith(ALLOWED_1_27) },
    { minimumVersion: 'v1.29', evaluate: evaluateWith(ALLOWED_1_29) },
    { minimumVersion: 'v1.32', evaluate: evaluateWith(ALLOWED_1_32) },
    { minimumVersion: 'v1.37', evaluate: evaluateWith(ALLOWED_1_37) },
  ],
};
