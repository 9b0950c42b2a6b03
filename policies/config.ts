// The configuration schema (YAML), its validation with errors that say what and where,
// and its compilation into the lookups the hot path uses (sets, regexes, per-policy actions).
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { DEFAULT_LISTS } from './lists.js';
import { allPolicyMetas, checksForProfiles, parseProfile } from './registry.js';
import type { AnyCheck, PolicyLists, SubjectType } from './types.js';
import { isRecord } from './subject.js';
import { defaultTamperingSettings, parseTamperingSettings, type TamperingSettings } from './tampering.js';

export type Action = 'enforce' | 'warn' | 'audit';
export type PolicyAction = Action | 'off';
export const ACTIONS: readonly Action[] = ['enforce', 'warn', 'audit'];

export interface Exemptions {
  namespaces: string[];
  usernames: string[];
  groups: string[];
  /** Glob patterns: `*` any run of characters (slashes included), `?` one character. */
  images: string[];
}

export interface BulwarkConfig {
  profiles: string[];
  defaultAction: Action;
  actions: Record<string, PolicyAction>;
  exemptions: Exemptions;
  mutations: string[];
  /** Falco-style data lists; each replaces the default list of the same name. */
  lists: PolicyLists;
  /** What the webhook answers when a check throws: allow (default) or deny. */
  onError: 'allow' | 'deny';
  /** Sections owned by other rooms (validated there): server, store, api, audit, mutationDefaults. */
  server: Record<string, unknown>;
  store: Record<string, unknown>;
  api: Record<string, unknown>;
  audit: Record<string, unknown>;
  mutationDefaults: Record<string, unknown>;
  /** Bulwark's own objects and who may change them or weaken a namespace's mode (policies/tampering.ts). */
  tampering: TamperingSettings;
}

export const DEFAULT_MUTATIONS = ['seccomp-runtime-default', 'no-privilege-escalation', 'drop-all-capabilities'];

export function defaultConfig(): BulwarkConfig {
  return {
    profiles: ['defender'],
    defaultAction: 'enforce',
    actions: {},
    exemptions: { namespaces: [], usernames: [], groups: [], images: [] },
    mutations: [...DEFAULT_MUTATIONS],
    lists: cloneLists(DEFAULT_LISTS),
    onError: 'allow',
    server: {},
    store: {},
    api: {},
    audit: {},
    mutationDefaults: {},
    tampering: defaultTamperingSettings(),
  };
}

function cloneLists(lists: Readonly<PolicyLists>): PolicyLists {
  return {
    sensitiveHostPaths: [...lists.sensitiveHostPaths],
    minerNames: [...lists.minerNames],
    minerPoolSchemes: [...lists.minerPoolSchemes],
    dashboardNames: [...lists.dashboardNames],
    dashboardPodLabels: [...(lists.dashboardPodLabels ?? [])],
    allowedCapabilities: [...lists.allowedCapabilities],
  };
}

/** A configuration error: `source:line: key.path: what is wrong`. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const TOP_LEVEL_KEYS = [
  'profiles', 'defaultAction', 'actions', 'exemptions', 'mutations', 'lists', 'onError',
  'server', 'store', 'api', 'audit', 'mutationDefaults', 'tampering',
] as const;

/** IDs of the mutations /mutate knows; kept here so that config validation needs no other room. */
export const KNOWN_MUTATIONS = [
  'seccomp-runtime-default', 'no-privilege-escalation', 'drop-all-capabilities',
  'run-as-non-root', 'read-only-root-filesystem', 'default-resources',
];

/**
 * Parses and validates a YAML (or JSON) configuration. Every error names the source, the line
 * and the key path; all errors are reported together.
 */
