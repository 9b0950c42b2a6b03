// How both alert stores order, page and search a list, so that SQLite and PostgreSQL answer the
// console and the API alike: the sort keys, the keyset cursor (opaque to callers), the search
// text kept beside each alert, and the LIKE pattern a search becomes.
import { SEVERITY_RANK } from '../core/severity.js';
import type { Alert } from './model.js';

export type SortKey = 'lastSeen' | 'firstSeen' | 'severity' | 'count';
export const SORT_KEYS: readonly SortKey[] = ['lastSeen', 'firstSeen', 'severity', 'count'];
export type SortOrder = 'asc' | 'desc';

/**
 * A list's order: `key` in `order`, then lastSeen in the same order, then id the other way, so a
 * descending list is one index scan and an ascending one the same scan backwards.
 */
export interface AlertSort {
  key: SortKey;
  order: SortOrder;
}

export const DEFAULT_SORT: AlertSort = { key: 'lastSeen', order: 'desc' };

/** The longest free-text search accepted (characters). */
export const MAX_SEARCH_LENGTH = 200;
/** The search text kept per alert is cut at this many characters. */
export const MAX_SEARCH_TEXT = 4096;

export class InvalidCursorError extends Error {
  constructor(detail = 'pass back the one a list response returned') {
    super(`the continue token is not valid: ${detail}`);
    this.name = 'InvalidCursorError';
  }
}

/** Where a page ends: the sort it belongs to, the last item's sort value, lastSeen (ms) and id. */
export interface Cursor {
  /** lastSeen of the last item returned, ms since the epoch. */
  t: number;
  id: string;
  /** The sort the token was made for (absent: the default). */
  sort?: AlertSort;
  /** The last item's value of a sort key other than lastSeen. */
  k?: number;
}

/** The value an alert has for a sort key (times in ms, severity as its rank). */
export function sortValue(alert: Pick<Alert, 'lastSeen' | 'firstSeen' | 'severity' | 'count'>, key: SortKey): number {
  switch (key) {
    case 'lastSeen':
      return Date.parse(alert.lastSeen);
    case 'firstSeen':
      return Date.parse(alert.firstSeen);
    case 'severity':
      return SEVERITY_RANK[alert.severity] ?? 0;
    case 'count':
      return alert.count;
  }
}

/** The cursor that resumes a list in `sort` right after `alert`. */
export function cursorAfter(alert: Alert, sort: AlertSort = DEFAULT_SORT): string {
  const t = Date.parse(alert.lastSeen);
  if (sort.key === DEFAULT_SORT.key && sort.order === DEFAULT_SORT.order) return encodeCursor({ t, id: alert.id });
  return encodeCursor({ t, id: alert.id, sort, k: sortValue(alert, sort.key) });
}

export function encodeCursor(c: Cursor): string {
  const body = c.sort ? { v: 2, t: c.t, id: c.id, s: c.sort.key, o: c.sort.order, k: c.k } : { v: 1, t: c.t, id: c.id };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The cursor of `token`; throws InvalidCursorError when it is not one, or was made for another sort than `sort`. */
export function decodeCursor(token: string, sort: AlertSort = DEFAULT_SORT): Cursor {
  let cursor: Cursor | undefined;
  try {
    const raw: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (raw && typeof raw === 'object') {
      const { v, t, id, s, o, k } = raw as Record<string, unknown>;
      const valid = typeof t === 'number' && Number.isFinite(t) && typeof id === 'string' && id !== '' && id.length <= 256;
      if (v === 1 && valid) cursor = { t, id };
      else if (
        v === 2 &&
        valid &&
        (SORT_KEYS as readonly unknown[]).includes(s) &&
        (o === 'asc' || o === 'desc') &&
        typeof k === 'number' &&
        Number.isFinite(k)
      )
        cursor = { t, id, sort: { key: s as SortKey, order: o }, k };
    }
  } catch {
    // fall through
  }
  if (!cursor) throw new InvalidCursorError();
  const made = cursor.sort ?? DEFAULT_SORT;
  if (made.key !== sort.key || made.order !== sort.order)
    throw new InvalidCursorError(`it was made for sort=${made.key}&order=${made.order}, not sort=${sort.key}&order=${sort.order}`);
  return cursor;
}

/**
 * The keyset condition "after this cursor" over (key, lastSeen, id) for a backend: `column` names a
 * sort key's column, `param` adds a value and returns its placeholder (times stay ms; the backend
 * converts them).
 */
export function keysetAfter(
  sort: AlertSort,
  cursor: Cursor,
  column: (key: SortKey) => string,
  param: (key: SortKey | 'id', value: number | string) => string,
): string {
  const before = sort.order === 'desc' ? '<' : '>';
  const idAfter = sort.order === 'desc' ? '>' : '<';
  const last = column('lastSeen');
  // Placeholders are made in the order they appear: positional ones (?) depend on it.
  const onLastSeen = () =>
    `(${last} ${before} ${param('lastSeen', cursor.t)} OR (${last} = ${param('lastSeen', cursor.t)} AND id ${idAfter} ${param('id', cursor.id)}))`;
  if (sort.key === 'lastSeen') return onLastSeen();
  const col = column(sort.key);
  const k = cursor.k ?? 0;
  const head = `(${col} ${before} ${param(sort.key, k)} OR (${col} = ${param(sort.key, k)} AND `;
  return `${head}${onLastSeen()}))`;
}

/** ORDER BY for a sort. */
export function orderBy(sort: AlertSort, column: (key: SortKey) => string): string {
  const dir = sort.order === 'desc' ? 'DESC' : 'ASC';
  const idDir = sort.order === 'desc' ? 'ASC' : 'DESC';
  const keys = sort.key === 'lastSeen' ? [column('lastSeen')] : [column(sort.key), column('lastSeen')];
  return [...keys.map((k) => `${k} ${dir}`), `id ${idDir}`].join(', ');
}

/**
 * What a free-text search looks in, lower-cased: type, title, message, namespace, the resource's
 * kind and name, the user (and impersonator), the user agent and the source IPs.
 */
export function searchTextOf(a: Alert): string {
  const parts = [
    a.type,
    a.title,
    a.message,
    a.namespace,
    a.resource?.kind,
    a.resource?.name,
    a.user?.username,
    a.user?.impersonator?.username,
    a.userAgent,
    ...(Array.isArray(a.sourceIPs) ? a.sourceIPs : []),
  ];
  return parts
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .join('\n')
    .toLowerCase()
    .slice(0, MAX_SEARCH_TEXT);
}

/** The LIKE pattern (ESCAPE '\') matching search text that contains `text`, case-insensitively. */
export function likePattern(text: string): string {
  return '%' + text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}
