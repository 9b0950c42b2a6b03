// capabilities_baseline (baseline, v1.0+)
//
// Adding additional capabilities beyond the default set must be disallowed.
//
// Restricted Fields:
//   spec.containers[*].securityContext.capabilities.add
//   spec.initContainers[*].securityContext.capabilities.add
//   spec.ephemeralContainers[*].securityContext.capabilities.add
// Allowed Values: undefined/empty, or values from the default set
//   AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE,
//   SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT
//
// In the restricted set, capabilities_restricted overrides this check from v1.22.
import { containersOf, describeContainer, isRecord, joinPath, quoteValue, securityContextOf } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, report, type PssCheckDefinition } from './check.js';

/** The container runtime's default capability set: adding one of these grants nothing new. */
export const BASELINE_ALLOWED_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

export const capabilitiesBaseline: PssCheckDefinition = {
  psaId: 'capabilities_baseline',
  id: 'pss-capabilities-baseline',
  level: 'baseline',
  title: 'Container adds non-default capabilities',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  remediation: 'Remove capabilities beyond the runtime default set (e.g. NET_RAW, SYS_ADMIN) from securityContext.capabilities.add.',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        for (const ref of containersOf(subject)) {
          const capabilities = securityContextOf(ref.container).capabilities;
          if (!isRecord(capabilities) || !Array.isArray(capabilities.add)) continue;
          let bad: unknown[] | undefined;
          for (const cap of capabilities.add as unknown[]) {
            // Not a string is not an allowed capability (and may not even turn into one: `{toString: 1}`).
            if (typeof cap !== 'string' || !BASELINE_ALLOWED_CAPABILITIES.has(cap)) (bad ??= []).push(cap);
          }
          if (!bad) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not include ${bad.map(quoteValue).join(', ')} in securityContext.capabilities.add`,
            joinPath(ref.path, 'securityContext.capabilities.add'),
            ref.image,
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
