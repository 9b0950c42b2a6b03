// The `store:` and `api:` sections of the configuration, validated with errors that name the
// key path and say what is allowed (parseConfig in policies/ leaves these sections to us).
import { ConfigError, type BulwarkConfig } from '../policies/config.js';
import { isRecord } from '../policies/subject.js';
import { DEFAULT_AUDIENCES, DEFAULT_CACHE_TTL_MS, MAX_CACHE_TTL_MS } from './auth.js';
import { parseDuration } from './duration.js';
import { DEFAULT_DEDUP_WINDOW_MS, storeKind } from './store.js';

export interface StoreSettings {
  url: string;
  dedupWindowMs: number;
  retention: { maxAgeMs: number | undefined; maxCount: number | undefined; intervalMs: number };
}

export type AuthMode = 'tokens' | 'kubernetes';

export interface ApiSettings {
  enabled: boolean;
  port: number;
  /** Listen address; undefined: all interfaces. */
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

const STORE_KEYS = ['url', 'dedupWindow', 'retention'];
const RETENTION_KEYS = ['maxAge', 'maxCount', 'interval'];
const API_KEYS = ['enabled', 'port', 'address', 'tlsCert', 'tlsKey', 'tokenFile', 'roles', 'auth', 'kubeconfig', 'cacheTTL', 'audiences'];

type Fail = (path: string, message: string) => void;

function durationAt(value: unknown, path: string, fail: Fail, allowOff = false): number | undefined {
  if (allowOff && (value === null || value === 'off')) return undefined;
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined || ms <= 0) {
    fail(path, `must be a duration like 90s, 10m, 1h or 30d${allowOff ? ', or off' : ''}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return ms;
}

function unknownKeys(raw: Record<string, unknown>, known: string[], path: string, fail: Fail): void {
  for (const key of Object.keys(raw)) if (!known.includes(key)) fail(`${path}.${key}`, `unknown key (known keys: ${known.join(', ')})`);
}

function finish(errors: string[]): void {
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
}

export function parseStoreSettings(raw: Record<string, unknown>): StoreSettings {
  const errors: string[] = [];
  const fail: Fail = (path, message) => errors.push(`${path}: ${message}`);
  const settings: StoreSettings = { url: DEFAULT_STORE_URL, dedupWindowMs: DEFAULT_DEDUP_WINDOW_MS, retention: { ...DEFAULT_RETENTION } };
  unknownKeys(raw, STORE_KEYS, 'store', fail);
  if (raw.url !== undefined) {
    if (typeof raw.url !== 'string') fail('store.url', 'must be a string: sqlite:PATH or postgres://user:pass@host/db');
    else {
      try {
        storeKind(raw.url);
        settings.url = raw.url;
      } catch (err) {
        fail('store.url', (err as Error).message.replace(/^store\.url /, ''));
      }
    }
  }
  if (raw.dedupWindow !== undefined) {
    const ms = durationAt(raw.dedupWindow, 'store.dedupWindow', fail);
    if (ms !== undefined) settings.dedupWindowMs = ms;
  }
  if (raw.retention !== undefined && raw.retention !== null) {
    const r = raw.retention;
    if (!isRecord(r)) fail('store.retention', 'must be a mapping with maxAge, maxCount, interval');
    else {
      unknownKeys(r, RETENTION_KEYS, 'store.retention', fail);
      if (r.maxAge !== undefined) settings.retention.maxAgeMs = durationAt(r.maxAge, 'store.retention.maxAge', fail, true);
      if (r.maxCount !== undefined) {
        if (r.maxCount === null || r.maxCount === 'off') settings.retention.maxCount = undefined;
        else if (typeof r.maxCount !== 'number' || !Number.isInteger(r.maxCount) || r.maxCount < 1) {
          fail('store.retention.maxCount', `must be a positive whole number, or off, got ${JSON.stringify(r.maxCount)}`);
        } else settings.retention.maxCount = r.maxCount;
      }
      if (r.interval !== undefined) {
        const ms = durationAt(r.interval, 'store.retention.interval', fail);
        if (ms !== undefined) settings.retention.intervalMs = ms;
      }
    }
  }
  finish(errors);
  return settings;
}

function stringList(value: unknown, path: string, fail: Fail): string[] | undefined {
  if (value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    fail(path, 'must be a list of group names');
    return undefined;
  }
  return value as string[];
}

function optionalString(value: unknown, path: string, fail: Fail): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    fail(path, 'must be a non-empty string');
    return undefined;
  }
  return value;
}

/**
 * The `api:` section. The API listens when the section says anything (or `enabled: true`),
 * and not when it is absent or says `enabled: false`: a bare `bulwark serve` opens one port.
 */
export function parseApiSettings(raw: Record<string, unknown>): ApiSettings {
  const errors: string[] = [];
  const fail: Fail = (path, message) => errors.push(`${path}: ${message}`);
  unknownKeys(raw, API_KEYS, 'api', fail);
  const settings: ApiSettings = {
    enabled: Object.keys(raw).length > 0,
    port: DEFAULT_API_PORT,
    address: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    auth: 'tokens',
    tokenFile: undefined,
    roles: { admin: [], reader: [] },
    kubeconfig: undefined,
    cacheTtlMs: DEFAULT_CACHE_TTL_MS,
    audiences: [...DEFAULT_AUDIENCES],
  };
  if (raw.enabled !== undefined) {
    if (typeof raw.enabled !== 'boolean') fail('api.enabled', `must be true or false, got ${JSON.stringify(raw.enabled)}`);
    else settings.enabled = raw.enabled;
  }
  if (raw.port !== undefined) {
    if (typeof raw.port !== 'number' || !Number.isInteger(raw.port) || raw.port < 0 || raw.port > 65535) {
      fail('api.port', `must be a port number 0-65535, got ${JSON.stringify(raw.port)}`);
    } else settings.port = raw.port;
  }
  settings.address = optionalString(raw.address, 'api.address', fail);
  settings.tlsCert = optionalString(raw.tlsCert, 'api.tlsCert', fail);
  settings.tlsKey = optionalString(raw.tlsKey, 'api.tlsKey', fail);
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined)) fail('api.tlsCert', 'api.tlsCert and api.tlsKey go together: set both or neither');
  settings.tokenFile = optionalString(raw.tokenFile, 'api.tokenFile', fail);
  settings.kubeconfig = optionalString(raw.kubeconfig, 'api.kubeconfig', fail);
  if (raw.auth !== undefined) {
    if (raw.auth !== 'tokens' && raw.auth !== 'kubernetes') fail('api.auth', `must be tokens or kubernetes, got ${JSON.stringify(raw.auth)}`);
    else settings.auth = raw.auth;
  }
  if (raw.roles !== undefined && raw.roles !== null) {
    if (!isRecord(raw.roles)) fail('api.roles', 'must be a mapping with admin and reader: lists of groups');
    else {
      unknownKeys(raw.roles, ['admin', 'reader'], 'api.roles', fail);
      for (const role of ['admin', 'reader'] as const) {
        if (raw.roles[role] === undefined) continue;
        const list = stringList(raw.roles[role], `api.roles.${role}`, fail);
        if (list) settings.roles[role] = list;
      }
    }
  }
  if (raw.cacheTTL !== undefined) {
    const ms = durationAt(raw.cacheTTL, 'api.cacheTTL', fail);
    // The TTL is how long a revoked token or a removed RoleBinding keeps working: bounded.
    if (ms !== undefined && ms > MAX_CACHE_TTL_MS) fail('api.cacheTTL', `must be at most ${MAX_CACHE_TTL_MS / 1000}s (it is how long a revoked token or a removed RoleBinding keeps access), got ${JSON.stringify(raw.cacheTTL)}`);
    else if (ms !== undefined) settings.cacheTtlMs = ms;
  }
  if (raw.audiences !== undefined) {
    const a = raw.audiences;
    if (!Array.isArray(a) || a.length === 0 || a.some((v) => typeof v !== 'string' || v.trim() === '')) {
      fail('api.audiences', `must be a non-empty list of audience names (default [${DEFAULT_AUDIENCES.join(', ')}]), got ${JSON.stringify(a)}`);
    } else settings.audiences = a as string[];
  }
  if (settings.enabled && settings.auth === 'tokens' && settings.tokenFile === undefined && errors.length === 0) {
    fail('api.tokenFile', 'required when api.auth is tokens (the default): a token file in the kube-apiserver format token,user,uid,"group1,group2"; or set api.auth: kubernetes in a cluster');
  }
  finish(errors);
  return settings;
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
