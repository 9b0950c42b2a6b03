// Pod Security Standards (baseline, restricted) as Kubernetes' Pod Security Admission evaluates them.
import type { AnyCheck, CheckMeta } from '../types.js';

export type PssLevel = 'baseline' | 'restricted';

/** The newest version of the standard this build knows; `latest` and no version mean this. */
export const PSS_LATEST_VERSION = 'v1.37';

/** Every PSS check's metadata (for config validation and docs). */
export const PSS_CHECK_METAS: readonly CheckMeta[] = [];

/** The checks of `level` as the standard stood at `version` (`v1.29`, `latest`, or undefined for latest). Throws on a malformed version. */
export function pssChecks(level: PssLevel, version?: string): AnyCheck[] {
  void level;
  void version;
  return [];
}
