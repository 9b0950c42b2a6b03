// capabilities_restricted (restricted; v1.22+, v1.25 exempts windows pods)
//
// Containers must drop ALL capabilities, and are only permitted to add back the
// NET_BIND_SERVICE capability. This is a Linux only policy in v1.25+ (spec.os.name != windows).
//
// Restricted Fields:
//   spec.containers[*].securityContext.capabilities.drop
//   spec.initContainers[*].securityContext.capabilities.drop
//   spec.ephemeralContainers[*].securityContext.capabilities.drop
// Allowed Values: any list of capabilities that includes ALL
//
// Restricted Fields:
//   spec.containers[*].securityContext.capabilities.add
//   spec.initContainers[*].securityContext.capabilities.add
//   spec.ephemeralContainers[*].securityContext.capabilities.add
// Allowed Values: undefined/empty, NET_BIND_SERVICE
//
// Overrides capabilities_baseline (everything baseline forbids, this forbids too).
import { containersOf, describeContainer, isRecord, joinPath, quoteValue, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, isWindowsPod, report, type PssContext, type PssCheckDefinition } from './check.js';

function requireDropAll(subject: PodSubject, ctx: PssContext): Finding[] {
  let findings: Finding[] | undefined;
  for (const ref of containersOf(subject)) {
    const capabilities = securityContextOf(ref.container).capabilities;
    const drop = isRecord(capabilities) ? capabilities.drop : undefined;
    if (!Array.isArray(drop) || !drop.includes('ALL')) {
      findings = report(
        findings,
        ctx,
        `${describeContainer(ref)} must set securityContext.capabilities.drop=["ALL"]`,
        joinPath(ref.path, 'securityContext.capabilities.drop'),
        ref.image,
      );
    }
    const add = isRecord(capabilities) ? capabilities.add : undefined;
    if (!Array.isArray(add)) continue;
    let bad: unknown[] | undefined;
    for (const cap of add as unknown[]) if (cap !== 'NET_BIND_SERVICE') (bad ??= []).push(cap);
    if (!bad) continue;
    findings = report(
      findings,
      ctx,
      `${describeContainer(ref)} must not include ${bad.map(quoteValue).join(', ')} in securityContext.capabilities.add (only NET_BIND_SERVICE may be added)`,
      joinPath(ref.path, 'securityContext.capabilities.add'),
      ref.image,
    );
  }
  return findings ?? NO_FINDINGS;
}

export const capabilitiesRestricted: PssCheckDefinition = {
  psaId: 'capabilities_restricted',
  id: 'pss-capabilities-restricted',
  level: 'restricted',
  title: 'Capabilities not dropped',
  severity: 'medium',
  tactics: ['Privilege Escalation'],
  remediation: 'Set securityContext.capabilities.drop: ["ALL"] on every container; add back at most NET_BIND_SERVICE.',
  overrides: ['capabilities_baseline'],
  versions: [
    { minimumVersion: 'v1.22', evaluate: requireDropAll },
    {
      minimumVersion: 'v1.25',
      evaluate(subject, ctx) {
        return isWindowsPod(subject) ? NO_FINDINGS : requireDropAll(subject, ctx);
      },
    },
  ],
};