export function parseConfig(text: string, source = 'config'): BulwarkConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${source}:${pos.line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  const errors: string[] = [];
  const where = (path: (string | number)[]): string => {
    const node = path.length ? doc.getIn(path, true) : doc.contents;
    const offset = isNode(node) && node.range ? node.range[0] : undefined;
    const line = offset === undefined ? lineOfParent(doc, path, lineCounter) : lineCounter.linePos(offset).line;
    return line ? `${source}:${line}` : source;
  };
  const fail = (path: (string | number)[], msg: string): void => {
    errors.push(`${where(path)}: ${path.length ? path.join('.') + ': ' : ''}${msg}`);
  };
  const config = defaultConfig();
  if (raw === null || raw === undefined) return config;
  if (!isRecord(raw)) throw new ConfigError(`${source}: the configuration must be a mapping of keys (profiles, defaultAction, …)`);

  for (const key of Object.keys(raw)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      fail([key], `unknown key (known keys: ${TOP_LEVEL_KEYS.join(', ')})`);
    }
  }

  const stringList = (path: string[], value: unknown): string[] | undefined => {
    if (value === null) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      fail(path, 'must be a list of strings');
      return undefined;
    }
    return value as string[];
  };

  if (raw.profiles !== undefined) {
    const profiles = stringList(['profiles'], raw.profiles);
    if (profiles) {
      if (profiles.length === 0) fail(['profiles'], 'must name at least one profile');
      profiles.forEach((p, i) => {
        try {
          parseProfile(p);
        } catch (err) {
          fail(['profiles', i], (err as Error).message);
        }
      });
      config.profiles = profiles;
    }
  }
  if (raw.defaultAction !== undefined) {
    if (!(ACTIONS as readonly unknown[]).includes(raw.defaultAction)) {
      fail(['defaultAction'], `must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(raw.defaultAction)}`);
    } else config.defaultAction = raw.defaultAction as Action;
  }
  if (raw.onError !== undefined) {
    if (raw.onError !== 'allow' && raw.onError !== 'deny') fail(['onError'], `must be allow or deny, got ${JSON.stringify(raw.onError)}`);
    else config.onError = raw.onError;
  }
  if (raw.actions !== undefined && raw.actions !== null) {
    if (!isRecord(raw.actions)) fail(['actions'], 'must be a mapping of policy ID to enforce, warn, audit or off');
    else {
      const known = allPolicyMetas();
      for (const [id, action] of Object.entries(raw.actions)) {
        if (!known.has(id)) {
          fail(['actions', id], `unknown policy ID ${JSON.stringify(id)}${suggest(id, [...known.keys()])}`);
        } else if (action !== 'off' && !(ACTIONS as readonly unknown[]).includes(action)) {
          fail(['actions', id], `must be one of enforce, warn, audit, off, got ${JSON.stringify(action)}`);
        } else config.actions[id] = action as PolicyAction;
      }
    }
  }
  if (raw.exemptions !== undefined && raw.exemptions !== null) {
    if (!isRecord(raw.exemptions)) fail(['exemptions'], 'must be a mapping with namespaces, usernames, groups, images');
    else {
      for (const [key, value] of Object.entries(raw.exemptions)) {
        if (key !== 'namespaces' && key !== 'usernames' && key !== 'groups' && key !== 'images') {
          fail(['exemptions', key], 'unknown key (known keys: namespaces, usernames, groups, images)');
          continue;
        }
        const list = stringList(['exemptions', key], value);
        if (list) config.exemptions[key] = list;
      }
    }
  }
  if (raw.mutations !== undefined) {
    const list = stringList(['mutations'], raw.mutations);
    if (list) {
      list.forEach((m, i) => {
        if (!KNOWN_MUTATIONS.includes(m)) fail(['mutations', i], `unknown mutation ${JSON.stringify(m)} (known: ${KNOWN_MUTATIONS.join(', ')})`);
      });
      config.mutations = list;
    }
  }
  if (raw.lists !== undefined && raw.lists !== null) {
    if (!isRecord(raw.lists)) fail(['lists'], 'must be a mapping of list name to a list of strings');
    else {
      const names = Object.keys(DEFAULT_LISTS) as (keyof PolicyLists)[];
      for (const [key, value] of Object.entries(raw.lists)) {
        if (!(names as string[]).includes(key)) {
          fail(['lists', key], `unknown list (known lists: ${names.join(', ')})`);
          continue;
        }
        const list = stringList(['lists', key], value);
        if (list) config.lists[key as keyof PolicyLists] = list;
      }
    }
  }
  for (const key of ['server', 'store', 'api', 'audit', 'mutationDefaults'] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (!isRecord(value)) fail([key], 'must be a mapping');
    else config[key] = value;
  }
  {
    // tampering: validated here, see policies/tampering.ts.
    const parsed = parseTamperingSettings(raw.tampering);
    for (const e of parsed.errors) errors.push(`${where(['tampering'])}: ${e}`);
    config.tampering = parsed.settings;
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return config;
}

