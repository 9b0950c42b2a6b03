// The policy sets that the webhook, the audit analyser and `bulwark scan` share.
import { DEFENDER_CHECKS } from './defender/index.js';
import { PSS_CHECK_METAS, pssChecks, type PssLevel } from './pss/index.js';
import { TAMPERING_META } from './tampering.js';
import type { AnyCheck, CheckMeta } from './types.js';

export const PROFILE_NAMES = ['defender', 'pss-baseline', 'pss-restricted'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface ParsedProfile {
  name: ProfileName;
  /** For PSS profiles: the pinned version (`v1.29`), or undefined for latest. */
  version?: string;
}

/** Parses `defender`, `pss-baseline`, `pss-restricted@v1.29`, `pss-baseline@latest`. Throws with a clear message. */
export function parseProfile(text: string): ParsedProfile {
  const at = text.indexOf('@');
  const name = at >= 0 ? text.slice(0, at) : text;
  const version = at >= 0 ? text.slice(at + 1) : undefined;
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new Error(
      `unknown profile ${JSON.stringify(text)}: expected one of ${PROFILE_NAMES.join(', ')} (PSS profiles may be pinned, e.g. pss-restricted@v1.29)`,
    );
  }
  if (version !== undefined && name === 'defender') {
    throw new Error(`profile ${JSON.stringify(text)}: only the pss-* profiles take a version`);
  }
  if (version !== undefined && version !== 'latest' && !/^v1\.(0|[1-9][0-9]*)$/.test(version)) {
    throw new Error(`profile ${JSON.stringify(text)}: version must look like v1.29 or latest`);
  }
  return version === undefined ? { name: name as ProfileName } : { name: name as ProfileName, version };
}

/** The checks of one profile. */
export function profileChecks(profile: ParsedProfile): AnyCheck[] {
  if (profile.name === 'defender') return [...DEFENDER_CHECKS];
  const level: PssLevel = profile.name === 'pss-baseline' ? 'baseline' : 'restricted';
  return pssChecks(level, profile.version);
}

/** The union of the checks of several profiles, each policy ID once (the first profile wins). */
export function checksForProfiles(profiles: readonly string[]): AnyCheck[] {
  const seen = new Set<string>();
  const out: AnyCheck[] = [];
  for (const text of profiles) {
    for (const check of profileChecks(parseProfile(text))) {
      if (seen.has(check.id)) continue;
      seen.add(check.id);
      out.push(check);
    }
  }
  return out;
}

/** Metadata of every policy this build knows, by ID. */
export function allPolicyMetas(): Map<string, CheckMeta> {
  const out = new Map<string, CheckMeta>();
  for (const c of DEFENDER_CHECKS) out.set(c.id, c);
  for (const c of PSS_CHECK_METAS) out.set(c.id, c);
  // Not a check of a profile, but an admission decision with an action of its own (actions.bulwark-tampering).
  out.set(TAMPERING_META.id, TAMPERING_META);
  return out;
}
