// restrictedVolumes (restricted, v1.0+)
//
// The restricted policy only permits the following volume types.
//
// Restricted Fields:
//   spec.volumes[*]
// Allowed Values: every item of spec.volumes must set one of
//   spec.volumes[*].configMap, .csi, .downwardAPI, .emptyDir, .ephemeral, .image,
//   .persistentVolumeClaim, .projected, .secret
//
// Like Pod Security Admission (where `image` was added to the v1.0 check in Kubernetes 1.33), the
// allowed list is the same at every version. A volume with any other source (hostPath, nfs,
// gitRepo, … or a type this build does not know) is reported; a volume with no source at all is
// what the API server defaults to emptyDir, and passes. Overrides hostPathVolumes.
import { isRecord, joinPath } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, isSet, quote, report, type PssCheckDefinition } from './check.js';

const ALLOWED_SOURCES: ReadonlySet<string> = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** The restricted volume sources PSA names, in its order of precedence for the reported type. */
export const RESTRICTED_SOURCES: readonly string[] = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

/** The restricted source a volume uses (`hostPath`, or the first unknown key), or undefined when it is allowed. */
function restrictedSource(volume: Record<string, unknown>): string | undefined {
  let other: string | undefined;
  for (const key in volume) {
    if (key === 'name' || !isSet(volume[key])) continue;
    if (ALLOWED_SOURCES.has(key)) return undefined;
    other ??= key;
  }
  if (other === undefined) return undefined;
  for (const source of RESTRICTED_SOURCES) if (isSet(volume[source])) return source;
  return other;
}

export const restrictedVolumes: PssCheckDefinition = {
  psaId: 'restrictedVolumes',
  id: 'pss-restricted-volumes',
  level: 'restricted',
  title: 'Restricted volume type',
  severity: 'medium',
  tactics: ['Privilege Escalation', 'Credential Access'],
  remediation: 'Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.',
  overrides: ['hostPathVolumes'],
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        const volumes = subject.spec.volumes;
        if (!Array.isArray(volumes)) return NO_FINDINGS;
        let findings: Finding[] | undefined;
        for (let i = 0; i < volumes.length; i++) {
          const volume: unknown = volumes[i];
          if (!isRecord(volume)) continue;
          const source = restrictedSource(volume);
          if (source === undefined) continue;
          const name = typeof volume.name === 'string' ? volume.name : `volumes[${i}]`;
          findings = report(
            findings,
            ctx,
            `volume ${quote(name)} uses restricted volume type ${quote(source)}`,
            joinPath(subject.specPath, `volumes[${i}].${source}`),
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
