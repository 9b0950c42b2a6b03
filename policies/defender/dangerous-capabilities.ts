// dangerous-capabilities — flags a container (of any of the three lists) whose
// `securityContext.capabilities.add` holds a capability outside lists.allowedCapabilities (by
// default the Pod Security Standards baseline set: AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER,
// FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).
// Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE or BPF hand the container
// large parts of root's power over the node. Names compare case-insensitively, with or without
// the `CAP_` prefix (`cap_sys_admin` is SYS_ADMIN); `ALL` is never in the allowed set unless the
// list names it. One finding per offending entry.
import { NO_FINDINGS, containersOf, describeContainer, isRecord, joinPath, perList, quoteList, securityContextOf } from '../helpers.js';
import type { Check, Finding, PodSubject } from '../types.js';

/** `cap_sys_admin` → `SYS_ADMIN`. */
export function canonicalCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

const allowedSet = perList((list) => new Set(list.map(canonicalCapability)));

export const dangerousCapabilities: Check<PodSubject> = {
  id: 'dangerous-capabilities',
  title: 'Dangerous Linux capability added',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  remediation: 'Drop the capability from securityContext.capabilities.add; start from `drop: [ALL]` and add back only capabilities of the baseline set.',
  appliesTo: ['pod'],
  evaluate(subject, ctx) {
    let findings: Finding[] | undefined;
    let allowed: Set<string> | undefined;
    for (const ref of containersOf(subject)) {
      const caps = securityContextOf(ref.container).capabilities;
      if (!isRecord(caps) || !Array.isArray(caps.add)) continue;
      const add = caps.add;
      for (let j = 0; j < add.length; j++) {
        const cap = add[j];
        if (typeof cap !== 'string') continue;
        allowed ??= allowedSet(ctx.lists.allowedCapabilities);
        const canonical = canonicalCapability(cap);
        if (allowed.has(canonical)) continue;
        (findings ??= []).push({
          policy: dangerousCapabilities.id,
          severity: dangerousCapabilities.severity,
          message:
            canonical === 'ALL'
              ? `${describeContainer(ref)} must not add capability ${quoteList([cap])}: it grants every capability`
              : `${describeContainer(ref)} must not add capability ${quoteList([cap])}: it is outside the allowed set`,
          path: joinPath(ref.path, `securityContext.capabilities.add[${j}]`),
          image: ref.image,
        });
      }
    }
    return findings ?? NO_FINDINGS;
  },
};
