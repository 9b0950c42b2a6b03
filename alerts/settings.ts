// The `store:` and `api:` sections of the configuration as the alerts module uses them: validated
// by the one schema (config/schema.ts), with this module's defaults filled in.
import { DEFAULT_FLOOD_LIMIT_PER_MINUTE } from './flood.js';
import { parseSection, type BulwarkConfig } from '../config/load.js';
import type { SectionInput } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_AUDIENCES, DEFAULT_CACHE_TTL_MS } from './auth.js';
import { DEFAULT_DEDUP_WINDOW_MS } from './store.js';

export const DEFAULT_MAX_CONNECTIONS = 10;

export interface StoreSettings {
  url: string;
  dedupWindowMs: number;
  retention: { maxAgeMs: number | undefined; maxCount: number | undefined; intervalMs: number };
  /** Alerts of one (source, type) stored per minute; null: no limit. */
  floodLimitPerMinute: number | null;
  /** PostgreSQL: the pool's size. */
  maxConnections: number;
}

export type AuthMode = 'tokens' | 'kubernetes';

export interface ApiSettings {
  enabled: boolean;
  port: number;
  /** Listen address (default 127.0.0.1, loopback only; the chart sets 0.0.0.0). */
  address: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  auth: AuthMode;
  tokenFile: string | undefined;
  roles: { admin: string[]; reader: string[] };
  /** Kubernetes mode: a kubeconfig file; default in-cluster config (or $KUBECONFIG, ~/.kube/config). */
  kubeconfig: string | undefined;
  /** Kubernetes mode: how long TokenReview and SubjectAccessReview answers are reused (≤ 60 s). */
  cacheTtlMs: number;
  /** Kubernetes mode: the TokenReview audiences; an answer must name one of them. */
  audiences: string[];
}

/** Where `npm start` keeps its development certificate (ca.crt, tls.crt, tls.key). */
export const DEV_CERT_DIR = 'certs/dev';
export const DEFAULT_STORE_URL = 'sqlite:./data/bulwark.db';
export const DEFAULT_API_PORT = 8444;
export const DEFAULT_RETENTION = { maxAgeMs: 30 * 86_400_000, maxCount: 100_000, intervalMs: 3_600_000 };

export function parseStoreSettings(raw: SectionInput<'store'> | Record<string, unknown>, source?: string): StoreSettings {
  const store = parseSection('store', raw, source);
  const retention = store.retention ?? {};
  const off = <T>(v: T | 'off' | null | undefined, dflt: T | undefined): T | undefined => (v === undefined ? dflt : v === 'off' || v === null ? undefined : v);
  return {
    url: store.url ?? DEFAULT_STORE_URL,
    dedupWindowMs: store.dedupWindow ?? DEFAULT_DEDUP_WINDOW_MS,
    retention: {
      maxAgeMs: off(retention.maxAge, DEFAULT_RETENTION.maxAgeMs),
      maxCount: off(retention.maxCount, DEFAULT_RETENTION.maxCount),
      intervalMs: retention.interval ?? DEFAULT_RETENTION.intervalMs,
    },
    floodLimitPerMinute: off(store.floodLimit, DEFAULT_FLOOD_LIMIT_PER_MINUTE) ?? null,
    maxConnections: store.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  };
}

/**
 * The `api:` section. The API listens when the section says anything (or `enabled: true`),
 * and not when it is absent or says `enabled: false`: a bare `bulwark serve` opens one port.
 */
export function parseApiSettings(raw: SectionInput<'api'> | Record<string, unknown>, source?: string): ApiSettings {
  const api = parseSection('api', raw, source);
  return {
    enabled: api.enabled ?? Object.keys(api).length > 0,
    port: api.port ?? DEFAULT_API_PORT,
    address: api.address ?? '127.0.0.1',
    tlsCert: api.tlsCert ?? undefined,
    tlsKey: api.tlsKey ?? undefined,
    auth: api.auth ?? 'tokens',
    tokenFile: api.tokenFile ?? undefined,
    roles: { admin: api.roles?.admin ?? [], reader: api.roles?.reader ?? [] },
    kubeconfig: api.kubeconfig ?? undefined,
    cacheTtlMs: api.cacheTTL ?? DEFAULT_CACHE_TTL_MS,
    audiences: api.audiences ?? [...DEFAULT_AUDIENCES],
  };
}

/** Both sections, all errors together. */
export function alertsSettings(config: Pick<BulwarkConfig, 'store' | 'api'>): { store: StoreSettings; api: ApiSettings } {
  const errors: string[] = [];
  let store: StoreSettings | undefined;
  let api: ApiSettings | undefined;
  try {
    store = parseStoreSettings(config.store ?? {});
  } catch (err) {
    errors.push((err as Error).message);
  }
  try {
    api = parseApiSettings(config.api ?? {});
  } catch (err) {
    errors.push((err as Error).message);
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return { store: store!, api: api! };
}
