// Helpers every check shares instead of re-implementing: the container walk, field paths,
// host-path normalisation, human-readable names.
import { isRecord, joinPath } from './subject.js';
import type { Finding, PodSubject } from './types.js';

export { isRecord, joinPath };

/**
 * The returned value of a check that found nothing. Shared and frozen: the common path allocates
 * nothing, and a caller that tried to append to it would fail loudly rather than leak findings.
 */
export const NO_FINDINGS: Finding[] = Object.freeze([]) as unknown as Finding[];

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
export const CONTAINER_LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface ContainerRef {
  /** The container object (a record; non-record entries are skipped). */
  readonly container: Record<string, unknown>;
  readonly list: ContainerList;
  readonly index: number;
  /** `name`, or `<list>[<index>]` when the container has no name. */
  readonly name: string;
  readonly image: string;
  /** Field path of the container, e.g. `spec.template.spec.initContainers[0]`. */
  readonly path: string;
}

/** A ContainerRef whose path is built on first read: most refs never end up in a finding. */
class WalkedContainer implements ContainerRef {
  #path: string | undefined;
  readonly #specPath: string;

  constructor(
    readonly container: Record<string, unknown>,
    readonly list: ContainerList,
    readonly index: number,
    readonly name: string,
    readonly image: string,
    specPath: string,
  ) {
    this.#specPath = specPath;
  }

  get path(): string {
    return (this.#path ??= joinPath(this.#specPath, `${this.list}[${this.index}]`));
  }
}

const NO_CONTAINERS: readonly ContainerRef[] = Object.freeze([]);

/**
 * The walks of the last few subjects, newest first. Kept beside the subject, not on it: adding a
 * property to a subject (Object.defineProperty) changes its hidden class through V8's runtime
 * (~0.4 µs per admission review), and a WeakMap entry per subject costs more still (its ephemeron
 * is traced by every young-generation collection). The checks of one evaluation ask one after
 * another, so the newest entry is nearly always the one; a subject that dropped out is walked
 * again (the same refs by value). At most RECENT_WALKS subjects are held, until newer ones replace
 * them or forgetWalks() (evaluateSubject calls it when done, so that a large review's object is not
 * kept alive by this cache).
 */
const RECENT_WALKS = 4;
const recentSubjects: (PodSubject | undefined)[] = new Array<PodSubject | undefined>(RECENT_WALKS).fill(undefined);
const recentWalks: (readonly ContainerRef[] | undefined)[] = new Array<readonly ContainerRef[] | undefined>(RECENT_WALKS).fill(undefined);

/**
 * Every container, init container and ephemeral container of the pod, in that order. Walked once
 * per subject and shared by every check that asks (a subject is a snapshot of one request's
 * object: nothing mutates it after toSubject).
 */
export function containersOf(subject: PodSubject): readonly ContainerRef[] {
  for (let i = 0; i < RECENT_WALKS; i++) if (recentSubjects[i] === subject) return recentWalks[i]!;
  const refs = walkContainers(subject);
  for (let i = RECENT_WALKS - 1; i > 0; i--) {
    recentSubjects[i] = recentSubjects[i - 1];
    recentWalks[i] = recentWalks[i - 1];
  }
  recentSubjects[0] = subject;
  recentWalks[0] = refs;
  return refs;
}

/** Drops the walks containersOf keeps (they are only a cache). */
export function forgetWalks(): void {
  for (let i = 0; i < RECENT_WALKS; i++) {
    recentSubjects[i] = undefined;
    recentWalks[i] = undefined;
  }
}

function walkContainers(subject: PodSubject): readonly ContainerRef[] {
  const spec = subject.spec;
  let out: ContainerRef[] | undefined;
  for (const list of CONTAINER_LISTS) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    for (let index = 0; index < items.length; index++) {
      const container: unknown = items[index];
      if (!isRecord(container)) continue;
      const name = typeof container.name === 'string' && container.name ? container.name : `${list}[${index}]`;
      const image = typeof container.image === 'string' ? container.image : '';
      (out ??= []).push(new WalkedContainer(container, list, index, name, image, subject.specPath));
    }
  }
  return out ?? NO_CONTAINERS;
}

/** Calls `visit` for every container, init container and ephemeral container of the pod. */
export function visitContainers(subject: PodSubject, visit: (ref: ContainerRef) => void): void {
  const refs = containersOf(subject);
  for (let i = 0; i < refs.length; i++) visit(refs[i]!);
}

/** What the securityContext helpers return for an absent one: read-only, shared, never allocated per call. */
const NO_SECURITY_CONTEXT: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** The container's securityContext as a record (a frozen `{}` when absent or null). */
export function securityContextOf(container: Record<string, unknown>): Record<string, unknown> {
  const sc = container.securityContext;
  return isRecord(sc) ? sc : NO_SECURITY_CONTEXT;
}

/** The pod-level securityContext as a record (a frozen `{}` when absent or null). */
export function podSecurityContextOf(subject: PodSubject): Record<string, unknown> {
  const sc = subject.spec.securityContext;
  return isRecord(sc) ? sc : NO_SECURITY_CONTEXT;
}

/** Noun for a container list in messages: `container`, `init container`, `ephemeral container`. */
export function containerNoun(list: ContainerList): string {
  return list === 'containers' ? 'container' : list === 'initContainers' ? 'init container' : 'ephemeral container';
}

/** `container "app"`, `init container "setup"`, … */
export function describeContainer(ref: ContainerRef): string {
  return `${containerNoun(ref.list)} ${JSON.stringify(ref.name)}`;
}

