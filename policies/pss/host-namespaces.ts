// hostNamespaces (baseline, v1.0+)
//
// Sharing the host namespaces must be disallowed.
//
// Restricted Fields:
//   spec.hostNetwork
//   spec.hostPID
//   spec.hostIPC
// Allowed Values: false, undefined/null
import { joinPath } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, report, type PssCheckDefinition } from './check.js';

const FIELDS = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

export const hostNamespaces: PssCheckDefinition = {
  psaId: 'hostNamespaces',
  id: 'pss-host-namespaces',
  level: 'baseline',
  title: 'Pod shares host namespaces',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Lateral Movement'],
  remediation: 'Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        for (const field of FIELDS) {
          if (subject.spec[field] !== true) continue;
          findings = report(findings, ctx, `pod must not set ${field}=true`, joinPath(subject.specPath, field));
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
