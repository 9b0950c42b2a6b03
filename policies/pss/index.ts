// Pod Security Standards (baseline, restricted) as Kubernetes' Pod Security Admission evaluates them.
//
// Each check lives in its own file with its versions; this file registers them and resolves a
// level and policy version into the checks to run, the way PSA's registry does:
//   - a version above the newest one any check defines (and `latest`) means that newest version;
//   - per check, the newest entry whose minimumVersion is not newer than the requested version
//     applies, and a check with no such entry does not;
//   - restricted = baseline + restricted checks, minus the baseline checks that an active
//     restricted check overrides.
import type { AnyCheck, CheckMeta, EvalContext, PodSubject } from '../types.js';
import { allowPrivilegeEscalation } from './allow-privilege-escalation.js';
import { appArmorProfile } from './app-armor-profile.js';
import { capabilitiesBaseline } from './capabilities-baseline.js';
import { capabilitiesRestricted } from './capabilities-restricted.js';
import { parseMinor, type PssCheckDefinition, type PssContext, type PssLevel, type PssVersionedCheck } from './check.js';
import { hostNamespaces } from './host-namespaces.js';
import { hostPathVolumes } from './host-path-volumes.js';
import { hostPorts } from './host-ports.js';
import { hostProbesAndHostLifecycle } from './host-probes-and-host-lifecycle.js';
import { privileged } from './privileged.js';
import { procMount } from './proc-mount.js';
import { procMountRestricted } from './proc-mount-restricted.js';
import { restrictedVolumes } from './restricted-volumes.js';
import { runAsNonRoot } from './run-as-non-root.js';
import { runAsUser } from './run-as-user.js';
import { seLinuxOptions } from './se-linux-options.js';
import { seccompProfileBaseline } from './seccomp-profile-baseline.js';
import { seccompProfileRestricted } from './seccomp-profile-restricted.js';
import { sysctls } from './sysctls.js';
import { windowsHostProcess } from './windows-host-process.js';

export type { PssLevel } from './check.js';
export type { PssCheckDefinition, PssContext, PssVersionedCheck } from './check.js';

/** Every check, baseline first, in the order findings are reported. */
export const PSS_CHECKS: readonly PssCheckDefinition[] = [
  // baseline
  privileged,
  hostNamespaces,
  hostPathVolumes,
  hostPorts,
  capabilitiesBaseline,
  appArmorProfile,
  seLinuxOptions,
  procMount,
  seccompProfileBaseline,
  sysctls,
  windowsHostProcess,
  hostProbesAndHostLifecycle,
  // restricted
  restrictedVolumes,
  allowPrivilegeEscalation,
  runAsNonRoot,
  runAsUser,
  seccompProfileRestricted,
  capabilitiesRestricted,
  procMountRestricted,
];

/** The newest minor any check defines: what `latest` and every higher version resolve to. */
const LATEST_MINOR = PSS_CHECKS.reduce((max, check) => check.versions.reduce((m, v) => Math.max(m, parseMinor(v.minimumVersion) ?? 0), max), 0);

/**
 * The newest version of the standard this build knows (upstream's newest revision is the v1.37
 * sysctls list); `latest`, no version and any higher v1.N mean this.
 */
export const PSS_LATEST_VERSION = 'v1.37';

if (PSS_LATEST_VERSION !== `v1.${LATEST_MINOR}`) {
  throw new Error(`PSS_LATEST_VERSION ${PSS_LATEST_VERSION} disagrees with the newest check version v1.${LATEST_MINOR}`);
}

/** A PSS check's metadata, with the PSA ID and level it came from. */
export interface PssCheckMeta extends CheckMeta {
  psaId: string;
  level: PssLevel;
}

/** Every PSS check's metadata (for config validation and docs). */
export const PSS_CHECK_METAS: readonly CheckMeta[] = PSS_CHECKS.map((c): PssCheckMeta => ({
  id: c.id,
  title: c.title,
  severity: c.severity,
  tactics: [...c.tactics],
  remediation: c.remediation,
  psaId: c.psaId,
  level: c.level,
}));