/**
 * Normalises a host path the way the kernel resolves it (without symlinks): collapses `//`,
 * resolves `.` and `..` (never above `/`), drops a trailing `/`. A relative path is taken
 * from `/`. `//etc/` → `/etc`, `/tmp/../etc` → `/etc`, `` → `/`.
 */
export function normaliseHostPath(path: string): string {
  // Most paths are already normal (`/var/log`): absolute, no empty, `.` or `..` component, no trailing `/`.
  if (path.charCodeAt(0) === 47 /* / */ && path.indexOf('//') < 0 && path.indexOf('/.') < 0 && (path.length === 1 || !path.endsWith('/'))) {
    return path;
  }
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** True when `a` equals `b` or lies under it (both normalised). */
export function isPathWithin(a: string, b: string): boolean {
  if (a === b) return true;
  if (b === '/') return true;
  return a.startsWith(b + '/');
}

/**
 * Any untrusted field value for a message, never throwing (`String({toString: 1})` throws): a
 * string quoted (`"Unmasked"`), a number or boolean as written (NaN and ±Infinity, which only YAML
 * can send, as YAML writes them: `.nan`, `.inf`), anything else as its JSON, clipped (`{"value":8080}`).
 */
export function quoteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (typeof value === 'boolean' || value === null) return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined; // nested too deep for the stack
  }
  if (text === undefined) return 'an unreadable value';
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Quotes and joins names for messages: `"a"`, `"a", "b"`. */
export function quoteList(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

/** `1 thing` / `2 things`. */
export function plural(count: number, singular: string, pluralForm = singular + 's'): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** `Deployment "web"`, or the bare kind when the object has no name (`object` when it has no kind). */
export function describeObject(ref: { kind: string; name: string }): string {
  const kind = ref.kind || 'object';
  return ref.name ? `${kind} ${JSON.stringify(ref.name)}` : kind;
}

/**
 * Memoises what a check derives from a config list (a Set, a matcher), keyed by the list array
 * itself: config lists are compiled once and never mutated, so the hot path only does a lookup.
 */
export function perList<T>(build: (list: readonly string[]) => T): (list: readonly string[]) => T {
  const cache = new WeakMap<readonly string[], T>();
  return (list) => {
    let value = cache.get(list);
    if (value === undefined) {
      value = build(list);
      cache.set(list, value);
    }
    return value;
  };
}

const NAME_TOKEN_SEPARATORS = /[-_./]+/;

/** Lower-cased tokens of a name, split at `-`, `_`, `.` and `/`: `XMR-Stak_cpu` → `xmr`, `stak`, `cpu`. */
export function nameTokens(text: string): string[] {
  const out: string[] = [];
  for (const part of text.toLowerCase().split(NAME_TOKEN_SEPARATORS)) if (part) out.push(part);
  return out;
}

/** Finds list names in a text as whole token runs (see compileTokenMatcher). */
export interface TokenMatcher {
  /** The first list name whose tokens occur as a contiguous run of the text's tokens, or undefined. */
  match(text: string): string | undefined;
}

/**
 * Compiles names into a matcher that compares token sequences, so that `xmr-stak` matches
 * `xmr_stak-cpu` and `my-headlamp` matches `headlamp`, but `miner` never matches `minecraft`.
 * Longer names are tried first, so the most specific name is the one reported.
 */
export function compileTokenMatcher(names: readonly string[]): TokenMatcher {
  const byFirst = new Map<string, { name: string; tokens: string[] }[]>();
  for (const name of names) {
    const tokens = nameTokens(name);
    if (tokens.length === 0) continue;
    const bucket = byFirst.get(tokens[0]!) ?? [];
    bucket.push({ name, tokens });
    bucket.sort((a, b) => b.tokens.length - a.tokens.length);
    byFirst.set(tokens[0]!, bucket);
  }
  return {
    match(text: string): string | undefined {
      if (byFirst.size === 0 || !text) return undefined;
      const tokens = nameTokens(text);
      for (let i = 0; i < tokens.length; i++) {
        const bucket = byFirst.get(tokens[i]!);
        if (!bucket) continue;
        for (const candidate of bucket) {
          const n = candidate.tokens.length;
          if (i + n > tokens.length) continue;
          let k = 1;
          while (k < n && tokens[i + k] === candidate.tokens[k]) k++;
          if (k === n) return candidate.name;
        }
      }
      return undefined;
    },
  };
}

const RBAC_SUBJECT_KINDS: ReadonlySet<unknown> = new Set(['User', 'Group', 'ServiceAccount']);

/**
 * An RBAC binding subject for messages: `User "alice"`, `ServiceAccount "ns/sa"`, `Group "devs"`;
 * another kind is quoted, as the untrusted text it is: `subject "x" of kind "Robot"`.
 */
export function describeRbacSubject(subject: unknown): string {
  if (!isRecord(subject)) return 'a malformed subject';
  const known = RBAC_SUBJECT_KINDS.has(subject.kind);
  const kind = known ? (subject.kind as string) : 'subject';
  const name = typeof subject.name === 'string' ? subject.name : '';
  const namespace = kind === 'ServiceAccount' && typeof subject.namespace === 'string' ? subject.namespace : '';
  const other = !known && typeof subject.kind === 'string' && subject.kind ? ` of kind ${JSON.stringify(subject.kind)}` : '';
  return `${kind} ${JSON.stringify(namespace ? `${namespace}/${name}` : name)}${other}`;
}