function lineOfParent(doc: Document, path: (string | number)[], lc: LineCounter): number | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

function suggest(value: string, known: string[]): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const k of known) {
    const d = editDistance(value, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Compiles a glob (`*`, `?`) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/** What the request path needs, computed once at start-up. */
export interface CompiledConfig {
  config: BulwarkConfig;
  checks: AnyCheck[];
  /** Action per policy ID for the active checks (`off` ones are not in `checks`). */
  actionOf: Map<string, Action>;
  exemptNamespaces: Set<string>;
  exemptUsernames: Set<string>;
  exemptGroups: Set<string>;
  /** One RegExp of all image globs, or undefined when there are none. */
  exemptImages: RegExp | undefined;
}

export function compileConfig(config: BulwarkConfig): CompiledConfig {
  const checks: AnyCheck[] = [];
  const actionOf = new Map<string, Action>();
  for (const check of checksForProfiles(config.profiles)) {
    const action = config.actions[check.id] ?? config.defaultAction;
    if (action === 'off') continue;
    checks.push(check);
    actionOf.set(check.id, action);
  }
  const images = config.exemptions.images;
  checksByType(checks); // built now, so the first request only looks up
  return {
    config,
    checks,
    actionOf,
    exemptNamespaces: new Set(config.exemptions.namespaces),
    exemptUsernames: new Set(config.exemptions.usernames),
    exemptGroups: new Set(config.exemptions.groups),
    exemptImages: images.length ? new RegExp(images.map((g) => globToRegExp(g).source).join('|')) : undefined,
  };
}

interface ChecksByType {
  /** `checks.length` when built: a caller may append to `checks` after compiling (tests do). */
  length: number;
  byType: Map<string, readonly AnyCheck[]>;
}

const checksByTypeCache = new WeakMap<readonly AnyCheck[], ChecksByType>();

function checksByType(checks: readonly AnyCheck[]): Map<string, readonly AnyCheck[]> {
  let entry = checksByTypeCache.get(checks);
  if (entry === undefined || entry.length !== checks.length) {
    const byType = new Map<string, readonly AnyCheck[]>();
    for (const check of checks) {
      for (const type of check.appliesTo) {
        if (!byType.has(type)) byType.set(type, checks.filter((c) => c.appliesTo.includes(type)));
      }
    }
    entry = { length: checks.length, byType };
    checksByTypeCache.set(checks, entry);
  }
  return entry.byType;
}

const NO_CHECKS: readonly AnyCheck[] = Object.freeze([]);

/** The active checks that apply to a subject type, in registry order (computed once per checks list). */
export function checksFor(compiled: CompiledConfig, type: SubjectType): readonly AnyCheck[] {
  return checksByType(compiled.checks).get(type) ?? NO_CHECKS;
}

/** Why a request is exempt (namespace, username or group), or undefined. */
export function exemptionReason(
  compiled: CompiledConfig,
  namespace: string,
  user?: { username: string; groups: readonly string[] },
): string | undefined {
  if (namespace && compiled.exemptNamespaces.has(namespace)) return `namespace ${JSON.stringify(namespace)} is exempt`;
  if (user) {
    if (compiled.exemptUsernames.has(user.username)) return `user ${JSON.stringify(user.username)} is exempt`;
    for (const g of user.groups) if (compiled.exemptGroups.has(g)) return `group ${JSON.stringify(g)} is exempt`;
  }
  return undefined;
}

export function isImageExempt(compiled: CompiledConfig, image: string | undefined): boolean {
  return image !== undefined && image !== '' && compiled.exemptImages !== undefined && compiled.exemptImages.test(image);
}
