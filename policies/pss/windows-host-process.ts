// windowsHostProcess (baseline, v1.0+)
//
// Windows pods offer the ability to run HostProcess containers which enables privileged access
// to the Windows node. Privileged access to the host is disallowed in the baseline policy.
//
// Restricted Fields:
//   spec.securityContext.windowsOptions.hostProcess
//   spec.containers[*].securityContext.windowsOptions.hostProcess
//   spec.initContainers[*].securityContext.windowsOptions.hostProcess
//   spec.ephemeralContainers[*].securityContext.windowsOptions.hostProcess
// Allowed Values: false, undefined/null
import { containersOf, describeContainer, isRecord, joinPath, podSecurityContextOf, securityContextOf } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, report, type PssCheckDefinition } from './check.js';

function hostProcess(securityContext: Record<string, unknown>): boolean {
  const options = securityContext.windowsOptions;
  return isRecord(options) && options.hostProcess === true;
}

export const windowsHostProcess: PssCheckDefinition = {
  psaId: 'windowsHostProcess',
  id: 'pss-windows-host-process',
  level: 'baseline',
  title: 'Windows HostProcess container',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  remediation: 'Remove securityContext.windowsOptions.hostProcess (or set it to false) at pod and container level.',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        if (hostProcess(podSecurityContextOf(subject))) {
          findings = report(
            findings,
            ctx,
            'pod must not set securityContext.windowsOptions.hostProcess=true',
            joinPath(subject.specPath, 'securityContext.windowsOptions.hostProcess'),
          );
        }
        for (const ref of containersOf(subject)) {
          if (!hostProcess(securityContextOf(ref.container))) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not set securityContext.windowsOptions.hostProcess=true`,
            joinPath(ref.path, 'securityContext.windowsOptions.hostProcess'),
            ref.image,
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
