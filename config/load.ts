// Reads and validates the configuration file with the one schema (config/schema.ts). Every
// message names the file, the line, the key path and what was expected; all problems are
// reported together. Every command loads its configuration here, so all validate the whole file.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { isRecord } from '../core/record.js';
import { suggest } from '../core/suggest.js';
import { AUDIT_LIST_NAMES, DEFAULT_LISTS, resolveList, type ListSpec } from '../policies/lists.js';
import type { PolicyConfig } from '../policies/config.js';
import type { PolicyLists } from '../policies/types.js';
import { DEFAULT_MUTATIONS, KNOWN_KEYS_MARK, schemas, show, type SectionInput, type SectionName, type SectionOutput } from './schema.js';

export { ConfigError };

/**
 * The validated configuration. The policy keys are filled with their defaults; the sections
 * (server, store, api, audit, mutationDefaults) stay as written and validated: the module that
 * owns one reads it with `parseSection`, which converts units, and fills its own defaults.
 */
export interface BulwarkConfig extends PolicyConfig {
  mutations: string[];
  server: SectionInput<'server'>;
  store: SectionInput<'store'>;
  api: SectionInput<'api'>;
  audit: SectionInput<'audit'>;
  mutationDefaults: SectionInput<'mutationDefaults'>;
  /** Read by policies/tampering.ts (`tamperingSettingsOf`), which fills the defaults. */
  tampering: SectionInput<'tampering'>;
  /** Read by background/ (`backgroundSettingsOf`), which fills the defaults. */
  backgroundScan: SectionInput<'backgroundScan'>;
  reports: SectionInput<'reports'>;
  /** Threat-intelligence lists (audit/intel.ts). */
  intel?: SectionInput<'intel'>;
  /** `cluster.name`: the name alerts carry. */
  cluster?: SectionInput<'cluster'>;
  /** The service-account baseline (audit/anomaly.ts `anomalySettingsOf`). */
  anomaly?: SectionInput<'anomaly'>;
  /** Alert forwarding (alerts/notify.ts `notifySettingsOf`). */
  notify?: SectionInput<'notify'>;
  /** The folder of the config file, against which its relative paths resolve (unset: the working directory). */
  configDir?: string;
}

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
    tampering: {},
    backgroundScan: {},
    reports: {},
  };
}

/**
 * A copy of the default lists. The audit lists that `audit:` can also set are left out: they are
 * set only when the file names them under `lists:` (audit/config.ts then prefers them).
 */
function cloneLists(lists: Readonly<PolicyLists>): PolicyLists {
  const out: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(lists)) {
    if ((AUDIT_LIST_NAMES as readonly string[]).includes(name) || list === undefined) continue;
    out[name] = [...list];
  }
  return out as unknown as PolicyLists;
}

type Path = readonly PropertyKey[];

const A: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  null: 'empty',
};

/** Messages for the issues the schema leaves to the defaults (types, bounds). */
function defaultMessage(iss: { code: string; expected?: string; input?: unknown; minimum?: unknown; maximum?: unknown }): string | undefined {
  if (iss.code === 'invalid_type') return `must be ${A[iss.expected ?? ''] ?? iss.expected}, got ${show(iss.input)}`;
  if (iss.code === 'too_small') return `must be at least ${String(iss.minimum)}, got ${show(iss.input)}`;
  if (iss.code === 'too_big') return `must be at most ${String(iss.maximum)}, got ${show(iss.input)}`;
  return undefined;
}

/** Turns the schema's issues into one line each: `where: key.path: what was expected`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], where: (path: Path) => string, prefix: Path = []): string[] {
  const lines: string[] = [];
  const line = (path: Path, message: string) => {
    const full = [...prefix, ...path];
    lines.push(`${where(full)}: ${full.length ? full.map(String).join('.') + ': ' : ''}${message}`);
  };
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys' && iss.message.startsWith(KNOWN_KEYS_MARK)) {
      const known = iss.message.slice(KNOWN_KEYS_MARK.length).split(',');
      for (const key of iss.keys) {
        const hint = suggest(key, known);
        line([...iss.path, key], `unknown key (known keys: ${known.join(', ')})${hint ? `;${hint.replace(/^ \((.*)\)$/, ' $1')}` : ''}`);
      }
    } else line(iss.path, iss.message);
  }
  return lines;
}

function validate<S extends z.ZodType>(schema: S, raw: unknown) {
  return schema.safeParse(raw, { reportInput: true, error: (iss) => defaultMessage(iss as never) });
}

/**
 * Validates an already-parsed document (`raw`) against the whole schema. `where` names the
 * source (and line) of a key path. Throws one ConfigError listing every problem.
 */
