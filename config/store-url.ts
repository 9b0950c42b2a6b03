// `store.url`: which alert store a URL names. Read by config validation and by the alerts module
// when it opens the store.

export type StoreKind = 'sqlite' | 'postgres';

/** The kind of store `url` names; throws a message (without the password) when it names none. */
export function storeKind(url: string): StoreKind {
  if (url.startsWith('sqlite:')) {
    if (sqlitePath(url) === '') throw new Error(`store.url ${JSON.stringify(url)}: sqlite: needs a file path, e.g. sqlite:./data/bulwark.db`);
    return 'sqlite';
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  throw new Error(
    `store.url ${JSON.stringify(redactUrl(url))}: must start with sqlite: (e.g. sqlite:./data/bulwark.db) or postgres:// (e.g. postgres://user:pass@host/db)`,
  );
}

export function sqlitePath(url: string): string {
  let p = url.slice('sqlite:'.length);
  if (p.startsWith('//')) p = p.slice(2);
  return p;
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
