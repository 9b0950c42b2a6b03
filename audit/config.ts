// The `audit:` section of the configuration: data lists with defaults (Falco-style: the lists are
// what users tune), the de-duplication window, and alert types to switch off. Validated by the one
// schema (config/schema.ts), filled with the defaults here and compiled once into the sets and
// regexes the per-event path uses.
import { parseSection, type BulwarkConfig } from '../config/load.js';
import type { SectionInput } from '../config/schema.js';
import { globToRegExp } from '../core/glob.js';
import { stringMemo } from '../core/memo.js';
import { isRecord } from '../core/record.js';
import {
  AUDIT_LIST_NAMES,
  DEFAULT_ANONYMOUS_ALLOWED_PATHS,
  DEFAULT_ATTACK_TOOL_USER_AGENTS,
  DEFAULT_CONTROL_PLANE_IDENTITIES,
  DEFAULT_CREDENTIAL_KEY_NAMES,
  DEFAULT_WEBHOOK_ADMINS,
} from '../policies/lists.js';

export interface AuditSettings {
  /** Same type, resource, namespace and user within this much event time is one alert (ms). */
  dedupWindowMs: number;
  /** Substrings (case-insensitive) of user agents of known attack tools. */
  attackToolUserAgents: string[];
  /** Identities (globs) whose writes the object checks skip: the control plane's own. */
  controlPlaneIdentities: string[];
  /** Users (globs) allowed to change admission webhook configurations without an alert. */
  webhookAdmins: string[];
  /** Paths `system:anonymous` may reach without an alert (each with its sub-paths). */
  anonymousAllowedPaths: string[];
  /** ConfigMap data key names (suffixes, case-insensitive, `-`/`.`/camelCase read as `_`) that hold credentials. */
  credentialKeyNames: string[];
  /** Alert types (audit rules or policy IDs) not raised from the audit log. */
  disabled: string[];
  /** Longest audit line read; longer lines are reported and skipped (bytes). */
  maxLineBytes: number;
}

export {
  DEFAULT_ANONYMOUS_ALLOWED_PATHS,
  DEFAULT_ATTACK_TOOL_USER_AGENTS,
  DEFAULT_CONTROL_PLANE_IDENTITIES,
  DEFAULT_CREDENTIAL_KEY_NAMES,
  DEFAULT_WEBHOOK_ADMINS,
};

export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60 * 1000;
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export function defaultAuditSettings(): AuditSettings {
  return {
    dedupWindowMs: DEFAULT_DEDUP_WINDOW_MS,
    attackToolUserAgents: [...DEFAULT_ATTACK_TOOL_USER_AGENTS],
    controlPlaneIdentities: [...DEFAULT_CONTROL_PLANE_IDENTITIES],
    webhookAdmins: [...DEFAULT_WEBHOOK_ADMINS],
    anonymousAllowedPaths: [...DEFAULT_ANONYMOUS_ALLOWED_PATHS],
    credentialKeyNames: [...DEFAULT_CREDENTIAL_KEY_NAMES],
    disabled: [],
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  };
}

/**
 * The `audit:` section (any subset of the keys; each list replaces its default), validated by the
 * one schema (config/schema.ts). Throws a ConfigError naming every bad key.
 */
export function parseAuditSettings(audit: SectionInput<'audit'> | Record<string, unknown> | undefined, source?: string): AuditSettings {
  const settings = defaultAuditSettings();
  if (!audit) return settings;
  const parsed = parseSection('audit', audit, source);
  if (parsed.dedupWindow !== undefined) settings.dedupWindowMs = parsed.dedupWindow;
  if (parsed.maxLineBytes !== undefined) settings.maxLineBytes = parsed.maxLineBytes;
  for (const key of ['attackToolUserAgents', 'controlPlaneIdentities', 'webhookAdmins', 'anonymousAllowedPaths', 'credentialKeyNames', 'disabled'] as const) {
    const list = parsed[key];
    if (list !== undefined) settings[key] = [...list];
  }
  return settings;
}

/** The per-event lookups, built once. */
export interface CompiledAuditSettings {
  settings: AuditSettings;
  attackTools: string[];
  isControlPlane(username: string): boolean;
  isWebhookAdmin(username: string): boolean;
  anonymousAllowed(path: string): boolean;
  credentialKeyNames: string[];
  disabled: Set<string>;
}

function identityMatcher(globs: string[]): (username: string) => boolean {
  const exact = new Set(globs.filter((g) => !g.includes('*') && !g.includes('?')));
  const patterns = globs.filter((g) => g.includes('*') || g.includes('?'));
  const re = patterns.length ? new RegExp(patterns.map((g) => globToRegExp(g).source).join('|')) : undefined;
  const match = (username: string) => username !== '' && (exact.has(username) || (re !== undefined && re.test(username)));
  // An audit log repeats a few hundred user names (nodes, controllers), each event a fresh copy:
  // the set lookup and the glob test run once for each name while it stays in the memo.
  return stringMemo(match, 1024, 256);
}

export function compileAuditSettings(settings: AuditSettings): CompiledAuditSettings {
  const allowed = settings.anonymousAllowedPaths.map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p));
  return {
    settings,
    attackTools: settings.attackToolUserAgents.map((s) => s.toLowerCase()).filter((s) => s !== ''),
    isControlPlane: identityMatcher(settings.controlPlaneIdentities),
    isWebhookAdmin: identityMatcher(settings.webhookAdmins),
    anonymousAllowed: (path) => allowed.some((p) => path === p || path.startsWith(p + '/')),
    credentialKeyNames: settings.credentialKeyNames.map(normaliseKeyName).filter((s) => s !== ''),
    disabled: new Set(settings.disabled),
  };
}

/** `DB-Password` → `db_password`, `secretAccessKey` → `secret_access_key`: `-`, `.` and camelCase humps read as `_`. */
export function normaliseKeyName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[-.]/g, '_');
}

/** Both the policy config and the audit settings, from one loaded BulwarkConfig. */
export function auditSettingsOf(config: BulwarkConfig, source?: string): AuditSettings {
  const settings = parseAuditSettings(isRecord(config.audit) ? config.audit : undefined, source);
  // `lists.<name>` (already resolved against `audit.<name>` when the file was loaded) wins.
  for (const name of AUDIT_LIST_NAMES) {
    const list = config.lists?.[name];
    if (list !== undefined) settings[name] = [...list];
  }
  return settings;
}
