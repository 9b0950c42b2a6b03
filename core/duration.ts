// Durations as people write them in config, query strings and flags: `90s`, `10m`, `1h`, `30d`,
// `1h30m`, `500ms`. Milliseconds inside. The one duration parser of every module.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:\.\d+)?\s?(?:ms|s|m|h|d|w)\s?)+$/;
const PART = /(\d+(?:\.\d+)?)\s?(ms|s|m|h|d|w)/g;

/** Parses `10m`, `1h30m`, `30d`…; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!DURATION.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(PART)) ms += Number(n) * UNIT_MS[unit!]!;
  return Math.round(ms);
}

/**
 * A duration as a config file may give it: a string with units (`10m`, `1d`, `1h30m`), or a
 * number of seconds (`600`, or the string `"600"`). Milliseconds, or undefined when invalid
 * or negative.
 */
export function parseDurationSetting(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  return parseDuration(value);
}

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${Math.floor(abs / 1000)}s`;
  if (abs < 3_600_000) return `${Math.floor(abs / 60_000)}m`;
  if (abs < 86_400_000) return `${Math.floor(abs / 3_600_000)}h`;
  return `${Math.floor(abs / 86_400_000)}d`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp (`2024-05-01T10:00:00Z`) or a duration back from `now` (`1h`); undefined if neither. */
export function parseSince(text: string, now = Date.now()): Date | undefined {
  if (RFC3339.test(text)) {
    const t = Date.parse(text.replace(' ', 'T'));
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  const d = parseDuration(text);
  return d === undefined ? undefined : new Date(now - d);
}