/** A PSS check bound to the version entry that applies at the requested policy version. */
export interface PssBoundCheck extends AnyCheck {
  id: string;
  psaId: string;
  level: PssLevel;
  /** The minimumVersion of the entry in force (`v1.25`). */
  minimumVersion: string;
  /** The policy version this binding resolved from (`v1.29`). */
  policyVersion: string;
  appliesTo: readonly 'pod'[];
  evaluate(subject: PodSubject, ctx?: EvalContext): ReturnType<PssVersionedCheck['evaluate']>;
}

/**
 * Resolves a requested version to the policy minor it means: `latest`/undefined → the newest,
 * `v1.N` → N capped at the newest. Throws on anything else.
 */
export function resolvePssVersion(version?: string): number {
  if (version === undefined || version === 'latest') return LATEST_MINOR;
  const minor = parseMinor(version);
  if (minor === undefined) {
    throw new Error(`invalid Pod Security Standards version ${JSON.stringify(version)}: must be "latest" or "v1.N" (e.g. v1.29)`);
  }
  return Math.min(minor, LATEST_MINOR);
}

/** The entry of `check` in force at policy minor `minor`, or undefined when the check is newer. */
function entryAt(check: PssCheckDefinition, minor: number): PssVersionedCheck | undefined {
  let found: PssVersionedCheck | undefined;
  for (const entry of check.versions) {
    if ((parseMinor(entry.minimumVersion) ?? Infinity) <= minor) found = entry;
  }
  return found;
}

const contexts = new Map<PssCheckDefinition, PssContext>();

function contextOf(check: PssCheckDefinition): PssContext {
  let ctx = contexts.get(check);
  if (!ctx) {
    ctx = Object.freeze({ policy: check.id, severity: check.severity });
    contexts.set(check, ctx);
  }
  return ctx;
}

function bind(check: PssCheckDefinition, entry: PssVersionedCheck, minor: number): PssBoundCheck {
  const ctx = contextOf(check);
  const run = entry.evaluate;
  return Object.freeze({
    id: check.id,
    psaId: check.psaId,
    level: check.level,
    title: check.title,
    severity: check.severity,
    tactics: [...check.tactics],
    remediation: check.remediation,
    appliesTo: ['pod'] as const,
    minimumVersion: entry.minimumVersion,
    policyVersion: `v1.${minor}`,
    evaluate: (subject: PodSubject) => run(subject, ctx),
  });
}

function resolve(level: PssLevel, minor: number): PssBoundCheck[] {
  const active: { check: PssCheckDefinition; entry: PssVersionedCheck }[] = [];
  const overridden = new Set<string>();
  for (const check of PSS_CHECKS) {
    if (level === 'baseline' && check.level !== 'baseline') continue;
    const entry = entryAt(check, minor);
    if (!entry) continue;
    active.push({ check, entry });
    if (check.level === 'restricted') for (const id of check.overrides ?? []) overridden.add(id);
  }
  const out: PssBoundCheck[] = [];
  for (const { check, entry } of active) {
    if (check.level === 'baseline' && overridden.has(check.psaId)) continue;
    out.push(bind(check, entry, minor));
  }
  return out;
}

const byMinor = new Map<string, readonly PssBoundCheck[]>();
const byRequest = new Map<string, readonly PssBoundCheck[]>();

/**
 * The checks of `level` as the standard stood at `version` (`v1.29`, `latest`, or undefined for
 * latest), each bound to its version entry. Versions newer than PSS_LATEST_VERSION mean the latest.
 * Resolved once per (level, version) and cached; the returned array is the caller's own.
 * Throws on a malformed version or level.
 */
export function pssChecks(level: PssLevel, version?: string): AnyCheck[] {
  const requestKey = `${level}@${version ?? 'latest'}`;
  let checks = byRequest.get(requestKey);
  if (!checks) {
    if (level !== 'baseline' && level !== 'restricted') {
      throw new Error(`invalid Pod Security Standards level ${JSON.stringify(level)}: must be "baseline" or "restricted"`);
    }
    const minor = resolvePssVersion(version);
    const minorKey = `${level}@${minor}`;
    checks = byMinor.get(minorKey);
    if (!checks) {
      checks = Object.freeze(resolve(level, minor));
      byMinor.set(minorKey, checks);
    }
    byRequest.set(requestKey, checks);
  }
  return checks.slice();
}
