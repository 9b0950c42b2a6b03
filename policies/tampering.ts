// The `tampering:` section of the configuration: which objects are Bulwark's own and who may change
// them, and who may weaken a namespace's Bulwark mode. Shared by the admission side (a namespace
// relabel) and the audit side (every change, rules in audit/rules/bulwark-tampering.ts). Pure data
// and matching: config/schema.ts validates the section, this file fills defaults and compiles it.
//
//   tampering:
//     namespace: bulwark-system        # default: where Bulwark runs (POD_NAMESPACE, server.namespace,
//                                      # else bulwark-system)
//     names: ["*bulwark*"]             # globs: Bulwark's ConfigMaps, Secrets, Deployments (in that
//                                      # namespace) and webhook configurations
//     allowedUsers: [...]              # may change those objects (globs; `{namespace}` is Bulwark's
//                                      # namespace; default: cert-manager's controller and cainjector,
//                                      # system:serviceaccount:{namespace}:*)
//     allowedGroups: []
//     modeAdmins:                      # may weaken a namespace's bulwark.io/mode or opt it out
//       users: []                      # (globs)
//       groups: [system:masters]
//
// Exemptions apply to the authenticated user: an impersonated request is never allowed by these lists.
import { isRecord } from '../core/record.js';
import type { CheckMeta } from './types.js';

export const BULWARK_TAMPERING = 'bulwark-tampering';
/** The namespace label that overrides every policy's action for the namespace's objects. */
export const BULWARK_MODE_LABEL = 'bulwark.io/mode';
/** The namespace label that the chart's webhooks skip (`bulwark.io/webhook: ignore`). */
export const BULWARK_WEBHOOK_LABEL = 'bulwark.io/webhook';

export const TAMPERING_META: CheckMeta = {
  id: BULWARK_TAMPERING,
  title: 'Bulwark itself weakened or changed',
  severity: 'high',
  tactics: ['Defense Evasion', 'Impair Defenses'],
  remediation:
    "Check that the change was planned by someone allowed to make it (tampering.allowedUsers, tampering.modeAdmins); if not, restore the namespace label or Bulwark's object from source control and find out how the user got write access to it.",
};

export const DEFAULT_TAMPERING_NAMESPACE = 'bulwark-system';

export interface TamperingSettings {
  /** Bulwark's namespace; `` means where Bulwark runs (the server's namespace). */
  namespace: string;
  names: string[];
  allowedUsers: string[];
  allowedGroups: string[];
  modeAdmins: { users: string[]; groups: string[] };
}

export function defaultTamperingSettings(namespace = ''): TamperingSettings {
  return {
    namespace,
    names: ['*bulwark*'],
    allowedUsers: [
      'system:serviceaccount:cert-manager:cert-manager',
      'system:serviceaccount:cert-manager:cert-manager-cainjector',
      // Bulwark's own service account keeps its webhook configurations' caBundle in sync.
      'system:serviceaccount:{namespace}:*',
    ],
    allowedGroups: [],
    modeAdmins: { users: [], groups: ['system:masters'] },
  };
}

/**
 * The settings, defaults filled in, from the `tampering:` section as config/ validated it (a
 * missing or malformed key reads as its default: config/schema.ts has rejected bad files already).
 */
export function tamperingSettingsOf(section: unknown): TamperingSettings {
  const settings = defaultTamperingSettings();
  if (!isRecord(section)) return settings;
  const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : v === null ? [] : undefined);
  if (typeof section.namespace === 'string') settings.namespace = section.namespace;
  settings.names = list(section.names) ?? settings.names;
  settings.allowedUsers = list(section.allowedUsers) ?? settings.allowedUsers;
  settings.allowedGroups = list(section.allowedGroups) ?? settings.allowedGroups;
  if (section.modeAdmins === null) settings.modeAdmins = { users: [], groups: [] };
  else if (isRecord(section.modeAdmins)) {
    settings.modeAdmins.users = list(section.modeAdmins.users) ?? settings.modeAdmins.users;
    settings.modeAdmins.groups = list(section.modeAdmins.groups) ?? settings.modeAdmins.groups;
  }
  return settings;
}

