// Alert and finding severities, lowest first; shared by every module that ranks or filters them.

export type Severity = 'informational' | 'low' | 'medium' | 'high';

export const SEVERITY_RANK: Record<Severity, number> = {
  informational: 0,
  low: 1,
  medium: 2,
  high: 3,
};

/** Every severity, lowest first. */
export const SEVERITIES: readonly Severity[] = ['informational', 'low', 'medium', 'high'];

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SEVERITY_RANK, value);
}
