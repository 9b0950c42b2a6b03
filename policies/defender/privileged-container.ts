// privileged-container — flags any container, init container or ephemeral container that sets
// `securityContext.privileged: true`. A privileged container runs with every capability, sees all
// host devices and is not confined by seccomp or AppArmor: escaping to the node is one `mount` away.
import { NO_FINDINGS, containersOf, describeContainer, joinPath, securityContextOf } from '../helpers.js';
import type { Check, Finding, PodSubject } from '../types.js';

export const privilegedContainer: Check<PodSubject> = {
  id: 'privileged-container',
  title: 'Privileged container',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  remediation: 'Remove securityContext.privileged (or set it to false); grant only the specific capabilities the container needs.',
  appliesTo: ['pod'],
  evaluate(subject) {
    let findings: Finding[] | undefined;
    for (const ref of containersOf(subject)) {
      if (securityContextOf(ref.container).privileged !== true) continue;
      (findings ??= []).push({
        policy: privilegedContainer.id,
        severity: privilegedContainer.severity,
        message: `${describeContainer(ref)} must not set securityContext.privileged=true`,
        path: joinPath(ref.path, 'securityContext.privileged'),
        image: ref.image,
      });
    }
    return findings ?? NO_FINDINGS;
  },
};