export interface CompiledTampering {
  settings: TamperingSettings;
  /** Bulwark's namespace (the setting, or where Bulwark runs). */
  namespace: string;
  /** Whether a name is one of Bulwark's objects (`names` globs). */
  isBulwarkName(name: string): boolean;
  /** Whether the authenticated user may change Bulwark's objects. */
  mayChangeBulwark(username: string, groups: readonly string[]): boolean;
  /** Whether the authenticated user may weaken a namespace's mode. */
  isModeAdmin(username: string, groups: readonly string[]): boolean;
}

function globMatcher(globs: readonly string[]): (value: string) => boolean {
  const exact = new Set(globs.filter((g) => !g.includes('*') && !g.includes('?')));
  const patterns = globs.filter((g) => g.includes('*') || g.includes('?'));
  const re = patterns.length
    ? new RegExp(
        `^(?:${patterns.map((g) => [...g].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('')).join('|')})$`,
      )
    : undefined;
  return (value) => value !== '' && (exact.has(value) || (re !== undefined && re.test(value)));
}

/** Compiles the settings; `runningNamespace` is where Bulwark runs, used when `namespace` is unset. */
export function compileTampering(settings: TamperingSettings, runningNamespace?: string): CompiledTampering {
  const namespace = settings.namespace || runningNamespace || DEFAULT_TAMPERING_NAMESPACE;
  const name = globMatcher(settings.names);
  const users = globMatcher(settings.allowedUsers.map((u) => u.split('{namespace}').join(namespace)));
  const groups = new Set(settings.allowedGroups);
  const modeUsers = globMatcher(settings.modeAdmins.users);
  const modeGroups = new Set(settings.modeAdmins.groups);
  return {
    settings,
    namespace,
    isBulwarkName: name,
    mayChangeBulwark: (u, gs) => users(u) || gs.some((g) => groups.has(g)),
    isModeAdmin: (u, gs) => modeUsers(u) || gs.some((g) => modeGroups.has(g)),
  };
}

const MODE_RANK: Record<string, number> = { enforce: 0, warn: 1, audit: 2 };

/** A namespace's mode as Bulwark reads it: the label when it is a valid action, else the default. */
export function effectiveMode(labels: unknown, defaultAction: string): string {
  const v = isRecord(labels) ? labels[BULWARK_MODE_LABEL] : undefined;
  return typeof v === 'string' && Object.hasOwn(MODE_RANK, v) ? v : defaultAction;
}

/** Whether `mode` lets more through than `than` (audit > warn > enforce). */
export function isWeakerMode(mode: string, than: string): boolean {
  return (MODE_RANK[mode] ?? 0) > (MODE_RANK[than] ?? 0);
}

/** Whether the labels opt the namespace out of Bulwark's webhooks (`bulwark.io/webhook: ignore`). */
export function optsOut(labels: unknown): boolean {
  return isRecord(labels) && labels[BULWARK_WEBHOOK_LABEL] === 'ignore';
}

/**
 * What a namespace change does to Bulwark, or undefined when it weakens nothing: a mode weaker than
 * before (`oldLabels` undefined: a create, compared with the default), or an opt-out newly set.
 */
export function namespaceWeakening(newLabels: unknown, oldLabels: unknown, defaultAction: string): { what: string; path: string } | undefined {
  const before = effectiveMode(oldLabels, defaultAction);
  const after = effectiveMode(newLabels, defaultAction);
  const reasons: string[] = [];
  let path = `metadata.labels["${BULWARK_MODE_LABEL}"]`;
  if (isWeakerMode(after, before)) reasons.push(`sets ${BULWARK_MODE_LABEL}=${after}, weaker than ${before}${oldLabels === undefined ? ' (the default)' : ''}`);
  if (optsOut(newLabels) && !optsOut(oldLabels)) {
    if (reasons.length === 0) path = `metadata.labels["${BULWARK_WEBHOOK_LABEL}"]`;
    reasons.push(`sets ${BULWARK_WEBHOOK_LABEL}=ignore, which takes the namespace out of Bulwark's webhooks`);
  }
  return reasons.length ? { what: reasons.join(' and '), path } : undefined;
}
