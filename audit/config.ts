// The `audit:` section of the configuration: data lists with defaults (Falco-style: the lists are
// what users tune), the de-duplication window, and alert types to switch off. Validated here,
// compiled once into the sets and regexes the per-event path uses.
import { ConfigError, globToRegExp, type BulwarkConfig } from '../policies/config.js';
import { isRecord } from '../policies/subject.js';

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

/** Attack and offensive-recon tools whose default user agent names them. Defensive scanners (kube-bench, kubeaudit, …) are deliberately absent. */
export const DEFAULT_ATTACK_TOOL_USER_AGENTS = [
  'kube-hunter', 'peirates', 'kubesploit', 'kubeletctl', 'kubeletmein', 'kdigger', 'kubiscan', 'kubestriker',
  'kubehound', 'botb', 'kubepwn', 'kubectl-sudo', 'red-kube', 'kube-pentest', 'cdk-team',
];

/**
 * The control plane's own identities. A fresh control plane creates ~100 ClusterRoles and bindings
 * as system:apiserver; controllers create the pods of the workloads humans submitted. The human's
 * create is what alerts, not the controller's echo.
 */
export const DEFAULT_CONTROL_PLANE_IDENTITIES = [
  'system:apiserver',
  'system:kube-controller-manager',
  'system:kube-scheduler',
  'system:serviceaccount:kube-system:replicaset-controller',
  'system:serviceaccount:kube-system:deployment-controller',
  'system:serviceaccount:kube-system:job-controller',
  'system:serviceaccount:kube-system:cronjob-controller',
  'system:serviceaccount:kube-system:daemon-set-controller',
  'system:serviceaccount:kube-system:statefulset-controller',
  'system:serviceaccount:kube-system:replication-controller',
  'system:serviceaccount:kube-system:generic-garbage-collector',
  'system:serviceaccount:kube-system:clusterrole-aggregation-controller',
  'system:serviceaccount:kube-system:endpoint-controller',
  'system:serviceaccount:kube-system:endpointslice-controller',
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
  'system:serviceaccount:kube-system:disruption-controller',
  'system:serviceaccount:kube-system:ttl-after-finished-controller',
  'system:serviceaccount:kube-system:service-account-controller',
  'system:serviceaccount:kube-system:root-ca-cert-publisher',
  // The kubelet creates the mirror pods of static pods (etcd, the API server: host network, host paths).
  'system:node:*',
];

export const DEFAULT_WEBHOOK_ADMINS = ['system:serviceaccount:cert-manager:cert-manager-cainjector'];

export const DEFAULT_ANONYMOUS_ALLOWED_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

export const DEFAULT_CREDENTIAL_KEY_NAMES = [
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'api_key', 'apikey', 'access_key', 'secret_key', 'private_key',
  'client_secret', 'credentials',
];

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

const LIST_KEYS = [
  'attackToolUserAgents', 'controlPlaneIdentities', 'webhookAdmins', 'anonymousAllowedPaths', 'credentialKeyNames', 'disabled',
] as const;
const KNOWN_KEYS = [...LIST_KEYS, 'dedupWindow', 'maxLineBytes'];

/** `10m`, `90s`, `1h`, `500ms` or a number of seconds → milliseconds; undefined when invalid. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

/**
 * Validates `config.audit` (any subset of the keys; each list replaces its default).
 * Throws a ConfigError naming every bad key.
 */
export function parseAuditSettings(audit: Record<string, unknown> | undefined, source = 'config'): AuditSettings {
  const settings = defaultAuditSettings();
  if (!audit) return settings;
  const errors: string[] = [];
  const fail = (key: string, msg: string): void => void errors.push(`${source}: audit.${key}: ${msg}`);
  for (const [key, value] of Object.entries(audit)) {
    if (!KNOWN_KEYS.includes(key)) {
      fail(key, `unknown key (known keys: ${KNOWN_KEYS.join(', ')})`);
      continue;
    }
    if (key === 'dedupWindow') {
      const ms = parseDuration(value);
      if (ms === undefined) fail(key, `must be a duration like 10m, 90s or 1h (or a number of seconds), got ${JSON.stringify(value)}`);
      else settings.dedupWindowMs = ms;
    } else if (key === 'maxLineBytes') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1024) fail(key, `must be an integer of at least 1024, got ${JSON.stringify(value)}`);
      else settings.maxLineBytes = value;
    } else {
      if (value === null) settings[key as (typeof LIST_KEYS)[number]] = [];
      else if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(key, 'must be a list of strings');
      else settings[key as (typeof LIST_KEYS)[number]] = [...(value as string[])];
    }
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
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
  return (username) => username !== '' && (exact.has(username) || (re !== undefined && re.test(username)));
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
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[-.]/g, '_');
}

/** Both the policy config and the audit settings, from one loaded BulwarkConfig. */
export function auditSettingsOf(config: BulwarkConfig, source?: string): AuditSettings {
  return parseAuditSettings(isRecord(config.audit) ? config.audit : undefined, source);
}
