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
 * One exception of a rule (Falco's `user_known_*` / exceptions): every field it gives must match
 * (any entry of that field, globs), e.g. `{users: [ci-bot], namespaces: [build]}` is ci-bot in build.
 */
export interface RuleException {
  users?: string[];
  groups?: string[];
  namespaces?: string[];
  names?: string[];
  images?: string[];
}

/** What an exception is matched against: the authenticated user, the object and (when known) the image. */
export interface ExceptionFacts {
  username?: string;
  groups?: readonly string[];
  namespace?: string;
  name?: string;
  image?: string;
}

interface CompiledException {
  users?: RegExp;
  groups?: RegExp;
  namespaces?: RegExp;
  names?: RegExp;
  images?: RegExp;
}

function anyOf(globs: string[] | undefined): RegExp | undefined {
  return globs === undefined ? undefined : globs.length === 0 ? /(?!)/ : new RegExp(globs.map((g) => globToRegExp(g).source).join('|'));
}

/** Per rule ID, its exceptions compiled to one RegExp per field. */
export function compileExceptions(exceptions: Record<string, RuleException[]> | undefined): Map<string, CompiledException[]> {
  const out = new Map<string, CompiledException[]>();
  for (const [id, list] of Object.entries(exceptions ?? {})) {
    out.set(
      id,
      list.map((e) => ({ users: anyOf(e.users), groups: anyOf(e.groups), namespaces: anyOf(e.namespaces), names: anyOf(e.names), images: anyOf(e.images) })),
    );
  }
  return out;
}

/**
 * Whether one of the rule's exceptions matches. A field the exception gives must match; a fact the
 * event lacks (no image in an audit rule, no user in an offline scan) never matches a field that asks for it.
 */
export function isExcepted(exceptions: Map<string, CompiledException[]>, id: string, facts: ExceptionFacts): boolean {
  const list = exceptions.get(id);
  if (list === undefined) return false;
  const test = (re: RegExp | undefined, value: string | undefined) => re === undefined || (value !== undefined && value !== '' && re.test(value));
  for (const e of list) {
    if (!test(e.users, facts.username)) continue;
    if (e.groups !== undefined && !(facts.groups ?? []).some((g) => e.groups!.test(g))) continue;
    if (!test(e.namespaces, facts.namespace)) continue;
    if (!test(e.names, facts.name)) continue;
    if (!test(e.images, facts.image)) continue;
    return true;
  }
  return false;
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
  /** Per rule ID (policy or alert type), the cases it does not fire on (`exceptions:`). */
  exceptions?: Record<string, RuleException[]>;
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
  /** Per-rule exceptions (`exceptions:`), compiled. */
  exceptions: Map<string, CompiledException[]>;
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
    exceptions: compileExceptions(config.exceptions),
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
        if (!byType.has(type))
          byType.set(
            type,
            checks.filter((c) => c.appliesTo.includes(type)),
          );
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
export function exemptionReason(compiled: CompiledConfig, namespace: string, user?: { username: string; groups: readonly string[] }): string | undefined {
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
