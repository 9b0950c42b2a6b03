// procMount_restricted (restricted, v1.35+)
//
// The default /proc masks are set up to reduce attack surface, and should be required by the
// restricted profile — even for pods in a user namespace.
//
// Restricted Fields:
//   spec.containers[*].securityContext.procMount
//   spec.initContainers[*].securityContext.procMount
//   spec.ephemeralContainers[*].securityContext.procMount
// Allowed Values: undefined/null, "Default"
//
// From v1.35 the baseline procMount check relaxes for user-namespace pods; this check keeps the
// unconditional rule in the restricted set and overrides the baseline one there.
import { procMountDefaultOnly } from './proc-mount.js';
import type { PssCheckDefinition } from './check.js';

export const procMountRestricted: PssCheckDefinition = {
  psaId: 'procMount_restricted',
  id: 'pss-proc-mount-restricted',
  level: 'restricted',
  title: 'Unmasked /proc mount',
  severity: 'medium',
  tactics: ['Privilege Escalation', 'Discovery'],
  remediation: 'Remove securityContext.procMount (or set it to Default), also in user-namespace pods.',
  overrides: ['procMount'],
  versions: [{ minimumVersion: 'v1.35', evaluate: procMountDefaultOnly }],
};
