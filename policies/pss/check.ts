// The shape of one Pod Security Standards check, as Kubernetes' Pod Security Admission
// (k8s.io/pod-security-admission/policy) defines it: an ID, a level, and one or more
// versioned implementations. The evaluator picks, for a requested policy version, the newest
// entry whose minimumVersion is not newer than it; a check with no such entry does not apply.
// Also the small helpers the PSS checks share (windows pods, user namespaces, findings).
import { NO_FINDINGS, isRecord } from '../helpers.js';
import type { Finding, PodSubject, Severity } from '../types.js';

export type PssLevel = 'baseline' | 'restricted';

/** What a versioned evaluate function needs besides the pod: who it reports as. Built once per check. */
export interface PssContext {
  /** The Bulwark policy ID (`pss-privileged`). */
  readonly policy: string;
  readonly severity: Severity;
}

export type PssEvaluate = (subject: PodSubject, ctx: PssContext) => Finding[];

export interface PssVersionedCheck {
  /** The first policy version this implementation applies to, `v1.N` (never `latest`). */
  readonly minimumVersion: string;
  readonly evaluate: PssEvaluate;
}

export interface PssCheckDefinition {
  /** The PSA check ID, exactly as upstream spells it (`capabilities_restricted`). */
  readonly psaId: string;
  /** The Bulwark policy ID: `pss-` + the PSA ID in kebab case. */
  readonly id: string;
  readonly level: PssLevel;
  readonly title: string;
  readonly severity: Severity;
  readonly tactics: readonly string[];
  readonly remediation: string;
  /**
   * PSA IDs of baseline checks this restricted check replaces (PSA's OverrideCheckIDs), at every
   * version where this check applies: the restricted set then runs this check instead of those.
   */
  readonly overrides?: readonly string[];
  /** Strictly increasing minimum versions. */
  readonly versions: readonly PssVersionedCheck[];
}

/** `capabilities_restricted` → `pss-capabilities-restricted`, `seLinuxOptions` → `pss-se-linux-options`. */
export function pssPolicyId(psaId: string): string {
  return (
    'pss-' +
    psaId
      .replace(/_/g, '-')
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .toLowerCase()
  );
}

/** Parses `v1.N` into N; undefined when malformed. */
export function parseMinor(version: string): number | undefined {
  const match = /^v1\.(0|[1-9][0-9]*)$/.exec(version);
  return match ? Number(match[1]) : undefined;
}

/** The returned value of a check that found nothing (shared and frozen; see helpers). */
export { NO_FINDINGS };

/** Appends a finding to `list`, creating the list on first use. */
export function report(list: Finding[] | undefined, ctx: PssContext, message: string, path: string, image?: string): Finding[] {
  const finding: Finding = { policy: ctx.policy, severity: ctx.severity, message, path };
  if (image !== undefined) finding.image = image;
  if (list === undefined) return [finding];
  list.push(finding);
  return list;
}

/** A value PSA's typed decoding would read as set: present and not null. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** `spec.os.name: windows` — the pods PSA exempts from some Linux-only restricted checks from v1.25. */
export function isWindowsPod(subject: PodSubject): boolean {
  const os = subject.spec.os;
  return isRecord(os) && os.name === 'windows';
}

/** `spec.hostUsers: false` — the pod runs in its own user namespace (KEP-127); relaxes some checks from v1.35. */
export function usesUserNamespace(subject: PodSubject): boolean {
  return subject.spec.hostUsers === false;
}

/** A string field of a record, or `` (Go's zero value) when absent or not a string. */
export function stringField(record: unknown, key: string): string {
  if (!isRecord(record)) return '';
  const value = record[key];
  return typeof value === 'string' ? value : '';
}

/** A quoted value for messages: `"Unconfined"`. */
export function quote(value: string): string {
  return JSON.stringify(value);
}

/** The pod's annotations as a record (`{}` when absent). */
export function annotationsOf(subject: PodSubject): Record<string, unknown> {
  const annotations = subject.podMeta.annotations;
  return isRecord(annotations) ? annotations : EMPTY_RECORD;
}

const EMPTY_RECORD: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** Field path of an annotation, as Kubernetes writes map keys: `metadata.annotations[key]`. */
export function annotationPath(subject: PodSubject, key: string): string {
  return subject.podMetaPath ? `${subject.podMetaPath}.annotations[${key}]` : `annotations[${key}]`;
}
