// Profile compilation: the policy part of the (already validated) configuration turned into the
// lookups the hot path uses (the active checks, per-policy actions, exemption sets and regexes).
// The file itself and its schema are config/'s.
import { globToRegExp } from '../core/glob.js';
import { checksForProfiles } from './registry.js';
import type { AnyCheck, PolicyLists, SubjectType } from './types.js';

export const ACTIONS = ['enforce', 'warn', 'audit'] as const;
export type Action = (typeof ACTIONS)[number];
export type PolicyAction = Action | 'off';

export interface Exemptions {
  namespaces: string[];
  usernames: string[];
  groups: string[];
  /** Glob patterns: `*` any run of characters (slashes included), `?` one character. */
  images: string[];
}

/**
 * What profile compilation reads of the configuration (config/ validates the file and hands
 * this part over; policies/ imports nothing but core/).
 */
export interface PolicyConfig {
  profiles: string[];
  defaultAction: Action;
  actions: Record<string, PolicyAction>;
  exemptions: Exemptions;
  /** Falco-style data lists; each replaces the default list of the same name. */
  lists: PolicyLists;
  /** What the webhook answers when a check throws: allow (default) or deny. */
  onError: 'allow' | 'deny';
}

/** What the request path needs, computed once at start-up. */
export interface CompiledConfig<C extends PolicyConfig = PolicyConfig> {
  config: C;
  checks: AnyCheck[];
  /** Action per policy ID for the active checks (`off` ones are not in `checks`). */
  actionOf: Map<string, Action>;
  exemptNamespaces: Set<string>;
  exemptUsernames: Set<string>;
  exemptGroups: Set<string>;
  /** One RegExp of all image globs, or undefined when there are none. */
  exemptImages: RegExp | undefined;
}

export function compileConfig<C extends PolicyConfig>(config: C): CompiledConfig<C> {
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
