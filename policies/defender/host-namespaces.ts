// host-namespaces — flags a pod that sets `hostNetwork`, `hostPID` or `hostIPC` to true (one
// finding per field). Sharing the node's network namespace lets a pod sniff and reach node-local
// services (the kubelet, metadata endpoints); the PID namespace lets it see and signal, or ptrace,
// every process on the node; the IPC namespace exposes the host's shared memory.
import { NO_FINDINGS, describeObject, joinPath } from '../helpers.js';
import type { Check, Finding, PodSubject } from '../types.js';

const HOST_NAMESPACE_FIELDS: readonly { field: string; why: string }[] = [
  { field: 'hostNetwork', why: "the pod would share the node's network namespace" },
  { field: 'hostPID', why: 'the pod would see and signal every process on the node' },
  { field: 'hostIPC', why: "the pod would share the node's IPC namespace and shared memory" },
];

export const hostNamespaces: Check<PodSubject> = {
  id: 'host-namespaces',
  title: 'Pod shares host namespaces',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Lateral Movement'],
  remediation: 'Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).',
  appliesTo: ['pod'],
  evaluate(subject) {
    let findings: Finding[] | undefined;
    for (const { field, why } of HOST_NAMESPACE_FIELDS) {
      if (subject.spec[field] !== true) continue;
      (findings ??= []).push({
        policy: hostNamespaces.id,
        severity: hostNamespaces.severity,
        message: `${describeObject(subject.ref)} must not set ${field}=true: ${why}`,
        path: joinPath(subject.specPath, field),
      });
    }
    return findings ?? NO_FINDINGS;
  },
};