export function validateConfig(raw: unknown, where: (path: Path) => string): BulwarkConfig {
  const config = defaultConfig();
  if (raw === null || raw === undefined) return config;
  if (!isRecord(raw)) throw new ConfigError(`${where([])}: the configuration must be a mapping of keys (profiles, defaultAction, …)`);
  // DESIGN.md's short form `notify: [sink, …]` is `notify: {sinks: [sink, …]}`; its lines are found where they are written.
  const notifyListed = Array.isArray(raw.notify);
  const doc: Record<string, unknown> = notifyListed ? { ...raw, notify: { sinks: raw.notify } } : raw;
  const located = notifyListed ? (path: Path) => where(path[0] === 'notify' && path[1] === 'sinks' ? ['notify', ...path.slice(2)] : path) : where;
  const result = validate(schemas().configSchema, doc);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, located).join('\n'));
  const v = result.data;
  if (v.profiles) config.profiles = v.profiles;
  if (v.defaultAction) config.defaultAction = v.defaultAction;
  if (v.actions) config.actions = v.actions;
  if (v.onError) config.onError = v.onError;
  if (v.mutations) config.mutations = v.mutations;
  if (v.exemptions) Object.assign(config.exemptions, v.exemptions);
  if (v.exceptions) config.exceptions = v.exceptions;
  if (v.lists) {
    const audit = (v.audit ?? {}) as Record<string, string[] | undefined>;
    for (const [name, spec] of Object.entries(v.lists) as [string, ListSpec | undefined][]) {
      if (spec === undefined) continue;
      // The older `audit.<name>` key is the base that a `lists.<name>: {append}` extends.
      const base = audit[name] ?? DEFAULT_LISTS[name] ?? [];
      config.lists[name] = resolveList(base, spec);
    }
  }
  for (const key of Object.keys(schemas().SECTIONS) as SectionName[]) {
    const section = doc[key];
    if (isRecord(section)) (config as unknown as Record<SectionName, unknown>)[key] = section;
  }
  return config;
}

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
  const where = (path: Path): string => {
    const keys = path.map((k) => (typeof k === 'symbol' ? String(k) : k));
    const node = keys.length ? doc.getIn(keys, true) : doc.contents;
    const offset = isNode(node) && node.range ? node.range[0] : undefined;
    const line = offset === undefined ? lineOfParent(doc, keys, lineCounter) : lineCounter.linePos(offset).line;
    return line ? `${source}:${line}` : source;
  };
  let raw: unknown;
  try {
    raw = doc.toJS(); // bounded: the yaml library refuses excessive alias expansion
  } catch (err) {
    throw new ConfigError(`${source}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return validateConfig(raw, where);
}

function lineOfParent(doc: Document, path: (string | number)[], lc: LineCounter): number | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The largest configuration file read (a ConfigMap holds at most 1 MiB). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads and validates the file named by --config (or none: the defaults). */
export function loadConfigFile(path: string | undefined): BulwarkConfig {
  if (!path) return defaultConfig();
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) throw new ConfigError(`${path}: the configuration is ${size} bytes, over the limit of ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${path}: cannot read the configuration: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const config = parseConfig(text, path);
  config.configDir = dirname(resolve(path));
  return config;
}

/**
 * One section, validated and with units converted (durations in ms, sizes in bytes). A section
 * from a loaded config has passed already; one built by hand (tests, embedders) is checked here,
 * with messages `source: section.key: …`.
 */
export function parseSection<K extends SectionName>(name: K, raw: unknown, source?: string): SectionOutput<K> {
  const result = validate(schemas().SECTIONS[name], raw ?? {});
  if (!result.success) {
    throw new ConfigError(
      formatIssues(result.error.issues, () => source ?? '', [name])
        .map((l) => (source ? l : l.replace(/^: /, '')))
        .join('\n'),
    );
  }
  return result.data as SectionOutput<K>;
}
