// Opens the alert store a `store.url` names. Kept apart from store.ts (the interface and the
// helpers both backends share) so that the backends can import store.ts without a cycle.
import { sqlitePath, storeKind } from '../config/store-url.js';
import type { AlertStore, OpenStoreOptions } from './store.js';

/**
 * Opens the store a `store.url` names: `sqlite:PATH` (relative to the working directory;
 * `sqlite:///abs/path` also works) or `postgres://…` / `postgresql://…`.
 */
export async function openAlertStore(url: string, options: OpenStoreOptions = {}): Promise<AlertStore> {
  const kind = storeKind(url);
  if (kind === 'sqlite') {
    const { SqliteAlertStore } = await import('./store-sqlite.js');
    return SqliteAlertStore.open(sqlitePath(url));
  }
  const { PostgresAlertStore } = await import('./store-postgres.js');
  return PostgresAlertStore.open(url, options);
}
