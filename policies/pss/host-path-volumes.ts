// hostPathVolumes (baseline, v1.0+)
//
// HostPath volumes must be forbidden.
//
// Restricted Fields:
//   spec.volumes[*].hostPath
// Allowed Values: undefined/null
//
// In the restricted set, restrictedVolumes overrides this check (it reports hostPath too).
import { isRecord, joinPath } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, isSet, quote, report, type PssCheckDefinition } from './check.js';

export const hostPathVolumes: PssCheckDefinition = {
  psaId: 'hostPathVolumes',
  id: 'pss-host-path-volumes',
  level: 'baseline',
  title: 'hostPath volume',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Credential Access'],
  remediation: 'Replace hostPath volumes with persistentVolumeClaim, emptyDir, configMap or secret volumes.',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        const volumes = subject.spec.volumes;
        if (!Array.isArray(volumes)) return NO_FINDINGS;
        let findings: Finding[] | undefined;
        for (let i = 0; i < volumes.length; i++) {
          const volume: unknown = volumes[i];
          if (!isRecord(volume) || !isSet(volume.hostPath)) continue;
          const name = typeof volume.name === 'string' ? volume.name : `volumes[${i}]`;
          findings = report(findings, ctx, `volume ${quote(name)} must not use a hostPath volume`, joinPath(subject.specPath, `volumes[${i}].hostPath`));
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
